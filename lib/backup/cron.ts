import { CanopyError } from "../errors";

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
  return s.minute.has(at.getMinutes()) && s.hour.has(at.getHours()) && dayMatches(s, at);
}

/** How far ahead nextCronRun looks: past a leap day, so "0 0 29 2 *" is found, and no further. */
const SEARCH_DAYS = 4 * 366 + 1;

/**
 * The next matching minute strictly after `after` (local time, searching about four years ahead); null if
 * none. It walks days and tries only the schedule's own hours and minutes on the days that match, so a
 * schedule that never matches (February 30th) costs ~1,500 day checks, not two million minute checks: the
 * disk page asks this on every load.
 */
export function nextCronRun(spec: CronSpec | string, after: Date): Date | null {
  const s = typeof spec === "string" ? parseCron(spec) : spec;
  const hours = [...s.hour].sort((a, b) => a - b);
  const minutes = [...s.minute].sort((a, b) => a - b);
  const day = new Date(after.getFullYear(), after.getMonth(), after.getDate());
  for (let i = 0; i < SEARCH_DAYS; i++, day.setDate(day.getDate() + 1)) {
    if (!dayMatches(s, day)) continue;
    for (const h of hours) {
      for (const m of minutes) {
        const t = new Date(day.getFullYear(), day.getMonth(), day.getDate(), h, m);
        // A time in a daylight-saving gap comes back shifted to another hour: no run then, as the worker,
        // which checks each minute it lives through, would not start one either.
        if (t > after && t.getHours() === h && t.getMinutes() === m) return t;
      }
    }
  }
  return null;
}

function dayMatches(s: CronSpec, day: Date): boolean {
  if (!s.month.has(day.getMonth() + 1)) return false;
  const dom = s.dayOfMonth.has(day.getDate());
  const dow = s.dayOfWeek.has(day.getDay());
  return s.domRestricted && s.dowRestricted ? dom || dow : dom && dow;
}

/**
 * Parses a schedule about to be saved and refuses one that is valid cron but never runs (February 30th,
 * April 31st): saved, it would silently never back anything up.
 */
export function parseSavableCron(expr: string, now = new Date()): CronSpec {
  const spec = parseCron(expr);
  if (!nextCronRun(spec, now)) {
    throw new CanopyError("invalid-input", `schedule "${expr}" would never run: no day matches it (a date that does not exist, such as February 30th)`);
  }
  return spec;
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
/** The next run as the dashboard shows it: the schedule's outlook, and whether a per-disk override set it. */
export type NextRun = ScheduleOutlook & { fromOverride: boolean };

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
