/**
 * Trusted-proxy client address resolution.
 *
 * Semantics are proxy-addr's (what Express `trust proxy` and Koa `proxy` users expect):
 * the hops are the socket peer (hop 0) followed by the `X-Forwarded-For` entries read
 * from right to left (hop 1, 2, …); the walk continues only while the current hop is a
 * trusted proxy (a {@link TrustFn} from ./trust-match.ts), and the first untrusted hop
 * is the client. An untrusted peer's headers are never read.
 *
 * What differs, on purpose:
 * - Every address is parsed strictly (node:net) and returned in canonical form, and the
 *   trust function sees the canonical form. An entry that is not an address (`unknown`,
 *   `_hidden`, `127.1`, `1.2.3.4:80`, garbage) where the walk needs the next address
 *   makes the client UNKNOWN (`undefined`, which the redactor writes as
 *   `INVALID_IP_TOKEN`): the raw text is never returned.
 * - Work is bounded: at most `maxHops` entries are parsed, an entry longer than
 *   `maxEntryLength` stops the walk, and the header is scanned from its end, so a
 *   megabyte of commas costs no more than the bound.
 */
import { PurposekitError } from '../errors';
import { show } from '../policy/suggest';
import { canonicalizeIp, ipFamily } from './address';
import { booleanOption, checkOptionsObject, integerOption } from './options';
import { compileTrust } from './trust-match';
import type { TrustFn, TrustSetting } from './trust-match';

/** Default {@link ClientIpOptions.maxHops}. */
export const DEFAULT_MAX_HOPS = 16;
/** Default {@link ClientIpOptions.maxEntryLength}. */
export const DEFAULT_MAX_ENTRY_LENGTH = 256;

/** Options for {@link resolveClientIp}. */
export interface ClientIpOptions {
  /** Which hops are trusted proxies: from {@link compileTrust} or the framework (Express `trust proxy fn`). */
  trust: TrustFn;
  /** Forwarded entries parsed at most (1–1000). Default 16. The walk stops there and the last address read is taken as the client. */
  maxHops?: number;
  /**
   * Read the RFC 7239 `Forwarded` header (`for=` of each element) INSTEAD of
   * `X-Forwarded-For`. Enable only when your proxies write `Forwarded` and overwrite any
   * client-sent copy. Default false.
   */
  forwarded?: boolean;
  /** Longest single entry (or `Forwarded` element) read, in characters (8–4096). Default 256. Longer: the client is unknown. */
  maxEntryLength?: number;
}

const CLIENT_IP_KEYS = ['trust', 'maxHops', 'forwarded', 'maxEntryLength'] as const;

type Headers = Readonly<Record<string, string | string[] | undefined>>;

function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

const PORT = /^(?:[0-9]{1,5}|_[A-Za-z0-9._-]{1,64})$/;

/** The address in one `Forwarded` element's `for=` parameter (RFC 7239 §4, §6), or undefined. */
function forwardedFor(element: string): string | undefined {
  let found: string | undefined;
  for (const pair of element.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1) {
      if (isBlank(pair)) continue;
      return undefined;
    }
    if (pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
    if (found !== undefined) return undefined; // a parameter MUST NOT repeat within an element
    found = pair.slice(eq + 1).trim();
  }
  if (found === undefined) return undefined;
  let node = found;
  if (node.charCodeAt(0) === 34) {
    if (node.length < 2 || node.charCodeAt(node.length - 1) !== 34 || node.includes('\\')) return undefined;
    node = node.slice(1, -1);
  }
  if (node.charCodeAt(0) === 91) {
    const close = node.indexOf(']');
    if (close === -1) return undefined;
    const rest = node.slice(close + 1);
    if (rest !== '' && !(rest.charCodeAt(0) === 58 && PORT.test(rest.slice(1)))) return undefined;
    const inner = node.slice(1, close);
    return ipFamily(inner) === 6 ? canonicalizeIp(inner) : undefined;
  }
  const colon = node.indexOf(':');
  if (colon !== -1) {
    if (!PORT.test(node.slice(colon + 1))) return undefined;
    node = node.slice(0, colon);
  }
  // Unbracketed IPv6 is not allowed by RFC 7239; `unknown` and `_obfuscated` are no address.
  return ipFamily(node) === 4 ? node : undefined;
}

