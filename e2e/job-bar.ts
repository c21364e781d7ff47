import { expect, type Page } from "@playwright/test";

// What a job's bar showed while a test watched it: every state the page drew, recorded in the page itself, and
// the check that the bar showed progress while the job ran (not just its start and its end).

/** One state of a job's bar as the page drew it: its job state, the bar's percentage, the bytes line. */
export interface JobBarShown {
  state: string | null;
  percent: number | null;
  bytes: string | null;
}

/**
 * Records every state the job bar `testId` goes through, from now on: a MutationObserver in the page notes each
 * change as the page draws it, so a state shown between two of the test's own reads is not missed (a loaded
 * machine can leave a second between them). Returns a function that reads the states so far, in order.
 */
export async function recordJobBar(page: Page, testId: string): Promise<() => Promise<JobBarShown[]>> {
  await page.evaluate((id) => {
    const shown: JobBarShown[] = [];
    const note = () => {
      const bar = document.querySelector(`[data-testid="${id}"]`);
      if (!bar) return;
      const value = bar.querySelector('[role="progressbar"]')?.getAttribute("aria-valuenow");
      const now: JobBarShown = {
        state: bar.getAttribute("data-job-state"),
        percent: value === null || value === undefined ? null : Number(value),
        bytes: bar.querySelector('[data-testid="job-bytes"]')?.textContent ?? null,
      };
      const last = shown[shown.length - 1];
      if (!last || last.state !== now.state || last.percent !== now.percent || last.bytes !== now.bytes) shown.push(now);
    };
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    note();
    Object.assign(window, { [`e2eJobBar:${id}`]: shown });
  }, testId);
  return () => page.evaluate((id) => (window as unknown as Record<string, JobBarShown[]>)[`e2eJobBar:${id}`]!, testId);
}

/** The bar showed the job running with some, not all, of its bytes copied. */
const showsProgress = (s: JobBarShown): boolean => s.state === "running" && s.percent !== null && s.percent > 0 && s.percent < 100;
const showsEnd = (s: JobBarShown): boolean => s.state !== null && !["queued", "running"].includes(s.state);

/** Waits until the bar shows progress, or the job's end (which expectProgressShown then judges). */
export async function progressOrEnd(shown: () => Promise<JobBarShown[]>): Promise<void> {
  await expect.poll(async () => (await shown()).some((s) => showsProgress(s) || showsEnd(s)), { timeout: 30_000, intervals: [100] }).toBe(true);
}

/**
 * Fails unless the bar showed progress (running, strictly between 0 and 100%, the bytes line saying so) before
 * the job ended: a bar that jumped from the start to "done" shows no progress.
 */
export function expectProgressShown(shown: JobBarShown[], total: string): void {
  const ended = shown.findIndex(showsEnd);
  const whileRunning = shown.slice(0, ended === -1 ? shown.length : ended);
  const progress = whileRunning.filter(showsProgress);
  expect(progress.length, `the bar showed progress before the job ended; it showed ${JSON.stringify(shown)}`).toBeGreaterThan(0);
  for (const s of progress) {
    const [, done, percent] = /^(.+) of (?:.+?)\s*(\d+)%$/.exec(s.bytes ?? "") ?? [];
    expect(s.bytes, "the bytes line names the total").toContain(` of ${total}`);
    expect([done !== "0 B", Number(percent)], `the bytes line agrees with the bar: ${s.bytes}`).toEqual([true, s.percent]);
  }
}
