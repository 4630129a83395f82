import { PurposekitError } from '../errors';
import type { ErrorCode } from '../errors';
import type { Policy, ResolvedAgeGate } from '../policy/types';
import type { LegalBasis } from '../vocabulary';
import { ageBetween } from './compute-age';
import { GDPR_ART8_AGES } from './gdpr-article-8';
import { MAX_LOCKOUT_GATE_BYTES, createLockoutCookie, toLockoutKey } from './lockout-cookie';
import type { LockoutCookie, LockoutSecret } from './lockout-cookie';
import { minimumAgeFor } from './minimum-age';
import { checkOptionKeys, closest, invalidOption } from './options';
import { checkDateOfBirth } from './parse-date-of-birth';
import { DEFAULT_TIME_ZONE, assertTimeZone, comparePlainDates, plainDateIn, readPlainDate } from './plain-date';
import type { PlainDate } from './plain-date';

/** Options for {@link compileAgeGate}. `TRequest` is the framework request the extractors read. */
export interface AgeGateOptions<TRequest = unknown> {
  /** HMAC-SHA-256 key for the lockout cookie: ≥ 32 bytes (string, Buffer) or a secret `KeyObject`. Required. */
  secret: LockoutSecret;
  /** Own property of the parsed request body that holds the date of birth (`YYYY-MM-DD`). Default `'dateOfBirth'`. */
  field?: string;
  /**
   * An age already verified by the app's own means (e.g. an identity provider claim).
   * When it returns a number, that number is used and the body is not read. Return
   * `undefined` to fall back to the body. Mutually exclusive with `verifiedDateOfBirth`.
   */
  verifiedAge?: (request: TRequest) => number | undefined;
  /**
   * A date of birth already verified by the app (`YYYY-MM-DD` or a {@link PlainDate}).
   * When it returns a value, that value is used and the body is not read. Return
   * `undefined` to fall back to the body. Mutually exclusive with `verifiedAge`.
   */
  verifiedDateOfBirth?: (request: TRequest) => string | PlainDate | undefined;
  /** Lockout cookie name. Default `'pk_age_lock'`. */
  cookieName?: string;
  /** `Secure` attribute on the lockout cookie. Default `true`; `false` only for plain-http tests. */
  secureCookie?: boolean;
  /** IANA zone whose calendar decides "today". Default `'UTC'`. */
  timeZone?: string;
  /** Clock, for tests. Default `() => new Date()`. */
  now?: () => Date;
}

/** The validated, frozen options of a compiled gate (the secret is held as a key, not exposed). */
export interface ResolvedAgeGateOptions<TRequest = unknown> {
  readonly field: string;
  readonly verifiedAge: ((request: TRequest) => number | undefined) | undefined;
  readonly verifiedDateOfBirth: ((request: TRequest) => string | PlainDate | undefined) | undefined;
  readonly cookieName: string;
  readonly secureCookie: boolean;
  readonly timeZone: string;
  readonly now: () => Date;
}

/** What {@link CompiledAgeGate.check} needs from one request. */
export interface AgeGateCheckInput<TRequest = unknown> {
  /** The parsed request body (the date of birth is read from its own property `field`). */
  body: unknown;
  /** The raw `Cookie` request header, if any. */
  cookieHeader: string | undefined;
  /** The subject's country (ISO 3166-1 alpha-2), when known. */
  country?: string | undefined;
  /** Legal basis of the purpose served by the route. */
  basis?: LegalBasis | undefined;
  /** The framework request, handed to the `verifiedAge`/`verifiedDateOfBirth` extractor. */
  request?: TRequest;
}

/** What an age-gate decision leaves for the audit trail: never an age, a date or a threshold. */
export interface AgeGateAudit {
  readonly gate: string;
  readonly outcome: 'refused' | 'locked-out' | 'invalid-dob';
}

