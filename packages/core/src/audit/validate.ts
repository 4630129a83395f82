/**
 * Validation of events before they are sequenced: shape, limits, and the refusal of
 * strings that look like personal values. A refused event is never written.
 */
import { PurposekitError } from '../errors';
import { containsEmailAddress, containsIpAddress, containsPossibleBirthDate, isBirthDateName } from './personal-data';
import type { AuditEventInput } from './types';

/** `hmac-sha256:<keyId>:<64 lower-case hex>`, as `createSubjectPseudonymizer` makes them. */
export const SUBJECT_PSEUDONYM_PATTERN = /^hmac-sha256:[A-Za-z0-9._-]{1,32}:[0-9a-f]{64}$/;

/** Longest string field, in UTF-16 code units. */
export const MAX_AUDIT_STRING = 256;
const MAX_CATEGORY = 64;
const MAX_CATEGORIES = 64;
const MAX_ATTRIBUTES = 32;
const ATTRIBUTE_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
// C0/C1 controls and lone surrogates: they break terminals, CSV and RFC 8785 (I-JSON).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const BAD_CHARS = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const KINDS = new Set(['access', 'consent', 'age-gate', 'rights', 'retention']);
const FIELDS = new Set(['kind', 'actor', 'subject', 'data', 'action', 'purpose', 'basis', 'policy', 'requestId', 'decision', 'reason', 'recipient', 'attributes']);

function reject(field: string, rule: string, hint: string): never {
  throw new PurposekitError('PURPOSEKIT_ERR_AUDIT_REJECTED', `Audit event refused: "${field}" ${hint} (rule ${rule}). Nothing was written.`, {
    details: { field, rule },
  });
}

// Strings that passed every check and hold nothing date-like, so that no later clock can
// change their verdict. Actors, purposes, bases, actions and categories repeat on almost
// every record: this turns ≈ 1.5 µs of regex work per event into a few Set lookups.
// Per-record values (requestId, attribute values) are not cached: they would only evict.
const PASSED = new Set<string>();
// Policy versions that passed every check but the birthdate rule, which does not apply
// to them: a version is often a date ("2024-06"), which PASSED never holds.
const VERSIONS = new Set<string>();
// Subjects recur (one person, many records): a hit skips the 100-character regex.
const PSEUDONYMS = new Set<string>();
const PASSED_MAX = 4096;
const CACHEABLE_LENGTH = 64; // the shortest limit of any field, so a hit is valid for all
const DATE_LIKE = /\d[-/.]\d/;

/**
 * True for a UUID-shaped string (8-4-4-4-12 hex digits: request ids, ours by default and
 * most frameworks'). Such a string cannot hold what checkString refuses: no control
 * character, no `.`, `:` or `@` (so no IP or email address), and no date (every date
 * form needs a 1–2 digit group between two separators; a UUID's groups are 4+ long).
 * One pass over 36 characters instead of five regular expressions.
 */
export function isUuidShaped(s: string): boolean {
  if (s.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70))) return false;
  }
  return true;
}

