/**
 * Calendar dates without a time or a zone, and "what day is it in zone Z at instant T".
 *
 * A date of birth is a calendar date, not an instant: turning it into a `Date` would
 * attach a midnight in some zone and move the birthday by a day for half the planet.
 * So ages are computed from two calendar dates: the birth date as written, and the
 * date that `on` falls on in the zone the policy names.
 */
import { PurposekitError } from '../errors';

/** A calendar date (proleptic Gregorian): `month` 1–12, `day` 1–31. */
export interface PlainDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

/** True when `year` is a Gregorian leap year. */
export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** Number of days in `month` (1–12) of `year`. */
export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
}

/** Negative, zero or positive as `a` is before, on or after `b`. */
export function comparePlainDates(a: PlainDate, b: PlainDate): number {
  return a.year - b.year || a.month - b.month || a.day - b.day;
}

// Strict YYYY-MM-DD is exactly ten characters; anything longer is refused before any
// other work, so a megabyte string costs one length check.
const ISO_DATE_LENGTH = 10;

// The decimal number in value[from, to), or -1 if any character is not an ASCII digit
// (Number() and parseInt would accept signs, spaces, exponents or other scripts' digits).
function digits(value: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = value.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** The two ways a date can fail to be read, as error codes. */
export type DateShapeError = 'PURPOSEKIT_ERR_DOB_MALFORMED' | 'PURPOSEKIT_ERR_DOB_IMPOSSIBLE';

/**
 * Reads a strict `YYYY-MM-DD` string (ASCII digits only, no sign, no time, no spaces)
 * or checks a {@link PlainDate}-shaped object. Returns the error code instead of
 * throwing, so the request path builds at most one error.
 */
export function readPlainDate(value: unknown): PlainDate | DateShapeError {
  let year: number;
  let month: number;
  let day: number;
  if (typeof value === 'string') {
    if (value.length !== ISO_DATE_LENGTH || value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45) return 'PURPOSEKIT_ERR_DOB_MALFORMED';
    year = digits(value, 0, 4);
    month = digits(value, 5, 7);
    day = digits(value, 8, 10);
    if (year < 0 || month < 0 || day < 0) return 'PURPOSEKIT_ERR_DOB_MALFORMED';
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const v = value as Partial<Record<'year' | 'month' | 'day', unknown>>;
    if (!Number.isSafeInteger(v.year) || !Number.isSafeInteger(v.month) || !Number.isSafeInteger(v.day)) return 'PURPOSEKIT_ERR_DOB_MALFORMED';
    year = v.year as number;
    month = v.month as number;
    day = v.day as number;
  } else {
    return 'PURPOSEKIT_ERR_DOB_MALFORMED';
  }
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return 'PURPOSEKIT_ERR_DOB_IMPOSSIBLE';
  return { year, month, day };
}

/**
 * Reads a strict `YYYY-MM-DD` string (ASCII digits only, no sign, no time, no spaces)
 * into a {@link PlainDate}, or validates a {@link PlainDate} object.
 * @throws PurposekitError `PURPOSEKIT_ERR_DOB_MALFORMED` for any other shape;
 *   `PURPOSEKIT_ERR_DOB_IMPOSSIBLE` for a month or day that does not exist (2023-02-30,
 *   month 13, day 0). Neither error carries the value.
 */
export function toPlainDate(value: unknown): PlainDate {
  const date = readPlainDate(value);
  if (typeof date === 'string') throw new PurposekitError(date);
  return date;
}

/** The default zone that decides "today": UTC. */
export const DEFAULT_TIME_ZONE = 'UTC';

// One formatter per zone, created on first use: building an Intl.DateTimeFormat costs
// tens of microseconds, formatting with one costs about one. The last answer is kept
// per zone for the current second (every tzdb offset is a whole number of seconds,
// so a local midnight always falls on a whole UTC second): requests arriving in the
// same second skip Intl entirely.
interface ZoneEntry {
  readonly format: Intl.DateTimeFormat;
  // With the era part: only for instants near or before year 1, where a bare year is
  // ambiguous. Asking for the era always would cost ~0.7 µs more per formatToParts.
  withEra: Intl.DateTimeFormat | undefined;
  second: number;
  date: PlainDate | undefined;
}

// 0002-01-01T00:00:00Z: from here on no zone (offsets are under a day) is in year 0 or before.
const YEAR_2_START_MS = -62104060800000;

// Zones come from configuration, but computeAge is public and a caller could feed it
// many distinct strings; the bound keeps a misuse from growing memory without limit.
const MAX_CACHED_ZONES = 64;
const zones = new Map<string, ZoneEntry>();

function zoneEntry(timeZone: string): ZoneEntry {
  let entry = zones.get(timeZone);
  if (entry !== undefined) return entry;
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', formatOptions(timeZone, false));
  } catch (cause) {
    throw new PurposekitError(
      'PURPOSEKIT_ERR_INVALID_OPTION',
      `timeZone: ${JSON.stringify(timeZone)} is not an IANA time zone this Node.js knows (e.g. "UTC", "Europe/Berlin", "America/Los_Angeles").`,
      { cause, details: { option: 'timeZone' } },
    );
  }
  if (zones.size >= MAX_CACHED_ZONES) zones.clear();
  entry = { format, withEra: undefined, second: Number.NaN, date: undefined };
  zones.set(timeZone, entry);
  return entry;
}