function walk(
  peer: string,
  header: string | readonly string[] | undefined,
  trust: TrustFn,
  maxHops: number,
  maxLen: number,
  forwarded: boolean,
): string | undefined {
  if (header === undefined) return peer;
  const values: readonly unknown[] = typeof header === 'string' ? [header] : Array.isArray(header) ? header : [header];
  let client = peer;
  let hop = 0;
  // A hard bound on characters looked at, empty entries included.
  let budget = maxHops * (maxLen + 2);
  for (let v = values.length - 1; v >= 0; v--) {
    const s = values[v];
    if (typeof s !== 'string') return undefined;
    let end = s.length;
    while (end > 0) {
      if (--budget < 0) return undefined;
      let i = end - 1;
      while (i >= 0 && s.charCodeAt(i) !== 44) {
        i--;
        if (end - i > maxLen + 1 || --budget < 0) return undefined;
      }
      const raw = s.slice(i + 1, end);
      end = i;
      if (isBlank(raw)) continue; // proxy-addr skips empty entries too; they name nobody
      const ip = forwarded ? forwardedFor(raw) : canonicalizeIp(raw.trim());
      if (ip === undefined) return undefined;
      client = ip;
      hop++;
      if (!trust(ip, hop) || hop >= maxHops) return client;
    }
  }
  return client;
}

/**
 * Resolves the client address of one request: the socket peer, or (when the peer is a
 * trusted proxy) the first untrusted hop of `X-Forwarded-For` (or of `Forwarded`, with
 * `forwarded: true`), read from right to left.
 *
 * Returns the canonical address (IPv6 per RFC 5952, zone id dropped), or `undefined`
 * when the client cannot be known: no valid socket address, or an entry that is not a
 * strict address where the walk needs one. Feed the result to the redactor from
 * {@link createIpRedactor}, which writes `undefined` as `INVALID_IP_TOKEN`. The raw
 * header text is never returned.
 *
 * Options are read on every call without the full validation of {@link createClientIpResolver}
 * (which validates once and is the better choice for a fixed configuration).
 *
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION when `trust` is not a function or a bound is out of range.
 */
export function resolveClientIp(remoteAddress: string | undefined, headers: Headers, options: ClientIpOptions): string | undefined {
  const trust = options.trust;
  if (typeof trust !== 'function') {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `resolveClientIp(): "trust" must be a function (use compileTrust(setting)), got ${show(trust)}.`);
  }
  const maxHops = options.maxHops === undefined ? DEFAULT_MAX_HOPS : integerOption(options.maxHops, 'maxHops', 1, 1000, DEFAULT_MAX_HOPS);
  const maxLen =
    options.maxEntryLength === undefined ? DEFAULT_MAX_ENTRY_LENGTH : integerOption(options.maxEntryLength, 'maxEntryLength', 8, 4096, DEFAULT_MAX_ENTRY_LENGTH);
  const forwarded = options.forwarded === true;
  const peer = canonicalizeIp(remoteAddress);
  if (peer === undefined) return undefined;
  if (!trust(peer, 0)) return peer;
  return walk(peer, headers[forwarded ? 'forwarded' : 'x-forwarded-for'], trust, maxHops, maxLen, forwarded);
}

/** A compiled resolver: `(remoteAddress, headers) => client address | undefined`. */
export type ClientIpResolver = (remoteAddress: string | undefined, headers: Headers) => string | undefined;

/** Input of {@link createClientIpResolver}: like {@link ClientIpOptions}, but `trust` may be any {@link TrustSetting}. */
export interface ClientIpResolverOptions extends Omit<ClientIpOptions, 'trust'> {
  /** A trust setting (compiled with {@link compileTrust}) or a function. Default: trust no proxy. */
  trust?: TrustSetting;
}

/**
 * Validates options once (unknown keys rejected with a hint) and returns the resolver
 * {@link resolveClientIp} describes.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION
 */
export function createClientIpResolver(options?: ClientIpResolverOptions): ClientIpResolver {
  const o = checkOptionsObject(options, 'createClientIpResolver()', CLIENT_IP_KEYS);
  const trust = compileTrust(o['trust'] as TrustSetting);
  const maxHops = integerOption(o['maxHops'], 'maxHops', 1, 1000, DEFAULT_MAX_HOPS);
  const maxLen = integerOption(o['maxEntryLength'], 'maxEntryLength', 8, 4096, DEFAULT_MAX_ENTRY_LENGTH);
  const forwarded = booleanOption(o['forwarded'], 'forwarded', false);
  const name = forwarded ? 'forwarded' : 'x-forwarded-for';
  return function resolveClient(remoteAddress, headers) {
    const peer = canonicalizeIp(remoteAddress);
    if (peer === undefined) return undefined;
    if (!trust(peer, 0)) return peer;
    return walk(peer, headers[name], trust, maxHops, maxLen, forwarded);
  };
}
