import { PurposekitError } from '../errors';
import { ageBetween, leapDayRule } from './compute-age';
import type { LeapDayRule } from './compute-age';
import { DEFAULT_TIME_ZONE, comparePlainDates, plainDateIn, readPlainDate } from './plain-date';
import type { PlainDate } from './plain-date';

/** The oldest age accepted as plausible; a date of birth implying more is refused. */
export const MAX_PLAUSIBLE_AGE = 130;

/** Options for {@link parseDateOfBirth}. */
export interface ParseDateOfBirthOptions {
  /** IANA zone whose calendar decides "today" (for the future and plausibility checks). Default `'UTC'`. */
  timeZone?: string;
  /** Leap-day rule used for the plausibility age. Default `'mar-1'`. */
  leapDay?: LeapDayRule;
}

/**
 * Validates a date of birth taken from a request. Accepts only a strict `YYYY-MM-DD`
 * string.
 *
 * Errors carry the catalog's neutral message and no details: never the value, so a
 * log line of the error cannot leak a birthdate.
 *
 * @returns the date as a {@link PlainDate}.
 * @throws PurposekitError with exactly one of:
 *   - `PURPOSEKIT_ERR_DOB_MISSING`: `undefined`, `null` or `''`;
 *   - `PURPOSEKIT_ERR_DOB_MALFORMED`: any other shape (numbers, arrays, objects, `Date`s,
 *     times, signs, spaces, non-ASCII digits, strings longer than ten characters);
 *   - `PURPOSEKIT_ERR_DOB_IMPOSSIBLE`: a date that does not exist (2023-02-30, month 13);
 *   - `PURPOSEKIT_ERR_DOB_FUTURE`: after today in the zone;
 *   - `PURPOSEKIT_ERR_DOB_IMPLAUSIBLE`: an age over {@link MAX_PLAUSIBLE_AGE} years.
 *   `PURPOSEKIT_ERR_INVALID_OPTION` for an invalid `on` or zone.
 */
export function parseDateOfBirth(value: unknown, on: Date, options?: ParseDateOfBirthOptions): PlainDate {
  const leapDay = leapDayRule(options?.leapDay);
  const today = plainDateIn(on, options?.timeZone ?? DEFAULT_TIME_ZONE);
  const result = checkDateOfBirth(value, today, leapDay);
  if (typeof result === 'string') throw new PurposekitError(result);
  return result;
}

/** The `PURPOSEKIT_ERR_DOB_*` codes. */
export type DateOfBirthError =
  | 'PURPOSEKIT_ERR_DOB_MISSING'
  | 'PURPOSEKIT_ERR_DOB_MALFORMED'
  | 'PURPOSEKIT_ERR_DOB_IMPOSSIBLE'
  | 'PURPOSEKIT_ERR_DOB_FUTURE'
  | 'PURPOSEKIT_ERR_DOB_IMPLAUSIBLE';

/**
 * {@link parseDateOfBirth} against an already-known "today", returning the error code
 * instead of throwing (the gate's request path then builds exactly one error).
 */
export function checkDateOfBirth(value: unknown, today: PlainDate, leapDay: LeapDayRule): PlainDate | DateOfBirthError {
  if (value === undefined || value === null || value === '') return 'PURPOSEKIT_ERR_DOB_MISSING';
  // Only a string: a JSON body could otherwise smuggle in `{year, month, day}` objects,
  // arrays or numbers that some other layer would read differently.
  if (typeof value !== 'string') return 'PURPOSEKIT_ERR_DOB_MALFORMED';
  const birth = readPlainDate(value);
  if (typeof birth === 'string') return birth;
  if (comparePlainDates(birth, today) > 0) return 'PURPOSEKIT_ERR_DOB_FUTURE';
  if (ageBetween(birth, today, leapDay) > MAX_PLAUSIBLE_AGE) return 'PURPOSEKIT_ERR_DOB_IMPLAUSIBLE';
  return birth;
}
