import { PurposekitError } from '../errors';
import { DEFAULT_TIME_ZONE, comparePlainDates, isLeapYear, plainDateIn, toPlainDate } from './plain-date';
import type { PlainDate } from './plain-date';

/** Which day counts as the birthday of someone born on 29 February, in a non-leap year. */
export type LeapDayRule = 'mar-1' | 'feb-28';

/** Options for {@link computeAge}. */
export interface ComputeAgeOptions {
  /** IANA zone whose calendar decides what "today" is. Default `'UTC'`. */
  timeZone?: string;
  /**
   * Birthday of a 29 February birth in a non-leap year. Default `'mar-1'`: the later,
   * more protective reading (the year is not complete until 28 February has fully
   * passed). `'feb-28'` is the earlier reading, for where the applicable law says so.
   */
  leapDay?: LeapDayRule;
}

/**
 * Age in completed years of someone born on `dateOfBirth`, at the instant `on` as seen
 * in `options.timeZone`. Someone born on 29 February reaches each new age on 1 March
 * in non-leap years (or on 28 February with `leapDay: 'feb-28'`).
 *
 * Pure and synchronous; formatters are created once per zone and cached.
 *
 * @param dateOfBirth strict `YYYY-MM-DD` string or a {@link PlainDate}.
 * @param on the instant at which the age is wanted (usually "now").
 * @returns a whole number ≥ 0.
 * @throws PurposekitError `PURPOSEKIT_ERR_DOB_MALFORMED` / `PURPOSEKIT_ERR_DOB_IMPOSSIBLE`
 *   for a date that is not well-formed or does not exist; `PURPOSEKIT_ERR_DOB_FUTURE` when
 *   it is after the date of `on` in the zone (an age would be negative);
 *   `PURPOSEKIT_ERR_INVALID_OPTION` for an invalid `on`, zone or leap-day rule.
 */
export function computeAge(dateOfBirth: string | PlainDate, on: Date, options?: ComputeAgeOptions): number {
  const leapDay = leapDayRule(options?.leapDay);
  const birth = toPlainDate(dateOfBirth);
  const today = plainDateIn(on, options?.timeZone ?? DEFAULT_TIME_ZONE);
  return ageBetween(birth, today, leapDay);
}

/**
 * The leap-day rule, defaulted and checked.
 * @throws PurposekitError `PURPOSEKIT_ERR_INVALID_OPTION` for anything but the two rules.
 */
export function leapDayRule(value: unknown): LeapDayRule {
  if (value === undefined || value === 'mar-1') return 'mar-1';
  if (value === 'feb-28') return 'feb-28';
  throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `leapDay must be 'mar-1' or 'feb-28'.`, { details: { option: 'leapDay' } });
}

/**
 * Completed years from `birth` to `today` (both calendar dates). Internal: inputs are
 * already validated (see {@link leapDayRule}).
 * @throws PurposekitError `PURPOSEKIT_ERR_DOB_FUTURE` when `birth` is after `today`.
 */
export function ageBetween(birth: PlainDate, today: PlainDate, leapDay: LeapDayRule): number {
  if (comparePlainDates(birth, today) > 0) throw new PurposekitError('PURPOSEKIT_ERR_DOB_FUTURE');
  let birthdayMonth = birth.month;
  let birthdayDay = birth.day;
  if (birth.month === 2 && birth.day === 29 && !isLeapYear(today.year)) {
    if (leapDay === 'feb-28') {
      birthdayDay = 28;
    } else {
      birthdayMonth = 3;
      birthdayDay = 1;
    }
  }
  const beforeBirthday = today.month < birthdayMonth || (today.month === birthdayMonth && today.day < birthdayDay);
  return today.year - birth.year - (beforeBirthday ? 1 : 0);
}
