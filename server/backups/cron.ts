import { CanopyError } from "@/lib/errors";

/**
 * A small matcher for standard 5-field cron strings: minute hour day-of-month month day-of-week. Each field is
 * `*`, a number, a range `a-b`, a list `a,b,c`, and any of those with a step `/n`. Day-of-week 0 and 7 are
 * Sunday. As in Vixie cron, when both day fields are restricted a day matches if either does. No names
 * (JAN, MON) and no `@daily`-style shortcuts.
 */

export interface CronSpec {
  minute: Set<number>;
  hour: Set<number>;
  dayOfMonth: Set<number>;
  month: Set<number>;
  dayOfWeek: Set<number>;
  domRestricted: boolean;
  dowRestricted: boolean;
}

const RANGES: Array<[string, number, number]> = [
  ["minute", 0, 59],
  ["hour", 0, 23],
  ["day of month", 1, 31],
  ["month", 1, 12],
  ["day of week", 0, 7],
];

export function parseCron(expr: string): CronSpec {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5) throw bad(expr, `needs 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`);
  const sets = parts.map((p, i) => parseField(expr, p, RANGES[i]!));
  const dow = new Set([...sets[4]!].map((d) => (d === 7 ? 0 : d)));
  return {
    minute: sets[0]!,
    hour: sets[1]!,
    dayOfMonth: sets[2]!,
    month: sets[3]!,
    dayOfWeek: dow,
    domRestricted: parts[2] !== "*",
    dowRestricted: parts[4] !== "*",
  };
}

function parseField(expr: string, field: string, [name, min, max]: [string, number, number]): Set<number> {
  const out = new Set<number>();
  for (const item of field.split(",")) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
    if (!m) throw bad(expr, `the ${name} field "${field}" is not understood`);
    const step = m[4] ? Number(m[4]) : 1;
    let lo = min;
    let hi = max;
    if (m[1] !== "*") {
      lo = Number(m[2]);
      hi = m[3] !== undefined ? Number(m[3]) : m[4] ? max : lo;
    }
    if (step < 1 || lo < min || hi > max || lo > hi) throw bad(expr, `the ${name} field "${field}" is outside ${min}-${max}`);
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

function bad(expr: string, why: string): CanopyError {
  return new CanopyError("invalid-input", `schedule "${expr}" is not a cron expression: ${why}`);
}

/** Whether the minute containing `at` (local time) matches. */
export function cronMatches(spec: CronSpec | string, at: Date): boolean {
  const s = typeof spec === "string" ? parseCron(spec) : spec;
  if (!s.minute.has(at.getMinutes()) || !s.hour.has(at.getHours()) || !s.month.has(at.getMonth() + 1)) return false;
  const dom = s.dayOfMonth.has(at.getDate());
  const dow = s.dayOfWeek.has(at.getDay());
  if (s.domRestricted && s.dowRestricted) return dom || dow;
  return dom && dow;
}

/** The next matching minute strictly after `after` (searches up to ~4 years); null if none. */
export function nextCronRun(spec: CronSpec | string, after: Date): Date | null {
  const s = typeof spec === "string" ? parseCron(spec) : spec;
  const t = new Date(after);
  t.setSeconds(0, 0);
  for (let i = 0; i < 4 * 366 * 24 * 60; i++) {
    t.setMinutes(t.getMinutes() + 1);
    if (cronMatches(s, t)) return new Date(t);
  }
  return null;
}

/** When a stored schedule runs next, as the dashboard tells it. */
export type ScheduleOutlook =
  | { state: "none" }
  | { state: "scheduled"; schedule: string; at: string }
  /** A valid expression that matches no minute in the next four years (February 30th, say). */
  | { state: "never"; schedule: string }
  /** Stored before validation existed, or written to the database by hand: the worker skips it. */
  | { state: "invalid"; schedule: string; message: string };

/** A bad stored schedule is an answer here, not an error: a page showing it must not fail because of it. */
export function scheduleOutlook(schedule: string | null, now: Date): ScheduleOutlook {
  if (!schedule) return { state: "none" };
  let at: Date | null;
  try {
    at = nextCronRun(schedule, now);
  } catch (err) {
    if (err instanceof CanopyError) return { state: "invalid", schedule, message: err.message };
    throw err;
  }
  return at ? { state: "scheduled", schedule, at: at.toISOString() } : { state: "never", schedule };
}
