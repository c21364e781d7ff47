import { describe, expect, it } from "vitest";
import { cronMatches, nextCronRun, parseCron } from "@/server/backups/cron";

const at = (s: string) => new Date(s); // local time (no Z)

describe("cron matcher (5 standard fields)", () => {
  it("matches *, numbers, ranges, lists and steps", () => {
    expect(cronMatches("* * * * *", at("2026-03-04T05:06:00"))).toBe(true);
    expect(cronMatches("30 2 * * *", at("2026-03-04T02:30:00"))).toBe(true);
    expect(cronMatches("30 2 * * *", at("2026-03-04T02:31:00"))).toBe(false);
    expect(cronMatches("*/15 * * * *", at("2026-03-04T02:45:00"))).toBe(true);
    expect(cronMatches("*/15 * * * *", at("2026-03-04T02:46:00"))).toBe(false);
    expect(cronMatches("0 9-17/4 * * *", at("2026-03-04T13:00:00"))).toBe(true);
    expect(cronMatches("0 9-17/4 * * *", at("2026-03-04T15:00:00"))).toBe(false);
    expect(cronMatches("0 0 1,15 * *", at("2026-03-15T00:00:00"))).toBe(true);
    expect(cronMatches("0 0 * 2 *", at("2026-03-01T00:00:00"))).toBe(false);
    expect(cronMatches("5/20 * * * *", at("2026-03-01T00:45:00"))).toBe(true);
  });

  it("day of week: 0 and 7 are Sunday; both day fields restricted means either", () => {
    // 2026-03-01 is a Sunday.
    expect(cronMatches("0 3 * * 0", at("2026-03-01T03:00:00"))).toBe(true);
    expect(cronMatches("0 3 * * 7", at("2026-03-01T03:00:00"))).toBe(true);
    expect(cronMatches("0 3 * * 1-5", at("2026-03-01T03:00:00"))).toBe(false);
    expect(cronMatches("0 3 13 * 5", at("2026-03-13T03:00:00"))).toBe(true); // the 13th (a Friday anyway)
    expect(cronMatches("0 3 13 * 1", at("2026-03-02T03:00:00"))).toBe(true); // a Monday, not the 13th
    expect(cronMatches("0 3 13 * 1", at("2026-03-03T03:00:00"))).toBe(false);
  });

  it("finds the next run", () => {
    expect(nextCronRun("30 2 * * *", at("2026-03-04T02:30:00"))).toEqual(at("2026-03-05T02:30:00"));
    expect(nextCronRun("0 0 29 2 *", at("2026-03-01T00:00:00"))).toEqual(at("2028-02-29T00:00:00"));
  });

  it("refuses what it does not understand, saying why", () => {
    expect(() => parseCron("* * * *")).toThrow(/5 fields/);
    expect(() => parseCron("60 * * * *")).toThrow(/minute field "60" is outside 0-59/);
    expect(() => parseCron("* * * JAN *")).toThrow(/month field/);
    expect(() => parseCron("*/0 * * * *")).toThrow(/outside/);
    expect(() => parseCron("5-1 * * * *")).toThrow(/outside/);
  });
});
