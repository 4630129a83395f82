/**
 * Trusted-proxy matching: a trust setting (Express `trust proxy`, Koa `proxy` +
 * `maxIpsCount`) compiled into a {@link TrustFn}. Client address resolution, which walks
 * the forwarded hops with such a function, is in ./client-ip.ts.
 *
 * Semantics are proxy-addr's (what Express uses), with a numeric matcher (≈ 50–150 ns a
 * call where proxy-addr's costs 0.8–4.7 µs on this machine). Where the two differ, on
 * purpose (each difference is a test in trust-match.test.ts, against proxy-addr 2.0.x):
 *
 * - Candidates are read strictly (node:net): a legacy IPv4 form (`012.1.2.3`, octal
 *   10.1.2.3 to proxy-addr's ipaddr.js 1.x; `0x0a.0.0.1`) is never trusted.
 * - A candidate whose dotted quad follows `::` directly (`::10.0.0.1`, IPv4-compatible,
 *   or `64:ff9b::10.0.0.1`, NAT64) is not an address to proxy-addr 2.0.x (ipaddr.js
 *   1.x), so it never trusts one; here it is the address RFC 4291 says, and a range
 *   covering its bits trusts it (`64:ff9b::/96` trusts `64:ff9b::10.0.0.1`). The
 *   IPv4-compatible `::10.0.0.1` is never the IPv4 address 10.0.0.1 (ipaddr.js 2.x reads
 *   it as `::ffff:10.0.0.1`; RFC 4291 does not).
 * - Entries: a legacy IPv4 form, a zone id (`fe80::1%eth0`) and a dotted quad right
 *   after `::` are refused with PURPOSEKIT_ERR_INVALID_OPTION (proxy-addr accepts the
 *   first two, and refuses the third); adapters then fall back to the framework's own
 *   compiled function, so an app's decision stays the framework's.
 * - Agreed on: IPv4-mapped candidates in any spelling (`::ffff:10.0.0.1`, `::FFFF:…`,
 *   `0:0:0:0:0:ffff:…`, `::ffff:a00:1`) are compared as IPv4; a bare mapped entry is
 *   IPv4; a mapped range of /96 or longer matches the IPv4 addresses it maps, a shorter
 *   one nothing; a native IPv6 range never matches IPv4; hex case; a candidate's zone id
 *   is ignored.
 */
import ipaddr from 'ipaddr.js';
import { PurposekitError } from '../errors';
import { show } from '../policy/suggest';
import { ipFamily, ipv4ToUint32, parseIpv6Words, stripZone } from './address';
import { warningText } from '../warnings';

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

// Every function compileTrust made itself (never one it was given): each depends on its
// arguments and its setting alone, so a result computed with it may be reused for the
// same inputs (the engine's per-connection client-address memo relies on it).
const COMPILED = new WeakSet<TrustFn>();

/**
 * True for a function {@link compileTrust} made from a setting (not a function it was
 * handed): a pure function of `(address, hop)`, which never throws.
 * @internal
 */
export function isCompiledTrust(fn: unknown): boolean {
  return typeof fn === 'function' && COMPILED.has(fn as TrustFn);
}

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

/** An IPv6 text whose dotted quad follows `::` directly (`::10.0.0.1`, `64:ff9b::10.0.0.1`). */
const DOTTED_AFTER_GAP = /::[0-9]+\.[0-9.]+$/;

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
    if (family === 0) throw trustError(e, 'is not a valid address or range');
    if (addr.includes('%')) throw trustError(e, 'has a zone id, which names an interface of one host, not a proxy; remove the "%…" part');
    if (DOTTED_AFTER_GAP.test(addr)) {
      throw trustError(
        e,
        'writes its IPv4 part right after "::", a form proxy-addr (Express) refuses and ipaddr.js 2 reads as IPv4-mapped; write the IPv4 address itself (e.g. "10.0.0.1"), "::ffff:10.0.0.1" for a mapped one, or the last 32 bits in hex (e.g. "64:ff9b::a00:1")',
      );
    }
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
  const fn = function trustRanges(address: string): boolean {
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
  COMPILED.add(fn);
  return fn;
}

function trustNone(): boolean {
  return false;
}

function trustAll(): boolean {
  return true;
}
TRUSTS_ALL.add(trustAll);
COMPILED.add(trustAll);
COMPILED.add(trustNone);

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
 *   count, an invalid address or range (legacy IPv4 forms such as `010.0.0.0/8`, a zone
 *   id, a dotted quad right after `::`: see the differences with proxy-addr at the top of
 *   this file), or a value of another type.
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
    const fn = function trustHops(_address: string, hop: number): boolean {
      return hop < value;
    };
    COMPILED.add(fn);
    return fn;
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
 * Emits one process warning (code `PURPOSEKIT_WARN_TRUST_ALL_PROXIES`, the adapters' trust-all warning) per `setting` name
 * when {@link trustsEverything} is true for `value`. Adapters call it at start-up with
 * their framework's setting (e.g. `"Express 'trust proxy'"`). Returns whether it warned
 * or had warned already for that name.
 */
export function warnIfTrustsEverything(value: TrustSetting, setting: string): boolean {
  if (!trustsEverything(value)) return false;
  if (!warned.has(setting)) {
    warned.add(setting);
    process.emitWarning(warningText('PURPOSEKIT_WARN_TRUST_ALL_PROXIES', setting), { code: 'PURPOSEKIT_WARN_TRUST_ALL_PROXIES' });
  }
  return true;
}