/** `cache`: the set of strings known to pass these same checks (undefined: values that do not repeat). */
function checkString(field: string, value: unknown, max: number, now: number, dates: boolean, cache: Set<string> | undefined = PASSED): void {
  if (typeof value !== 'string') reject(field, 'type', 'must be a string');
  if (cache !== undefined && cache.has(value)) return;
  if (max >= 36 && isUuidShaped(value)) return;
  if (value.length === 0) reject(field, 'empty', 'must not be empty');
  if (value.length > max) reject(field, 'too-long', `must be at most ${max} characters`);
  if (BAD_CHARS.test(value)) reject(field, 'bad-character', 'contains a control character or a lone surrogate');
  if (containsIpAddress(value)) reject(field, 'ip-address', 'looks like it contains an IP address; the trail never holds one');
  if (containsEmailAddress(value)) reject(field, 'email-address', 'looks like it contains an email address; pass a pseudonym or an opaque id');
  if (dates && containsPossibleBirthDate(value, now)) {
    reject(field, 'date-of-birth', 'contains a past date without a time of day, which could be a date of birth; use a full ISO timestamp');
  }
  if (cache !== undefined && value.length <= CACHEABLE_LENGTH && !(dates && DATE_LIKE.test(value))) {
    if (cache.size >= PASSED_MAX) cache.clear();
    cache.add(value);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Checks an event before it is recorded. Limits: strings 1–256 characters without
 * control characters; `data` up to 64 categories of up to 64 characters; `attributes`
 * up to 32 entries named `[A-Za-z][A-Za-z0-9_.-]*` with string, finite number or
 * boolean values. `subject` must be a keyed pseudonym ({@link SUBJECT_PSEUDONYM_PATTERN}).
 * No string may contain an IP address or an email address, and none but
 * `policy.version` a past date without a time (a possible birthdate); no attribute may
 * be named like a birthdate.
 *
 * @param now the clock for the birthdate rule, ms since the epoch (default: `Date.now()`).
 * @throws PurposekitError PURPOSEKIT_ERR_AUDIT_REJECTED, `details: { field, rule }`
 *   (never the value).
 */
export function validateAuditEvent(event: unknown, now: number = Date.now()): asserts event is AuditEventInput {
  if (!isPlainObject(event)) reject('event', 'type', 'must be a plain object');
  for (const key of Object.keys(event)) {
    if (!FIELDS.has(key)) reject(key, 'unknown-field', 'is not an audit event field');
  }
  const e = event as Record<string, unknown>;
  if (typeof e['kind'] !== 'string' || !KINDS.has(e['kind'])) reject('kind', 'unknown-value', 'must be access, consent, age-gate, rights or retention');
  // One read per field (not a loop over names: keyed reads of many shapes are slow).
  const actor = e['actor'];
  if (actor !== undefined) checkString('actor', actor, MAX_AUDIT_STRING, now, true);
  const action = e['action'];
  if (action !== undefined) checkString('action', action, MAX_AUDIT_STRING, now, true);
  const purpose = e['purpose'];
  if (purpose !== undefined) checkString('purpose', purpose, MAX_AUDIT_STRING, now, true);
  const basis = e['basis'];
  if (basis !== undefined) checkString('basis', basis, MAX_AUDIT_STRING, now, true);
  const requestId = e['requestId'];
  if (requestId !== undefined) checkString('requestId', requestId, MAX_AUDIT_STRING, now, true, undefined);
  const reason = e['reason'];
  if (reason !== undefined) checkString('reason', reason, MAX_AUDIT_STRING, now, true);
  const recipient = e['recipient'];
  if (recipient !== undefined) checkString('recipient', recipient, MAX_AUDIT_STRING, now, true);
  const subject = e['subject'];
  if (subject !== undefined && !(typeof subject === 'string' && PSEUDONYMS.has(subject))) {
    if (typeof subject !== 'string' || !SUBJECT_PSEUDONYM_PATTERN.test(subject)) {
      reject('subject', 'not-a-pseudonym', 'must be a keyed pseudonym (hmac-sha256:<keyId>:<hex>) from createSubjectPseudonymizer, never a raw id');
    }
    if (PSEUDONYMS.size >= PASSED_MAX) PSEUDONYMS.clear();
    PSEUDONYMS.add(subject);
  }
  const decision = e['decision'];
  if (decision !== undefined && decision !== 'allow' && decision !== 'deny') reject('decision', 'unknown-value', 'must be allow or deny');

  const policy = e['policy'];
  if (!isPlainObject(policy)) reject('policy', 'type', 'must be { id, version }');
  for (const key of Object.keys(policy)) {
    if (key !== 'id' && key !== 'version') reject(`policy.${key}`, 'unknown-field', 'is not a policy field');
  }
  checkString('policy.id', policy['id'], MAX_AUDIT_STRING, now, true);
  // A policy version is often a date ("2024-06-01"): the birthdate rule does not apply.
  checkString('policy.version', policy['version'], MAX_AUDIT_STRING, now, false, VERSIONS);

  const data = e['data'];
  if (data !== undefined) {
    if (!Array.isArray(data)) reject('data', 'type', 'must be an array of data categories');
    if (data.length > MAX_CATEGORIES) reject('data', 'too-many', `must hold at most ${MAX_CATEGORIES} categories`);
    for (let i = 0; i < data.length; i++) {
      const category: unknown = data[i];
      // A hit needs no field name (a cached string is at most 64 characters: within the limit).
      if (typeof category === 'string' && PASSED.has(category)) continue;
      checkString(`data[${i}]`, category, MAX_CATEGORY, now, true);
    }
  }

  const attributes = e['attributes'];
  if (attributes !== undefined) {
    if (!isPlainObject(attributes)) reject('attributes', 'type', 'must be a plain object');
    const names = Object.keys(attributes);
    if (names.length > MAX_ATTRIBUTES) reject('attributes', 'too-many', `must hold at most ${MAX_ATTRIBUTES} entries`);
    for (const name of names) {
      const field = `attributes.${ATTRIBUTE_NAME.test(name) ? name : '?'}`;
      if (!ATTRIBUTE_NAME.test(name)) reject(field, 'bad-name', 'has a name that is not [A-Za-z][A-Za-z0-9_.-]{0,63}');
      if (isBirthDateName(name)) reject(field, 'date-of-birth', 'is named like a date of birth; the trail never holds one');
      const value = attributes[name];
      if (typeof value === 'string') checkString(field, value, MAX_AUDIT_STRING, now, true, undefined);
      else if (typeof value === 'number') {
        if (!Number.isFinite(value)) reject(field, 'type', 'must be a finite number');
      } else if (typeof value !== 'boolean') reject(field, 'type', 'must be a string, a finite number or a boolean');
    }
  }
}
