/**
 * Keyed IP pseudonyms: HMAC-SHA-256 under a secret key, never a plain or publicly salted
 * hash (the whole IPv4 space is 2^32 guesses, a short brute force). The key id is written
 * into every pseudonym so keys can rotate: new pseudonyms use the current key, old ones
 * stay attributable to the key that made them.
 *
 * A pseudonym is still personal data (GDPR Art. 4(5)): whoever holds the key can link it.
 */
import { createHmac } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { PurposekitError } from '../errors';
import { show } from '../policy/suggest';
import { toHmacKey } from '../pseudonym';
import type { PseudonymKey } from '../pseudonym';
import { canonicalizeIp } from './address';
import { checkOptionsObject, booleanOption, integerOption, memoizeByObject } from './options';
import { INVALID_IP_TOKEN, compileTruncation } from './truncate';
import type { IpTruncationOptions } from './truncate';

/** Every IP pseudonym starts with this, then `<keyId>:<32 hex>` (128 bits of the HMAC). */
export const IP_PSEUDONYM_PREFIX = 'ip-hmac:';

// Domain separation: the same key used for subject pseudonyms never yields the same output.
const DOMAIN = 'purposekit/ip/v1\0';

const KEYS: unique symbol = Symbol('purposekit.ipKeyring.keys');
const BRAND = Symbol.for('purposekit.ipKeyring');

/**
 * Keys for IP pseudonyms, made once with {@link createIpKeyring}. Each secret became a
 * `KeyObject` once (`crypto.createSecretKey`): on Node 24 a raw Buffer key costs
 * 12–16 µs per HMAC, a KeyObject ≈ 1.7 µs.
 */
export interface IpKeyring {
  /** Id of the key new pseudonyms are made with. */
  readonly currentKeyId: string;
  /** Ids of every key held (the current one and older ones kept for lookups). */
  readonly keyIds: readonly string[];
  /** @internal */
  readonly [KEYS]: ReadonlyMap<string, KeyObject>;
}

/** Options for {@link createIpKeyring}. */
export interface IpKeyringOptions {
  /** Id of the key to use for new pseudonyms. Default: the first key. */
  currentKeyId?: string;
}

/** True for a keyring made by {@link createIpKeyring} (by any installed copy of the core). */
export function isIpKeyring(value: unknown): value is IpKeyring {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * Makes a keyring from one key or several (`{ id, secret }`, secret ≥ 32 bytes; a string
 * is its UTF-8 bytes). To rotate, put the new key first (or name it `currentKeyId`) and
 * keep the old ones while logs made with them are still read.
 *
 * @example createIpKeyring([{ id: '2025-06', secret: process.env.IP_KEY_2025_06! }, { id: '2024-12', secret: oldSecret }])
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_KEY for a missing, short or duplicate key, or an unknown `currentKeyId`.
 */
export function createIpKeyring(keys: PseudonymKey | readonly PseudonymKey[], options?: IpKeyringOptions): IpKeyring {
  const o = checkOptionsObject(options, 'createIpKeyring()', ['currentKeyId']);
  const list: readonly PseudonymKey[] = Array.isArray(keys) ? keys : [keys as PseudonymKey];
  if (list.length === 0) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_KEY', 'createIpKeyring(): at least one key { id, secret } is required.');
  }
  const map = new Map<string, KeyObject>();
  list.forEach((k, i) => {
    const key = toHmacKey(k, `IP pseudonym key [${i}]`);
    if (map.has(k.id)) throw new PurposekitError('PURPOSEKIT_ERR_INVALID_KEY', `createIpKeyring(): key id "${k.id}" appears twice.`);
    map.set(k.id, key);
  });
  const current = o['currentKeyId'] ?? list[0]!.id;
  if (typeof current !== 'string' || !map.has(current)) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_KEY', `createIpKeyring(): currentKeyId ${show(current)} is not one of the keys (${[...map.keys()].join(', ')}).`);
  }
  const ring = { currentKeyId: current, keyIds: Object.freeze([...map.keys()]), [KEYS]: map, [BRAND]: true };
  return Object.freeze(ring);
}

// A keyring made from bare keys is cached per key object (or array), so a caller that
// passes `{ id, secret }` on every call does not pay createSecretKey every time.
const ringOf = new WeakMap<object, IpKeyring>();

/** A keyring, or one made (once per object) from `{ id, secret }` or a list of them. */
export function toIpKeyring(keys: IpKeyring | PseudonymKey | readonly PseudonymKey[] | undefined, where: string): IpKeyring {
  if (isIpKeyring(keys)) return keys;
  if (typeof keys !== 'object' || keys === null) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_KEY', `${where}: a key is required for IP pseudonyms: createIpKeyring({ id, secret }) or { id, secret } (secret ≥ 32 bytes).`);
  }
  let ring = ringOf.get(keys);
  if (ring === undefined) {
    ring = createIpKeyring(keys as PseudonymKey | readonly PseudonymKey[]);
    ringOf.set(keys, ring);
  }
  return ring;
}

/** Options for {@link pseudonymizeIp} and {@link createIpPseudonymizer}. */
export interface PseudonymizeIpOptions extends IpTruncationOptions {
  /** Key to use. Default: the keyring's current key. */
  keyId?: string;
  /**
   * Truncate (with `ipv4Prefix` / `ipv6Prefix`) before hashing, so every address of one
   * network gets one pseudonym. Default false.
   */
  truncateFirst?: boolean;
  /** Throw `PURPOSEKIT_ERR_INVALID_IP` on an invalid address instead of returning `INVALID_IP_TOKEN`. Default false. */
  strict?: boolean;
  /** Pseudonyms remembered (two generations of this many; 0 disables). Default 1024. */
  cacheSize?: number;
}