/** The result of {@link CompiledAgeGate.check}. */
export type AgeGateOutcome =
  | { readonly ok: true; readonly gate: string }
  | {
      readonly ok: false;
      /** `PURPOSEKIT_ERR_AGE_GATE_REFUSED` (403) or a `PURPOSEKIT_ERR_DOB_*` code (400); `details` hold only `gate` (and `field` for DOB errors). */
      readonly error: PurposekitError;
      /** `Set-Cookie` header value to send with the refusal (a new refusal only; never for a bad date). */
      readonly setCookie?: string;
      readonly audit: AgeGateAudit;
    };

/** An age gate ready to check requests; build with {@link compileAgeGate}. */
export interface CompiledAgeGate<TRequest = unknown> {
  /** The gate's name in the policy. */
  readonly name: string;
  /** The gate as the policy resolved it. */
  readonly gate: ResolvedAgeGate;
  readonly options: ResolvedAgeGateOptions<TRequest>;
  /**
   * Decides one request, synchronously. Order: a valid lockout cookie for this gate (or
   * for a gate that implies it) refuses whatever is sent; then the verified claim if the
   * extractor returns one, else the body's date of birth (a bad date is a 400 and sets
   * no lockout: a typo is not an answer); then the age against {@link minimumAgeFor}.
   * An under-age answer is refused with a lockout cookie.
   *
   * @throws only for programming errors: an extractor that throws, or returns a value
   *   that is not a whole age ≥ 0 / a valid past date (`PURPOSEKIT_ERR_INTERNAL`). Such a
   *   throw must reach the framework's error channel: the handler does not run.
   */
  check(input: AgeGateCheckInput<TRequest>): AgeGateOutcome;
}

const FACTORY = 'compileAgeGate';
const OPTION_KEYS = ['secret', 'field', 'verifiedAge', 'verifiedDateOfBirth', 'cookieName', 'secureCookie', 'timeZone', 'now'] as const;
const FORBIDDEN_FIELDS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_ART8_AGE = Math.max(...Object.values(GDPR_ART8_AGES));

/** The highest minimum age a gate can ever demand, whatever the country and basis. */
function highestMinimum(gate: ResolvedAgeGate): number {
  let highest = gate.minimumAge;
  for (const age of Object.values(gate.countries)) if (age > highest) highest = age;
  if (gate.gdprArticle8 && MAX_ART8_AGE > highest) highest = MAX_ART8_AGE;
  return highest;
}

/**
 * Compiles the named age gate of `policy` into the unit an adapter calls per request.
 * Validates the options once (unknown keys rejected with a hint), creates the lockout
 * HMAC key once, and works out which other gates' lockouts also lock this one: a
 * refusal at gate A proves the person is under A's highest possible minimum, so it
 * also locks every gate whose own minimum is at least that (a child refused at a
 * 13+ survey is not let into an 18+ registration with another date).
 *
 * @throws PurposekitError `PURPOSEKIT_ERR_UNKNOWN_AGE_GATE` when the policy has no such
 *   gate; `PURPOSEKIT_ERR_INVALID_OPTION` for a bad option; `PURPOSEKIT_ERR_INVALID_KEY`
 *   for a missing or short secret; `PURPOSEKIT_ERR_POLICY_INVALID` for a gate whose
 *   resolved values are unusable.
 */
