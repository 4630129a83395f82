/**
 * ISO 8601 durations, the subset a privacy policy needs: `PnYnMnWnD` with an optional
 * `TnHnMnS` part (e.g. `P30D`, `P5Y`, `P1M`, `PT12H`). Fractions are not accepted:
 * retention and deadlines are whole units.
 *
 * Written by hand rather than pulled from a date library: the grammar is one regular
 * expression with no nested quantifiers (linear time), and the core stays dependency-light.
 */

const DURATION = /^P(?:(\d{1,4})Y)?(?:(\d{1,4})M)?(?:(\d{1,4})W)?(?:(\d{1,5})D)?(?:T(?:(\d{1,5})H)?(?:(\d{1,6})M)?(?:(\d{1,7})S)?)?$/;

/** A parsed ISO 8601 duration. */
export interface Duration {
  readonly years: number;
  readonly months: number;
  readonly weeks: number;
  readonly days: number;
  readonly hours: number;
  readonly minutes: number;
  readonly seconds: number;
}

/** Parses an ISO 8601 duration; returns undefined when it is not one (or is empty, like `P` or `PT`). */
export function parseDuration(text: string): Duration | undefined {
  if (typeof text !== 'string' || text.length > 40) return undefined;
  const m = DURATION.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return undefined;
  const n = (i: number): number => (m[i] === undefined ? 0 : Number(m[i]));
  return { years: n(1), months: n(2), weeks: n(3), days: n(4), hours: n(5), minutes: n(6), seconds: n(7) };
}

/**
 * Adds a duration to an instant, calendar-aware (months and years follow the UTC
 * calendar; a month added to 31 January lands on the last day of February).
 */
export function addDuration(start: Date, d: Duration): Date {
  const out = new Date(start.getTime());
  if (d.years || d.months) {
    const day = out.getUTCDate();
    out.setUTCDate(1);
    out.setUTCMonth(out.getUTCMonth() + d.years * 12 + d.months);
    const last = new Date(Date.UTC(out.getUTCFullYear(), out.getUTCMonth() + 1, 0)).getUTCDate();
    out.setUTCDate(Math.min(day, last));
  }
  const ms = ((((d.weeks * 7 + d.days) * 24 + d.hours) * 60 + d.minutes) * 60 + d.seconds) * 1000;
  return new Date(out.getTime() + ms);
}

/** Approximate length in seconds (years = 365 d, months = 30 d): for cookie lifetimes, not deadlines. */
export function durationSeconds(d: Duration): number {
  return ((((d.years * 365 + d.months * 30 + d.weeks * 7 + d.days) * 24 + d.hours) * 60 + d.minutes) * 60) + d.seconds;
}