const PSEUDONYM_KEYS = ['ipv4Prefix', 'ipv6Prefix', 'nat64Prefixes', 'keyId', 'truncateFirst', 'strict', 'cacheSize'] as const;

/** An IP address → pseudonym function. */
export type IpPseudonymizer = (ip: unknown) => string;

/**
 * Compiles a pseudonymizer once: `ip-hmac:<keyId>:<32 hex>` = the first 128 bits of
 * HMAC-SHA-256(key, domain ‖ canonical address). The address is canonicalised first
 * (so `2001:DB8::1` and `2001:db8:0::1` agree) and an IPv4-mapped address is hashed as
 * its IPv4 address (the same client through a dual-stack or an IPv4 socket gets one
 * pseudonym). With `truncateFirst`, the truncated address is hashed.
 *
 * A small two-generation cache keeps repeated addresses at ≈ 15 ns (the cache holds raw
 * addresses in memory only, never in a log).
 *
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_KEY for a missing key or unknown `keyId`;
 *   PURPOSEKIT_ERR_INVALID_OPTION for a bad option.
 */
export function createIpPseudonymizer(
  keys: IpKeyring | PseudonymKey | readonly PseudonymKey[],
  options?: PseudonymizeIpOptions,
): IpPseudonymizer {
  const o = checkOptionsObject(options, 'createIpPseudonymizer()', PSEUDONYM_KEYS);
  const ring = toIpKeyring(keys, 'createIpPseudonymizer()');
  const keyId = o['keyId'] ?? ring.currentKeyId;
  const key = typeof keyId === 'string' ? ring[KEYS].get(keyId) : undefined;
  if (key === undefined) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_KEY', `IP pseudonyms: key id ${show(keyId)} is not in the keyring (${ring.keyIds.join(', ')}).`);
  }
  const truncation = compileTruncation(
    { ipv4Prefix: o['ipv4Prefix'], ipv6Prefix: o['ipv6Prefix'], nat64Prefixes: o['nat64Prefixes'] } as IpTruncationOptions,
    'createIpPseudonymizer()',
  );
  const truncateFirst = booleanOption(o['truncateFirst'], 'truncateFirst', false);
  const strict = booleanOption(o['strict'], 'strict', false);
  const cacheSize = integerOption(o['cacheSize'], 'cacheSize', 0, 1_000_000, 1024);
  const prefix = `${IP_PSEUDONYM_PREFIX}${keyId}:`;

  const compute = (ip: unknown): string => {
    const canonical = truncateFirst ? truncation.truncate(ip) : canonicalizeIp(ip);
    if (canonical === undefined || canonical === INVALID_IP_TOKEN) {
      if (strict) throw new PurposekitError('PURPOSEKIT_ERR_INVALID_IP');
      return INVALID_IP_TOKEN;
    }
    // `::ffff:a.b.c.d` → `a.b.c.d` (but not translated `::ffff:0:a.b.c.d`).
    const text = canonical.startsWith('::ffff:') && canonical.indexOf(':', 7) === -1 ? canonical.slice(7) : canonical;
    return prefix + createHmac('sha256', key).update(DOMAIN + text, 'utf8').digest('hex').slice(0, 32);
  };
  if (cacheSize === 0) return compute;

  let current = new Map<unknown, string>();
  let previous = new Map<unknown, string>();
  return function pseudonymize(ip: unknown): string {
    let out = current.get(ip);
    if (out !== undefined) return out;
    out = previous.get(ip);
    if (out === undefined) {
      out = compute(ip);
      // Invalid input is not cached: it is cheap to recompute and may be unbounded garbage.
      if (out === INVALID_IP_TOKEN) return out;
    }
    if (current.size >= cacheSize) {
      previous = current;
      current = new Map();
    }
    current.set(ip, out);
    return out;
  };
}

const pseudonymizers = new WeakMap<IpKeyring, (options: PseudonymizeIpOptions | undefined) => IpPseudonymizer>();

/**
 * The keyed pseudonym of one address (see {@link createIpPseudonymizer} for the format),
 * or `INVALID_IP_TOKEN` for anything that is not a strictly valid address (or a thrown
 * `PURPOSEKIT_ERR_INVALID_IP` with `strict: true`). Compiles once per keyring and options
 * object; prefer {@link createIpPseudonymizer} on a hot path.
 *
 * @example pseudonymizeIp('192.0.2.33', ring) // 'ip-hmac:2025-06:…32 hex…'
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_KEY, PURPOSEKIT_ERR_INVALID_OPTION, PURPOSEKIT_ERR_INVALID_IP (strict only)
 */
export function pseudonymizeIp(ip: unknown, keys: IpKeyring | PseudonymKey | readonly PseudonymKey[], options?: PseudonymizeIpOptions): string {
  const ring = toIpKeyring(keys, 'pseudonymizeIp()');
  let forRing = pseudonymizers.get(ring);
  if (forRing === undefined) {
    forRing = memoizeByObject((o: PseudonymizeIpOptions | undefined) => createIpPseudonymizer(ring, o));
    pseudonymizers.set(ring, forRing);
  }
  return forRing(options)(ip);
}