export function compileAgeGate<TRequest = unknown>(policy: Policy, gateName: string, options: AgeGateOptions<TRequest>): CompiledAgeGate<TRequest> {
  const gates = policy.ageGates;
  if (typeof gateName !== 'string' || !Object.hasOwn(gates, gateName)) {
    const names = Object.keys(gates);
    const hint = typeof gateName === 'string' ? closest(gateName, names) : undefined;
    throw new PurposekitError(
      'PURPOSEKIT_ERR_UNKNOWN_AGE_GATE',
      `Age gate ${JSON.stringify(gateName)} is not in policy ${JSON.stringify(policy.id)}.${hint === undefined ? '' : ` Did you mean ${JSON.stringify(hint)}?`} Gates in the policy: ${
        names.length === 0 ? '(none)' : names.join(', ')
      }.`,
      { details: { gate: String(gateName), policy: policy.id, ...(hint === undefined ? {} : { suggestion: hint }) } },
    );
  }
  const gate = gates[gateName] as ResolvedAgeGate;
  checkGate(gateName, gate);

  checkOptionKeys(options, OPTION_KEYS, FACTORY);
  const key = toLockoutKey(options.secret, `${FACTORY}: secret`);
  const field = options.field ?? 'dateOfBirth';
  if (typeof field !== 'string' || field.length === 0 || field.length > 64 || FORBIDDEN_FIELDS.has(field)) {
    throw invalidOption(FACTORY, 'field', 'the name of a body property (1–64 characters, not __proto__/constructor/prototype)', field);
  }
  const { verifiedAge, verifiedDateOfBirth } = options;
  if (verifiedAge !== undefined && typeof verifiedAge !== 'function') throw invalidOption(FACTORY, 'verifiedAge', 'a function (request) => number | undefined', verifiedAge);
  if (verifiedDateOfBirth !== undefined && typeof verifiedDateOfBirth !== 'function') {
    throw invalidOption(FACTORY, 'verifiedDateOfBirth', 'a function (request) => string | PlainDate | undefined', verifiedDateOfBirth);
  }
  if (verifiedAge !== undefined && verifiedDateOfBirth !== undefined) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${FACTORY}: give verifiedAge or verifiedDateOfBirth, not both (which one would win is not obvious).`, {
      details: { factory: FACTORY, option: 'verifiedDateOfBirth' },
    });
  }
  // The policy states which zone decides "today"; the engine option is the fallback.
  const timeZone = gate.timeZone ?? options.timeZone ?? DEFAULT_TIME_ZONE;
  assertTimeZone(timeZone);
  const now = options.now ?? (() => new Date());
  if (typeof now !== 'function') throw invalidOption(FACTORY, 'now', 'a function returning a Date', now);
  const secureCookie = options.secureCookie ?? true;
  const cookie: LockoutCookie = createLockoutCookie({
    secret: key,
    ...(options.cookieName === undefined ? {} : { cookieName: options.cookieName }),
    secure: secureCookie,
    context: policy.id,
  });

  const resolved: ResolvedAgeGateOptions<TRequest> = Object.freeze({
    field,
    verifiedAge,
    verifiedDateOfBirth,
    cookieName: cookie.name,
    secureCookie,
    timeZone,
    now,
  });

  // Gates whose lockout also locks this one (always including itself).
  const lockedBy = new Set<string>([gateName]);
  for (const [other, otherGate] of Object.entries(gates)) {
    if (highestMinimum(otherGate) <= gate.minimumAge) lockedBy.add(other);
  }

  const name = gateName;
  const passed: AgeGateOutcome = Object.freeze({ ok: true, gate: name });
  const refusedAudit: AgeGateAudit = Object.freeze({ gate: name, outcome: 'refused' });
  const lockedAudit: AgeGateAudit = Object.freeze({ gate: name, outcome: 'locked-out' });
  const invalidAudit: AgeGateAudit = Object.freeze({ gate: name, outcome: 'invalid-dob' });
  const refusal = (): PurposekitError => outcomeError('PURPOSEKIT_ERR_AGE_GATE_REFUSED', { gate: name });

  function verifiedAgeOf(request: TRequest | undefined, today: PlainDate): number | undefined {
    if (verifiedAge !== undefined) {
      const age = verifiedAge(request as TRequest);
      if (age === undefined) return undefined;
      if (typeof age !== 'number' || !Number.isFinite(age) || age < 0) {
        throw new PurposekitError('PURPOSEKIT_ERR_INTERNAL', `${FACTORY}(${JSON.stringify(name)}): verifiedAge returned something that is not an age ≥ 0.`, {
          details: { gate: name },
        });
      }
      return Math.floor(age);
    }
    if (verifiedDateOfBirth !== undefined) {
      const dob = verifiedDateOfBirth(request as TRequest);
      if (dob === undefined) return undefined;
      const birth = readPlainDate(dob);
      if (typeof birth === 'string' || comparePlainDates(birth, today) > 0) {
        throw new PurposekitError('PURPOSEKIT_ERR_INTERNAL', `${FACTORY}(${JSON.stringify(name)}): verifiedDateOfBirth returned a date that is not valid or is in the future.`, {
          details: { gate: name },
        });
      }
      return ageBetween(birth, today, gate.leapDay);
    }
    return undefined;
  }

  return Object.freeze({
    name,
    gate,
    options: resolved,
    check(input: AgeGateCheckInput<TRequest>): AgeGateOutcome {
      const at = now();
      const nowMs = at.getTime();
      const locks = cookie.read(input.cookieHeader, nowMs);
      if (locks.size > 0) {
        for (const locked of locks.keys()) {
          if (lockedBy.has(locked)) return { ok: false, error: refusal(), audit: lockedAudit };
        }
      }

      const today = plainDateIn(at, timeZone);
      let age = verifiedAgeOf(input.request, today);
      if (age === undefined) {
        const body = input.body;
        const value = typeof body === 'object' && body !== null && !Array.isArray(body) && Object.hasOwn(body, field) ? (body as Record<string, unknown>)[field] : undefined;
        const birth = checkDateOfBirth(value, today, gate.leapDay);
        // The gate and field go in the details for the logs; never the value.
        if (typeof birth === 'string') return { ok: false, error: outcomeError(birth, { gate: name, field }), audit: invalidAudit };
        age = ageBetween(birth, today, gate.leapDay);
      }

      if (age >= minimumAgeFor(gate, { country: input.country, basis: input.basis })) return passed;
      if (gate.lockoutSeconds === 0) return { ok: false, error: refusal(), audit: refusedAudit };
      return { ok: false, error: refusal(), setCookie: cookie.lock(name, gate.lockoutSeconds, nowMs, locks), audit: refusedAudit };
    },
  });
}

/**
 * The error carried by a refusal or a bad-date outcome. It is a returned decision, not
 * a failure of the code, so it is built without a stack trace: capturing one costs
 * 3–5 µs on Node 20 and would only ever point into this file.
 */
function outcomeError(code: ErrorCode, details: Readonly<Record<string, unknown>>): PurposekitError {
  const limit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 0;
  } catch {
    // A frozen realm (e.g. SES lockdown) may forbid it: then the error keeps a stack.
  }
  try {
    return new PurposekitError(code, undefined, { details });
  } finally {
    if (Error.stackTraceLimit !== limit) Error.stackTraceLimit = limit;
  }
}

function checkGate(name: string, gate: ResolvedAgeGate): void {
  const problems: Array<{ path: string; message: string; rule: string }> = [];
  const path = `ageGates.${name}`;
  if (!Number.isSafeInteger(gate.minimumAge) || gate.minimumAge < 0 || gate.minimumAge > 130) {
    problems.push({ path: `${path}.minimumAge`, message: 'must be a whole number of years from 0 to 130', rule: 'age-range' });
  }
  if (!Number.isSafeInteger(gate.lockoutSeconds) || gate.lockoutSeconds < 0) {
    problems.push({ path: `${path}.lockout`, message: 'must resolve to a whole number of seconds ≥ 0', rule: 'lockout-duration' });
  }
  if (gate.leapDay !== 'mar-1' && gate.leapDay !== 'feb-28') problems.push({ path: `${path}.leapDay`, message: "must be 'mar-1' or 'feb-28'", rule: 'leap-day' });
  if (Buffer.byteLength(name, 'utf8') > MAX_LOCKOUT_GATE_BYTES) {
    problems.push({ path, message: `gate name must be at most ${MAX_LOCKOUT_GATE_BYTES} UTF-8 bytes (it travels in the lockout cookie)`, rule: 'gate-name-length' });
  }
  for (const [country, age] of Object.entries(gate.countries)) {
    if (!Number.isSafeInteger(age) || age < 0 || age > 130) problems.push({ path: `${path}.countries.${country}`, message: 'must be a whole number of years from 0 to 130', rule: 'age-range' });
  }
  if (problems.length > 0) {
    throw new PurposekitError('PURPOSEKIT_ERR_POLICY_INVALID', `Age gate ${JSON.stringify(name)} is not usable: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}.`, {
      details: { issues: problems },
    });
  }
}