function formatOptions(timeZone: string, era: boolean): Intl.DateTimeFormatOptions {
  return {
    timeZone,
    calendar: 'gregory',
    numberingSystem: 'latn',
    ...(era ? { era: 'short' as const } : {}),
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
  };
}

/**
 * Checks that `timeZone` is an IANA zone and warms its formatter.
 * @throws PurposekitError `PURPOSEKIT_ERR_INVALID_OPTION` when it is not.
 */
export function assertTimeZone(timeZone: unknown): asserts timeZone is string {
  if (typeof timeZone !== 'string' || timeZone.length === 0 || timeZone.length > 64) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `timeZone must be an IANA time zone name such as "UTC" or "Europe/Berlin"; got ${describe(timeZone)}.`, {
      details: { option: 'timeZone' },
    });
  }
  zoneEntry(timeZone);
}

/**
 * The calendar date that the instant `on` falls on in `timeZone`.
 * @throws PurposekitError `PURPOSEKIT_ERR_INVALID_OPTION` for an invalid `on` or zone.
 */
export function plainDateIn(on: Date, timeZone: string): PlainDate {
  const ms = on instanceof Date ? on.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', '`on` must be a valid Date.', { details: { option: 'on' } });
  }
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') {
    return { year: on.getUTCFullYear(), month: on.getUTCMonth() + 1, day: on.getUTCDate() };
  }
  const entry = zoneEntry(timeZone);
  const second = Math.floor(ms / 1000);
  if (entry.second === second && entry.date !== undefined) return entry.date;
  let year = 0;
  let month = 0;
  let day = 0;
  let bc = false;
  const format = ms >= YEAR_2_START_MS ? entry.format : (entry.withEra ??= new Intl.DateTimeFormat('en-US', formatOptions(timeZone, true)));
  for (const part of format.formatToParts(ms)) {
    switch (part.type) {
      case 'year':
        year = Number(part.value);
        break;
      case 'month':
        month = Number(part.value);
        break;
      case 'day':
        day = Number(part.value);
        break;
      case 'era':
        bc = part.value === 'BC';
        break;
      default:
        break;
    }
  }
  // Intl counts years before year 1 by era (1 BC, 2 BC…); astronomical numbering
  // (0, -1…) is what the leap-year rule and subtraction expect.
  const date: PlainDate = { year: bc ? 1 - year : year, month, day };
  entry.second = second;
  entry.date = date;
  return date;
}

/** A short, value-free description of a bad option, for configuration errors. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'undefined') return String(value);
  return `a value of type ${typeof value}`;
}
