import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { processAlive } from "@/lib/proc/process-alive";

describe("processAlive", () => {
  it("counts a zombie as gone, a running process as alive", async () => {
    // The short sleep's parent becomes the long sleep (exec), which never reaps it: a zombie for 5 s.
    const parent = spawn("sh", ["-c", "sleep 0.05 & echo $!; exec sleep 5"], { stdio: ["ignore", "pipe", "ignore"] });
    try {
      const zombie = Number((await new Promise<Buffer>((r) => parent.stdout.once("data", r))).toString().trim());
      await new Promise((r) => setTimeout(r, 300));
      const stat = readFileSync(`/proc/${zombie}/stat`, "utf8");
      expect(stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3)).toBe("Z");
      expect(processAlive(zombie)).toBe(false);
      expect(processAlive(parent.pid)).toBe(true);
      expect(processAlive(process.pid)).toBe(true);
      expect(processAlive(null)).toBe(false);
    } finally {
      parent.kill("SIGKILL");
    }
  });
});
