import { describe, expect, it } from "vitest";
import { startedByText } from "@/components/actions/job-requester";
import { outsideJobBusyText, outsideJobToShow } from "@/components/disk-tree/outside-job";
import type { DiskJob } from "@/server/disk-activity";

const job = (id: string, over: Partial<DiskJob> = {}): DiskJob => ({
  id,
  kind: "merge-down",
  summary: "Merge B1 down into B0",
  requestedBy: "cli:alice",
  state: "running",
  ...over,
});

describe("who started a job", () => {
  it("names the CLI's shell user, the backup schedule, or the dashboard user", () => {
    expect(startedByText("cli:alice")).toBe("started from the CLI by alice");
    expect(startedByText("cli:unknown")).toBe("started from the CLI");
    expect(startedByText("cli")).toBe("started from the CLI");
    expect(startedByText("schedule")).toBe("started by the backup schedule");
    expect(startedByText("admin")).toBe("started by admin");
    expect(startedByText("")).toBe("started by someone unknown");
  });
});

describe("the job started elsewhere that the disk page shows", () => {
  it("is the one holding the disk, unless the tab started it itself or it was dismissed", () => {
    expect(outsideJobToShow(job("j1"), null, [])).toEqual(job("j1"));
    expect(outsideJobToShow(job("own"), null, ["own"])).toBeNull();
    expect(outsideJobToShow(null, null, [])).toBeNull();
  });

  it("stays, with its outcome, after it lets go of the disk, until dismissed or another job holds the disk", () => {
    const ended = job("j1");
    expect(outsideJobToShow(null, ended, [])).toBe(ended);
    expect(outsideJobToShow(null, ended, ["j1"])).toBeNull();
    expect(outsideJobToShow(job("j2"), ended, [])).toEqual(job("j2"));
    // The tab's own next job takes the disk: the last outside one's outcome still shows beside it.
    expect(outsideJobToShow(job("own"), ended, ["own"])).toBe(ended);
  });

  it("keeps the actions off with a sentence naming the job and who started it", () => {
    expect(outsideJobBusyText(job("j1"))).toBe(
      "A merge-down job started from the CLI by alice holds this disk: Merge B1 down into B0. Its actions come back when it ends.",
    );
    expect(outsideJobBusyText(job("j2", { kind: "backup", summary: null, requestedBy: "schedule" }))).toBe(
      "A backup job started by the backup schedule holds this disk. Its actions come back when it ends.",
    );
  });
});
