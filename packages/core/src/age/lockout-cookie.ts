/**
 * The age-gate lockout cookie (FTC COPPA FAQ: a neutral age screen should stop a child
 * from going back and entering another age).
 *
 * Value format, version 1 (documented in docs/age-gates.md):
 *
 *     v1.<entry>[.<entry>…].<mac>
 *     entry = base64url(utf8(gate name)) "~" expiry (Unix seconds, decimal)
 *     mac   = base64url(HMAC-SHA-256(key, "purposekit.age-lock.v1\n" + context + "\n" + <everything before ".<mac>">))
 *
 * It carries gate names and expiry times only: never an age, a date of birth or a
 * threshold. All characters are RFC 6265 cookie-octets, so it is never quoted.
 */
import { KeyObject, createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import { PurposekitError } from '../errors';
import { checkOptionKeys, invalidOption } from './options';

/** Default cookie name. */
export const DEFAULT_LOCKOUT_COOKIE_NAME = 'pk_age_lock';

/** Minimum key length for the lockout HMAC, in bytes (the SHA-256 output size). */
export const MIN_LOCKOUT_KEY_BYTES = 32;

/** Most gates one cookie remembers; beyond that the earliest-expiring locks are dropped. */
export const MAX_LOCKOUT_ENTRIES = 8;

/** Longest gate name (UTF-8 bytes) a lockout cookie can carry. */
export const MAX_LOCKOUT_GATE_BYTES = 96;

// Upper bounds for reading: a Cookie header is scanned for at most this many characters
// and this many same-named cookies; a value longer than any we could have written is
// garbage and is not even split.
const MAX_COOKIE_HEADER_SCAN = 16 * 1024;
const MAX_SAME_NAME_COOKIES = 4;
const MAX_VALUE_LENGTH = 2 + MAX_LOCKOUT_ENTRIES * (1 + 128 + 1 + 12) + 1 + 43;
const MAC_LENGTH = 43; // base64url of 32 bytes, unpadded
const DOMAIN = 'purposekit.age-lock.v1\n';

/** A secret for an HMAC key: at least 32 bytes, or a secret `KeyObject` of at least 32 bytes. */
export type LockoutSecret = string | Buffer | Uint8Array | KeyObject;

/** Options for {@link createLockoutCookie}. */
export interface LockoutCookieOptions {
  /** HMAC-SHA-256 key, ≥ 32 bytes (a string counts its UTF-8 bytes). Required. Generate with `crypto.randomBytes(32)`. */
  secret: LockoutSecret;
  /** Cookie name. Default `'pk_age_lock'`. An RFC 6265 token. */
  cookieName?: string;
  /** Add the `Secure` attribute. Default `true`; set `false` only for plain-http tests. */
  secure?: boolean;
  /** Bound into the MAC so a cookie from another policy or app sharing the key is not accepted (e.g. the policy id). Default `''`. */
  context?: string;
}

/** Gate name → expiry (Unix seconds) for every valid, unexpired lock. */
export type LockoutEntries = ReadonlyMap<string, number>;

/** A compiled lockout-cookie codec: build with {@link createLockoutCookie}. */
export interface LockoutCookie {
  /** The cookie name. */
  readonly name: string;
  /**
   * Reads the valid, unexpired locks from a `Cookie` request header. A missing,
   * tampered, truncated, expired or otherwise unreadable cookie yields an empty map: it
   * is ignored, never an error. Bounded work whatever the header holds.
   */
  read(cookieHeader: string | undefined, nowMs: number): LockoutEntries;
  /**
   * Builds the `Set-Cookie` header value that locks `gate` for `seconds` from `nowMs`,
   * keeping the still-valid locks in `current` (most recent {@link MAX_LOCKOUT_ENTRIES}).
   * Attributes: `Max-Age`, `Path=/`, `HttpOnly`, `SameSite=Lax`, and `Secure` unless
   * turned off.
   * @throws PurposekitError `PURPOSEKIT_ERR_INVALID_OPTION` for a gate name that is empty
   *   or over {@link MAX_LOCKOUT_GATE_BYTES} bytes, or `seconds` that is not a positive integer.
   */
  lock(gate: string, seconds: number, nowMs: number, current?: LockoutEntries): string;
}

const EMPTY: LockoutEntries = new Map();

// RFC 6265 / RFC 9110 token characters, the only safe cookie-name characters.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const EXPIRY = /^[0-9]{1,12}$/;

/**
 * Turns a user-supplied secret into a `KeyObject` once, at start-up: on recent Node a
 * raw Buffer key costs microseconds per HMAC that a KeyObject does not.
 * @throws PurposekitError `PURPOSEKIT_ERR_INVALID_KEY` when missing, of the wrong type or
 *   shorter than {@link MIN_LOCKOUT_KEY_BYTES} bytes. The message never includes the key.
 */
export function toLockoutKey(secret: unknown, option = 'secret'): KeyObject {
  if (secret instanceof KeyObject) {
    if (secret.type === 'secret' && (secret.symmetricKeySize ?? 0) >= MIN_LOCKOUT_KEY_BYTES) return secret;
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_KEY', `${option}: a KeyObject must be a secret key of at least ${MIN_LOCKOUT_KEY_BYTES} bytes.`, {
      details: { option },
    });
  }
  let bytes: Buffer | undefined;
  if (typeof secret === 'string') bytes = Buffer.from(secret, 'utf8');
  else if (secret instanceof Uint8Array) bytes = Buffer.from(secret);
  if (bytes === undefined || bytes.length < MIN_LOCKOUT_KEY_BYTES) {
    throw new PurposekitError(
      'PURPOSEKIT_ERR_INVALID_KEY',
      `${option}: the lockout cookie needs a secret of at least ${MIN_LOCKOUT_KEY_BYTES} bytes (string, Buffer or secret KeyObject); ${
        bytes === undefined ? 'none of those was given' : `got ${bytes.length} bytes`
      }. Generate one with crypto.randomBytes(32).`,
      { details: { option } },
    );
  }
  const key = createSecretKey(bytes);
  bytes.fill(0);
  return key;
}

