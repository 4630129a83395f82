/**
 * Trusted-proxy client address resolution.
 *
 * Semantics are proxy-addr's (what Express `trust proxy` and Koa `proxy` users expect):
 * the hops are the socket peer (hop 0) followed by the `X-Forwarded-For` entries read
 * from right to left (hop 1, 2, …); the walk continues only while the current hop is a
 * trusted proxy, and the first untrusted hop is the client. An untrusted peer's headers
 * are never read.
 *
 * What differs, on purpose:
 * - Every address is parsed strictly (node:net) and returned in canonical form. An
 *   entry that is not an address (`unknown`, `_hidden`, `127.1`, `1.2.3.4:80`, garbage)
 *   where the walk needs the next address makes the client UNKNOWN (`undefined`, which
 *   the redactor writes as `INVALID_IP_TOKEN`): the raw text is never returned.
 * - Work is bounded: at most `maxHops` entries are parsed, an entry longer than
 *   `maxEntryLength` stops the walk, and the header is scanned from its end, so a
 *   megabyte of commas costs no more than the bound.
 * - The trust matcher compiled from CIDR lists is numeric (≈ 50–150 ns a call) where
 *   proxy-addr's costs 0.8–4.7 µs on this machine; tests check both agree.
 */
import ipaddr from 'ipaddr.js';
import { PurposekitError } from '../errors';
import { show } from '../policy/suggest';
import { ipFamily, ipv4ToUint32, parseIpv6Words, stripZone, canonicalizeIp } from './address';
import { checkOptionsObject, integerOption, booleanOption } from './options';

/** Decides whether the hop at `address` (index `hop`, 0 = socket peer) is a trusted proxy. */
export type TrustFn = (address: string, hop: number) => boolean;

/**
 * A trust setting as Express `trust proxy` takes it: `true` (trust every hop), `false` /
 * `undefined` (trust none), a hop count, a comma-separated string or list of addresses,
 * CIDR ranges (`10.0.0.0/8`, `10.0.0.0/255.0.0.0`) and named ranges (`loopback`,
 * `linklocal`, `uniquelocal`), or your own {@link TrustFn}.
 */
export type TrustSetting = boolean | number | string | readonly string[] | TrustFn | undefined;

// Functions compiled from a setting that trusts every hop, so trustsEverything() can
// recognise them after compilation too.
const TRUSTS_ALL = new WeakSet<TrustFn>();

