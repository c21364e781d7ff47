import os from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { cliActor } from "@/server/cli/commands/actor";

describe("who runs the CLI", () => {
  const saved = process.env.USER;
  afterEach(() => {
    if (saved === undefined) delete process.env.USER;
    else process.env.USER = saved;
  });

  it("is $USER when the shell sets it", () => {
    process.env.USER = "alice";
    expect(cliActor()).toBe("cli:alice");
  });

  it("is the process's account when $USER is unset (cron, systemd, su -c), not 'unknown'", () => {
    delete process.env.USER;
    expect(cliActor()).toBe(`cli:${os.userInfo().username}`);
    expect(cliActor()).not.toBe("cli:unknown");
  });
});
