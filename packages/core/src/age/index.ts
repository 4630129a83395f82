/**
 * Age gates (issue 4): age from a date of birth across zones and leap years, strict
 * date-of-birth validation, the GDPR Art. 8 table, per-request minimum ages, the signed
 * lockout cookie, and the compiled gate adapters call. Explicit exports only.
 */
export { computeAge, leapDayRule } from './compute-age';
export type { ComputeAgeOptions, LeapDayRule } from './compute-age';
export { parseDateOfBirth, MAX_PLAUSIBLE_AGE } from './parse-date-of-birth';
export type { ParseDateOfBirthOptions } from './parse-date-of-birth';
export { isLeapYear, daysInMonth, comparePlainDates, plainDateIn, toPlainDate, DEFAULT_TIME_ZONE } from './plain-date';
export type { PlainDate } from './plain-date';
export { GDPR_ART8_AGES, GDPR_ART8_DEFAULT, GDPR_ART8_AS_OF } from './gdpr-article-8';
export { minimumAgeFor, normaliseCountry } from './minimum-age';
export type { MinimumAgeContext } from './minimum-age';
export {
  createLockoutCookie,
  DEFAULT_LOCKOUT_COOKIE_NAME,
  MIN_LOCKOUT_KEY_BYTES,
  MAX_LOCKOUT_ENTRIES,
  MAX_LOCKOUT_GATE_BYTES,
} from './lockout-cookie';
export type { LockoutCookie, LockoutCookieOptions, LockoutEntries, LockoutSecret } from './lockout-cookie';
export { compileAgeGate } from './compile-age-gate';
export type {
  AgeGateOptions,
  ResolvedAgeGateOptions,
  AgeGateCheckInput,
  AgeGateAudit,
  AgeGateOutcome,
  CompiledAgeGate,
} from './compile-age-gate';