const NAMED_RANGES: Readonly<Record<string, readonly string[]>> = {
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  loopback: ['127.0.0.1/8', '::1/128'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

interface V6Subnet {
  readonly words: Uint16Array;
  readonly prefix: number;
}

function trustError(entry: string, why: string): PurposekitError {
  return new PurposekitError(
    'PURPOSEKIT_ERR_INVALID_OPTION',
    `trust proxy: ${show(entry)} ${why}. Use canonical addresses or CIDR ranges (e.g. "10.0.0.0/8", "2001:db8::/32", "10.0.0.0/255.0.0.0") or loopback, linklocal, uniquelocal.`,
  );
}

function v6Matches(w: Uint16Array, s: V6Subnet): boolean {
  for (let i = 0; i < 8; i++) {
    const keep = s.prefix - i * 16;
    if (keep <= 0) return true;
    const mask = keep >= 16 ? 0xffff : (0xffff << (16 - keep)) & 0xffff;
    if ((w[i]! & mask) !== (s.words[i]! & mask)) return false;
  }
  return true;
}

/**
 * Compiles address / CIDR entries into a numeric matcher with proxy-addr's semantics:
 * IPv4-mapped candidates are compared as IPv4; an IPv4-mapped IPv6 range (`::ffff:a.b.c.d/n`
 * with n ≥ 96) matches the IPv4 addresses it maps; a native IPv6 range never matches IPv4.
 * Entries are parsed strictly: a legacy form such as `010.0.0.0/8` (octal to some parsers)
 * is a configuration error rather than a silent reinterpretation.
 */
function compileRanges(entries: readonly string[]): TrustFn {
  const v4: Array<readonly [number, number]> = [];
  const v6: V6Subnet[] = [];
  const expanded: string[] = [];
  for (const raw of entries) {
    if (typeof raw !== 'string') throw trustError(String(raw), 'is not a string');
    const e = raw.trim();
    const named = Object.prototype.hasOwnProperty.call(NAMED_RANGES, e) ? NAMED_RANGES[e] : undefined;
    if (named !== undefined) expanded.push(...named);
    else expanded.push(e);
  }
  for (const e of expanded) {
    const slash = e.lastIndexOf('/');
    const addr = slash === -1 ? e : e.slice(0, slash);
    const family = ipFamily(addr);
    if (family === 0 || addr.includes('%')) throw trustError(e, 'is not a valid address or range');
    const max = family === 4 ? 32 : 128;
    let prefix = max;
    if (slash !== -1) {
      const r = e.slice(slash + 1);
      if (/^[0-9]{1,3}$/.test(r)) prefix = Number(r);
      else if (family === 4 && ipFamily(r) === 4) {
        const len = ipaddr.IPv4.parse(r).prefixLengthFromSubnetMask();
        if (len === null) throw trustError(e, 'has a netmask with holes');
        prefix = len;
      } else throw trustError(e, 'has an invalid prefix length');
      // proxy-addr refuses /0 too: trusting a whole family is `trust proxy: true`, said plainly.
      if (prefix <= 0 || prefix > max) throw trustError(e, `has a prefix length outside 1–${max}`);
    }
    if (family === 4) {
      const mask = (0xffffffff << (32 - prefix)) >>> 0;
      v4.push([(ipv4ToUint32(addr) & mask) >>> 0, mask]);
      continue;
    }
    const words = new Uint16Array(8);
    parseIpv6Words(addr, words);
    const mapped = words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0 && words[4] === 0 && words[5] === 0xffff;
    if (mapped) {
      // A bare mapped address is stored as IPv4 (as proxy-addr does); a mapped range
      // shorter than /96 matches nothing in proxy-addr, so it is dropped here too.
      const p = slash === -1 ? 128 : prefix;
      if (p >= 96) {
        const mask = p === 96 ? 0 : (0xffffffff << (128 - p)) >>> 0;
        v4.push([((words[6]! * 65536 + words[7]!) & mask) >>> 0, mask]);
      }
      continue;
    }
    v6.push({ words, prefix });
  }
  if (v4.length === 0 && v6.length === 0) return trustNone;
  const w = new Uint16Array(8);
  return function trustRanges(address: string): boolean {
    const family = ipFamily(address);
    if (family === 0) return false;
    let value: number;
    if (family === 4) {
      value = ipv4ToUint32(address);
    } else {
      parseIpv6Words(stripZone(address), w);
      if (!(w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff)) {
        for (const s of v6) if (v6Matches(w, s)) return true;
        return false;
      }
      value = w[6]! * 65536 + w[7]!;
    }
    for (const [base, mask] of v4) if (((value & mask) >>> 0) === base) return true;
    return false;
  };
}

function trustNone(): boolean {
  return false;
}

function trustAll(): boolean {
  return true;
}
TRUSTS_ALL.add(trustAll);

/**
 * Compiles a trust setting into a {@link TrustFn}, with Express `trust proxy` semantics:
 * `true` trusts every hop; `false` / `undefined` none; a number `n` trusts the first `n`
 * hops (`hop < n`, also Koa's `proxy: true` + `maxIpsCount: n`); a string (comma-separated)
 * or list of addresses, CIDR ranges, netmask ranges or the names `loopback`,
 * `linklocal`, `uniquelocal`; a function is returned as is.
 *
 * Use {@link trustsEverything} (or {@link warnIfTrustsEverything}) on the same setting to
 * learn whether it lets the client choose its own address.
 *
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION for a negative or fractional
 *   count, an invalid address or range, or a value of another type.
 */
export function compileTrust(value: TrustSetting): TrustFn {
  if (typeof value === 'function') return value;
  if (value === true) return trustAll;
  if (value === undefined || value === false) return trustNone;
  if (typeof value === 'number') {
    if (value === Infinity) return trustAll;
    if (!Number.isInteger(value) || value < 0) {
      throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `trust proxy: a hop count must be a whole number ≥ 0, got ${show(value)}.`);
    }
    return function trustHops(_address: string, hop: number): boolean {
      return hop < value;
    };
  }
  if (typeof value === 'string') return compileRanges(value.split(','));
  if (Array.isArray(value)) return compileRanges(value as readonly string[]);
  throw new PurposekitError(
    'PURPOSEKIT_ERR_INVALID_OPTION',
    `trust proxy: expected true/false, a hop count, an address list or a function, got ${show(value)}.`,
  );
}

/**
 * True when a trust setting (or a function {@link compileTrust} made from one) trusts
 * every hop: `true`, `Infinity`. With such a setting any client can choose the address
 * that is logged (Express `trust proxy: true`, Koa `proxy: true` without `maxIpsCount`).
 * A function you wrote yourself is not inspected and yields false.
 */
export function trustsEverything(value: TrustSetting): boolean {
  if (value === true || value === Infinity) return true;
  return typeof value === 'function' && TRUSTS_ALL.has(value);
}

const warned = new Set<string>();

/**
 * Emits one process warning (code `PURPOSEKIT_TRUST_PROXY_WARNING`) per `setting` name
 * when {@link trustsEverything} is true for `value`. Adapters call it at start-up with
 * their framework's setting (e.g. `"Express 'trust proxy'"`). Returns whether it warned
 * or had warned already for that name.
 */
export function warnIfTrustsEverything(value: TrustSetting, setting: string): boolean {
  if (!trustsEverything(value)) return false;
  if (!warned.has(setting)) {
    warned.add(setting);
    process.emitWarning(
      `${setting} trusts every proxy hop, so each client chooses the address that is logged as its own. ` +
        'Trust only your proxies: their addresses or CIDR ranges, or the number of proxy hops in front of the app.',
      { code: 'PURPOSEKIT_TRUST_PROXY_WARNING' },
    );
  }
  return true;
}

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