/**
 * Compiles a lockout-cookie codec. Validates once, creates the HMAC key once.
 * @throws PurposekitError `PURPOSEKIT_ERR_INVALID_KEY` for a bad secret;
 *   `PURPOSEKIT_ERR_INVALID_OPTION` for an unknown option, a cookie name that is not a
 *   token, or a `__Host-`/`__Secure-` name without `secure`.
 */
export function createLockoutCookie(options: LockoutCookieOptions): LockoutCookie {
  const factory = 'createLockoutCookie';
  checkOptionKeys(options, ['secret', 'cookieName', 'secure', 'context'], factory);
  const key = toLockoutKey(options.secret);
  const name = options.cookieName ?? DEFAULT_LOCKOUT_COOKIE_NAME;
  const secure = options.secure ?? true;
  const context = options.context ?? '';
  if (typeof name !== 'string' || !TOKEN.test(name)) throw invalidOption(factory, 'cookieName', 'a cookie-name token (letters, digits, !#$%&\'*+-.^_`|~; 1–64 characters)', name);
  if (typeof secure !== 'boolean') throw invalidOption(factory, 'secure', 'a boolean', secure);
  if (typeof context !== 'string' || context.length > 256) throw invalidOption(factory, 'context', 'a string of at most 256 characters', context);
  if (!secure && (name.startsWith('__Host-') || name.startsWith('__Secure-'))) {
    throw invalidOption(factory, 'secure', `true for a cookie named with the __Host-/__Secure- prefix (browsers drop such cookies without Secure)`, secure);
  }
  // SameSite=Lax, not Strict: the cookie only ever restricts, so sending it on more
  // requests cannot be abused (no CSRF gain), while Strict would drop it when the user
  // arrives from another site's link, letting a fresh navigation skip the lockout.
  const attributes = `; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  const prefix = `${DOMAIN}${context}\n`;
  const mac = (payload: string): string => createHmac('sha256', key).update(prefix).update(payload).digest('base64url');

  const verify = (value: string, nowSeconds: number, into: Map<string, number>): void => {
    if (value.length > MAX_VALUE_LENGTH || value.length < 3 + MAC_LENGTH || !value.startsWith('v1.')) return;
    const cut = value.length - MAC_LENGTH - 1;
    if (value.charCodeAt(cut) !== 46 /* . */) return;
    const payload = value.slice(0, cut);
    const given = Buffer.from(value.slice(cut + 1), 'latin1');
    const expected = Buffer.from(mac(payload), 'latin1');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return;
    // Authentic from here on; still parsed strictly, so a future format change cannot be misread.
    const entries = payload.slice(3).split('.');
    if (entries.length > MAX_LOCKOUT_ENTRIES) return;
    for (const entry of entries) {
      const tilde = entry.indexOf('~');
      if (tilde <= 0) return;
      const encoded = entry.slice(0, tilde);
      const expiry = entry.slice(tilde + 1);
      if (!BASE64URL.test(encoded) || !EXPIRY.test(expiry)) return;
      const until = Number(expiry);
      if (until <= nowSeconds) continue;
      const gate = Buffer.from(encoded, 'base64url').toString('utf8');
      const known = into.get(gate);
      if (known === undefined || until > known) into.set(gate, until);
    }
  };

  return Object.freeze({
    name,
    read(cookieHeader: string | undefined, nowMs: number): LockoutEntries {
      if (typeof cookieHeader !== 'string' || cookieHeader.length === 0) return EMPTY;
      const values = cookieValues(cookieHeader, name);
      if (values === undefined) return EMPTY;
      const nowSeconds = Math.floor(nowMs / 1000);
      const found = new Map<string, number>();
      for (const value of values) verify(value, nowSeconds, found);
      return found.size === 0 ? EMPTY : found;
    },
    lock(gate: string, seconds: number, nowMs: number, current: LockoutEntries = EMPTY): string {
      if (typeof gate !== 'string' || gate.length === 0 || Buffer.byteLength(gate, 'utf8') > MAX_LOCKOUT_GATE_BYTES) {
        throw invalidOption('LockoutCookie.lock', 'gate', `a non-empty name of at most ${MAX_LOCKOUT_GATE_BYTES} UTF-8 bytes`, gate);
      }
      if (!Number.isSafeInteger(seconds) || seconds <= 0) throw invalidOption('LockoutCookie.lock', 'seconds', 'a positive whole number', seconds);
      const nowSeconds = Math.floor(nowMs / 1000);
      const until = nowSeconds + seconds;
      const locks: Array<[string, number]> = [];
      for (const [other, expiry] of current) {
        if (other !== gate && expiry > nowSeconds && Buffer.byteLength(other, 'utf8') <= MAX_LOCKOUT_GATE_BYTES) locks.push([other, expiry]);
      }
      locks.sort((a, b) => b[1] - a[1]);
      locks.length = Math.min(locks.length, MAX_LOCKOUT_ENTRIES - 1);
      locks.unshift([gate, Math.max(until, current.get(gate) ?? 0)]);
      let maxExpiry = 0;
      let payload = 'v1';
      for (const [locked, expiry] of locks) {
        payload += `.${Buffer.from(locked, 'utf8').toString('base64url')}~${expiry}`;
        if (expiry > maxExpiry) maxExpiry = expiry;
      }
      return `${name}=${payload}.${mac(payload)}; Max-Age=${maxExpiry - nowSeconds}${attributes}`;
    },
  });
}

/**
 * The values of every cookie named `name` in a Cookie header (at most
 * {@link MAX_SAME_NAME_COOKIES}), or `undefined` if there is none. Scans at most
 * {@link MAX_COOKIE_HEADER_SCAN} characters; never throws.
 */
export function cookieValues(header: string, name: string): string[] | undefined {
  // The common case (no lockout cookie) is one indexOf.
  let at = header.indexOf(name);
  if (at === -1 || at >= MAX_COOKIE_HEADER_SCAN) return undefined;
  const limit = Math.min(header.length, MAX_COOKIE_HEADER_SCAN);
  let values: string[] | undefined;
  while (at !== -1 && at < limit) {
    const before = at === 0 ? 59 : header.charCodeAt(at - 1);
    const end = at + name.length;
    // A real match starts a pair (after ";" or whitespace) and is followed by "=":
    // "xpk_age_lock=" or "pk_age_lock2=" must not match.
    if ((before === 59 || before === 32 || before === 9) && header.charCodeAt(end) === 61) {
      let stop = header.indexOf(';', end + 1);
      if (stop === -1 || stop > limit) stop = limit;
      (values ??= []).push(header.slice(end + 1, stop).trim());
      if (values.length >= MAX_SAME_NAME_COOKIES) break;
      at = header.indexOf(name, stop);
    } else {
      at = header.indexOf(name, at + 1);
    }
  }
  return values;
}
