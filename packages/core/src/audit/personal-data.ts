/**
 * Defence in depth: recognisers for strings that look like personal values the audit
 * trail must never hold. They err on the side of refusing (a refused record fails the
 * access closed), so each one is narrow and cheap: a fast pre-check, then a regex.
 */
import { isIP } from 'node:net';

const V4_CANDIDATE = /(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d]|\.\d)/g;
// Runs of hex digits, colons and dots with at least two colons: every IPv6 form.
const V6_CANDIDATE = /[0-9A-Fa-f.]*:[0-9A-Fa-f.:]*:[0-9A-Fa-f.:]*/g;

/** True when `s` contains an IPv4 or IPv6 address (full, or written anywhere inside). */
export function containsIpAddress(s: string): boolean {
  if (s.includes('.') && /\d\.\d/.test(s)) {
    for (const m of s.matchAll(V4_CANDIDATE)) if (isIP(m[0]) === 4) return true;
  }
  if (s.indexOf(':') !== s.lastIndexOf(':')) {
    for (const m of s.matchAll(V6_CANDIDATE)) {
      const c = m[0].replace(/^\.+|\.+$/g, '');
      if (isIP(c) === 6) return true;
    }
  }
  return false;
}

const EMAIL = /[^\s@<>()[\]",;:]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/;

/** True when `s` contains something shaped like an email address. */
export function containsEmailAddress(s: string): boolean {
  return s.includes('@') && EMAIL.test(s);
}

// Date-only forms (a timestamp with a time of day is not a birthdate):
// YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD and DD-MM-YYYY / MM-DD-YYYY with - / or . .
const YMD = /(?<!\d)(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?!\d|T\d| \d{1,2}:)/g;
const DMY = /(?<!\d)(\d{1,2})([-/.])(\d{1,2})\2(\d{4})(?!\d)/g;
const MAX_AGE_YEARS = 130;

function pastCalendarDate(y: number, m: number, d: number, nowMs: number): boolean {
  if (m < 1 || m > 12 || d < 1 || d > 31) return false;
  const t = Date.UTC(y, m - 1, d);
  const check = new Date(t);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) return false;
  const now = new Date(nowMs);
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return t <= today && y >= now.getUTCFullYear() - MAX_AGE_YEARS;
}

/**
 * True when `s` contains a date without a time of day that lies in the past 130 years:
 * it could be somebody's date of birth. Future dates (a due date, an expiry) and full
 * timestamps are allowed.
 */
export function containsPossibleBirthDate(s: string, nowMs: number): boolean {
  if (!/\d[-/.]\d/.test(s)) return false;
  for (const m of s.matchAll(YMD)) {
    if (pastCalendarDate(Number(m[1]), Number(m[3]), Number(m[4]), nowMs)) return true;
  }
  for (const m of s.matchAll(DMY)) {
    const a = Number(m[1]);
    const b = Number(m[3]);
    const y = Number(m[4]);
    if (pastCalendarDate(y, b, a, nowMs) || pastCalendarDate(y, a, b, nowMs)) return true;
  }
  return false;
}

/** Attribute names that announce a birthdate whatever the value. */
export function isBirthDateName(name: string): boolean {
  return /birth|born|(?:^|[_.-])dob(?:$|[_.-])|^dob/i.test(name);
}
