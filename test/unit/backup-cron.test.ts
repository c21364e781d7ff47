import { describe, expect, it } from "vitest";
import { cronMatches, nextCronRun, parseCron, parseSavableCron } from "@/lib/backup/cron";

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

  it("finds the same next run as trying every minute in turn", () => {
    // The obvious search, minute by minute: slow, but plainly right.
    const byMinute = (expr: string, after: Date, limitMinutes: number): Date | null => {
      const spec = parseCron(expr);
      const t = new Date(after);
      t.setSeconds(0, 0);
      for (let i = 0; i < limitMinutes; i++) {
        t.setMinutes(t.getMinutes() + 1);
        if (cronMatches(spec, t)) return new Date(t);
      }
      return null;
    };
    const exprs = ["*/7 * * * *", "59 23 * * *", "0 0 1 * *", "15 4 * * 1-5", "0 12 13 * 5", "30 2 * * *", "0 */5 * 3,9 0", "5 0 31 * *"];
    const starts = [at("2026-01-31T23:59:30"), at("2026-02-28T12:00:00"), at("2026-03-29T01:59:00"), at("2026-10-25T02:30:00"), at("2026-12-31T23:59:00")];
    for (const expr of exprs) {
      for (const start of starts) {
        expect(nextCronRun(expr, start), `${expr} after ${start.toString()}`).toEqual(byMinute(expr, start, 370 * 24 * 60));
      }
    }
  });

  it("agrees with the minute walk across daylight-saving changes", () => {
    const zone = process.env.TZ;
    process.env.TZ = "Europe/Berlin"; // 2026-03-29 02:00 -> 03:00, 2026-10-25 03:00 -> 02:00
    try {
      const local = (y: number, mo: number, d: number, h: number, mi: number) => new Date(y, mo - 1, d, h, mi);
      // 02:30 does not exist on March 29th: the next 02:30 is the day after.
      expect(nextCronRun("30 2 * * *", local(2026, 3, 29, 0, 0))).toEqual(local(2026, 3, 30, 2, 30));
      expect(nextCronRun("0 3 * * *", local(2026, 3, 29, 0, 0))).toEqual(local(2026, 3, 29, 3, 0));
      // 02:30 happens twice on October 25th: the first one.
      expect(nextCronRun("30 2 * * *", local(2026, 10, 25, 0, 0))?.toISOString()).toBe("2026-10-25T00:30:00.000Z");
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  it("answers at once for a schedule that never runs, and refuses to save it", () => {
    const t = performance.now();
    expect(nextCronRun("0 0 30 2 *", at("2026-03-04T10:00:00"))).toBeNull();
    expect(nextCronRun("0 0 31 4,6,9,11 *", at("2026-03-04T10:00:00"))).toBeNull();
    // The minute-by-minute search took ~0.3 s for each of these; a day walk is far below that even when slow.
    expect(performance.now() - t).toBeLessThan(100);
    expect(() => parseSavableCron("0 0 30 2 *")).toThrow(/would never run/);
    expect(parseSavableCron("0 0 29 2 *").dayOfMonth).toEqual(new Set([29]));
    // Both day fields restricted means either: February 30th or any Monday of February runs.
    expect(nextCronRun("0 0 30 2 1", at("2026-03-04T10:00:00"))).toEqual(at("2027-02-01T00:00:00"));
  });

  it("refuses what it does not understand, saying why", () => {
    expect(() => parseCron("* * * *")).toThrow(/5 fields/);
    expect(() => parseCron("60 * * * *")).toThrow(/minute field "60" is outside 0-59/);
    expect(() => parseCron("* * * JAN *")).toThrow(/month field/);
    expect(() => parseCron("*/0 * * * *")).toThrow(/outside/);
    expect(() => parseCron("5-1 * * * *")).toThrow(/outside/);
  });
});
