/**
 * Truncation of addresses to a prefix, with the IPv6 forms that carry an IPv4 address
 * handled so that the IPv4 address never survives whole.
 *
 * The rule, per form (p4 = IPv4 prefix, p6 = IPv6 prefix):
 *
 * | form (classification)                       | kept bits                                   | text      |
 * |---------------------------------------------|---------------------------------------------|-----------|
 * | IPv4                                        | first p4                                    | dotted    |
 * | IPv4-mapped `::ffff:0:0/96` (RFC 4291)      | the 96-bit prefix + first p4 of the IPv4    | mixed     |
 * | IPv4-translated `::ffff:0:0:0/96` (RFC 2765)| the 96-bit prefix + first p4 of the IPv4    | mixed     |
 * | NAT64 (RFC 6052): `64:ff9b::/96`, `64:ff9b:1::/48` (RFC 8215) and configured network-specific prefixes | the NAT64 prefix + first p4 of the IPv4 (bits 64–71, the `u` octet, zeroed) | mixed for /96 |
 * | 6to4 `2002::/16` (RFC 3056), IPv4 in bits 16–47 | min(p6, 16 + p4)                         | RFC 5952  |
 * | Teredo `2001::/32` (RFC 4380), server IPv4 in bits 32–63, client IPv4 (XORed) in 96–127 | min(p6, 32 + p4) | RFC 5952 |
 * | IPv4-compatible `::/96` (deprecated), ISATAP interface ids (RFC 5214), IPv4 in 96–127 | min(p6, 96 + p4) | RFC 5952 |
 * | any other IPv6                              | first p6                                    | RFC 5952  |
 *
 * Addresses that are nothing but an IPv4 address in IPv6 clothing (mapped, translated,
 * NAT64) are truncated like the IPv4 client they are, so a dual-stack socket logs the
 * same network as an IPv4 one. For 6to4 and Teredo the embedded IPv4 bits are cut at
 * p4 even when p6 would keep them (the default /48 would keep a 6to4 client's whole
 * IPv4 address). Teredo's client address sits after bit 64 and is always removed.
 *
 * Every result is canonical (RFC 5952, mixed notation where §5 recommends it), re-parses
 * as an address, and is a fixed point: truncating it again gives the same text.
 */
import { PurposekitError } from '../errors';
import { show } from '../policy/suggest';
import { formatIpv6, ipFamily, parseIpv6Words, stripZone, uint32ToIpv4, ipv4ToUint32 } from './address';
import { checkOptionsObject, integerOption } from './options';

/** What stands in a log line for an address that is missing or not valid. Never derived from the input. */
export const INVALID_IP_TOKEN = 'ip-invalid';

/** Default IPv4 prefix kept by truncation (Matomo "1 byte", the last octet removed). */
export const DEFAULT_IPV4_PREFIX = 24;
/** Default IPv6 prefix kept by truncation (Matomo "2 bytes", 80 bits removed). */
export const DEFAULT_IPV6_PREFIX = 48;
/** Longest IPv4 prefix truncation may keep (the policy's bound). */
export const MAX_IPV4_PREFIX = 24;
/** Longest IPv6 prefix truncation may keep (the policy's bound: /64 is one subscriber's network). */
export const MAX_IPV6_PREFIX = 64;

/** Options for {@link redactIp} and the truncation step of pseudonyms. */
export interface IpTruncationOptions {
  /** Bits of an IPv4 address kept, 0–24. Default 24 (`192.0.2.0`). Matomo levels: 24, 16, 8. */
  ipv4Prefix?: number;
  /** Bits of an IPv6 address kept, 0–64. Default 48. Familiar settings: 64, 48, 32, 24. */
  ipv6Prefix?: number;
  /**
   * NAT64 network-specific prefixes in use on your network (RFC 6052 §2.2), e.g.
   * `['2001:db8:122::/48']`. Lengths 32, 40, 48, 56, 64 or 96. The well-known
   * `64:ff9b::/96` and the local-use `64:ff9b:1::/48` (RFC 8215) are always recognised.
   * Default: none.
   */
  nat64Prefixes?: readonly string[];
}

/** Validated, frozen {@link IpTruncationOptions}. */
export interface ResolvedIpTruncation {
  readonly ipv4Prefix: number;
  readonly ipv6Prefix: number;
  readonly nat64Prefixes: readonly string[];
}

/** How an IPv6 address carries (or does not carry) an IPv4 address. */
export type Ipv6Form =
  | 'ipv4-mapped'
  | 'ipv4-translated'
  | 'nat64'
  | '6to4'
  | 'teredo'
  | 'ipv4-compatible'
  | 'isatap'
  | 'ipv6';

interface Nat64Prefix {
  readonly words: Uint16Array;
  readonly length: number;
}

const TRUNCATION_KEYS = ['ipv4Prefix', 'ipv6Prefix', 'nat64Prefixes'] as const;
const NAT64_LENGTHS = [32, 40, 48, 56, 64, 96];
const BUILT_IN_NAT64: readonly Nat64Prefix[] = [
  { words: Uint16Array.of(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), length: 96 },
  { words: Uint16Array.of(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), length: 48 },
];

function prefixMatches(w: Uint16Array, p: Nat64Prefix): boolean {
  const full = p.length >>> 4;
  for (let i = 0; i < full; i++) if (w[i] !== p.words[i]) return false;
  const rest = p.length & 15;
  if (rest === 0) return true;
  const mask = (0xffff << (16 - rest)) & 0xffff;
  return (w[full]! & mask) === p.words[full];
}

/** Zeroes every bit from `bits` on. */
function maskWords(w: Uint16Array, bits: number): void {
  for (let i = 0; i < 8; i++) {
    const keep = bits - i * 16;
    if (keep >= 16) continue;
    w[i] = keep <= 0 ? 0 : w[i]! & ((0xffff << (16 - keep)) & 0xffff);
  }
}

/** Which NAT64 prefix (configured first, then built-in) an address is in, if any. */
function findNat64(w: Uint16Array, configured: readonly Nat64Prefix[]): Nat64Prefix | undefined {
  for (const p of configured) if (prefixMatches(w, p)) return p;
  if (w[0] !== 0x64 || w[1] !== 0xff9b) return undefined;
  for (const p of BUILT_IN_NAT64) if (prefixMatches(w, p)) return p;
  return undefined;
}

/**
 * Classifies 8 IPv6 words (first match wins, in the order of the table above).
 * @internal exported for tests and for the scrubber.
 */
export function classifyIpv6Words(w: Uint16Array, nat64: readonly Nat64Prefix[] = []): Ipv6Form {
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0) {
    if (w[4] === 0 && w[5] === 0xffff) return 'ipv4-mapped';
    if (w[4] === 0xffff && w[5] === 0) return 'ipv4-translated';
  }
  if (findNat64(w, nat64) !== undefined) return 'nat64';
  if (w[0] === 0x2002) return '6to4';
  if (w[0] === 0x2001 && w[1] === 0) return 'teredo';
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0) {
    // `::` and `::1` are the unspecified and loopback addresses, not IPv4 carriers.
    if (w[6] !== 0 || w[7]! > 1) return 'ipv4-compatible';
    return 'ipv6';
  }
  if ((w[4]! & 0xfdff) === 0 && w[5] === 0x5efe) return 'isatap';
  return 'ipv6';
}

function parseNat64Prefix(entry: unknown, index: number): Nat64Prefix {
  const where = `nat64Prefixes[${index}]`;
  const hint = 'Write an IPv6 prefix such as "2001:db8:122::/48" (lengths 32, 40, 48, 56, 64 or 96, RFC 6052 §2.2).';
  if (typeof entry !== 'string') {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${where} must be a string, got ${show(entry)}. ${hint}`);
  }
  const slash = entry.indexOf('/');
  const addr = slash === -1 ? '' : entry.slice(0, slash);
  const len = slash === -1 ? NaN : Number(entry.slice(slash + 1));
  if (ipFamily(addr) !== 6 || addr.includes('%') || !NAT64_LENGTHS.includes(len)) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${where} is not a NAT64 prefix: ${show(entry)}. ${hint}`);
  }
  const words = new Uint16Array(8);
  parseIpv6Words(addr, words);
  const masked = Uint16Array.from(words);
  maskWords(masked, len);
  if (masked.some((v, i) => v !== words[i])) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${where} has bits set after /${len}: ${show(entry)}. ${hint}`);
  }
  if (len === 96 && (words[4]! & 0xff00) !== 0) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${where}: bits 64–71 of a NAT64 prefix must be zero (RFC 6052 §2.2): ${show(entry)}.`);
  }
  return { words, length: len };
}

/** A compiled truncation: validated options plus the per-address function. */
export interface CompiledTruncation {
  readonly options: ResolvedIpTruncation;
  /** Canonical truncated text, or {@link INVALID_IP_TOKEN}. Never throws. */
  readonly truncate: (ip: unknown) => string;
  /** {@link truncate} for text the caller has already validated (`family` from isIP): no second validation. */
  readonly truncateValid: (ip: string, family: 4 | 6) => string;
  /** Truncates 8 words in place. */
  readonly truncateWords: (w: Uint16Array) => void;
  /** Whether 8 words are written in mixed notation (mapped, translated, NAT64 /96). */
  readonly isMixed: (w: Uint16Array) => boolean;
}

/**
 * Validates truncation options once and returns the compiled truncation.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION for an unknown key or a value out of range.
 */
export function compileTruncation(input: IpTruncationOptions | undefined, where = 'IP truncation'): CompiledTruncation {
  const o = checkOptionsObject(input, where, TRUNCATION_KEYS);
  const p4 = integerOption(o['ipv4Prefix'], 'ipv4Prefix', 0, MAX_IPV4_PREFIX, DEFAULT_IPV4_PREFIX, 'Matomo levels: 24 (1 byte removed), 16, 8.');
  const p6 = integerOption(o['ipv6Prefix'], 'ipv6Prefix', 0, MAX_IPV6_PREFIX, DEFAULT_IPV6_PREFIX, 'Familiar settings: 64, 48 (default), 32, 24.');
  const rawNat64 = o['nat64Prefixes'];
  if (rawNat64 !== undefined && !Array.isArray(rawNat64)) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `nat64Prefixes must be an array of IPv6 prefixes, got ${show(rawNat64)}.`);
  }
  const nat64 = ((rawNat64 ?? []) as readonly unknown[]).map(parseNat64Prefix);
  const options: ResolvedIpTruncation = Object.freeze({
    ipv4Prefix: p4,
    ipv6Prefix: p6,
    nat64Prefixes: Object.freeze(((rawNat64 ?? []) as string[]).slice()),
  });

  const v4Mask = p4 === 0 ? 0 : (0xffffffff << (32 - p4)) >>> 0;
  const truncateV4 = (ip: string): string => {
    // Byte-aligned prefixes (every Matomo level) are plain string cuts on text that
    // isIP has already proved canonical: no number parsing on the hot path.
    switch (p4) {
      case 24:
        return `${ip.slice(0, ip.lastIndexOf('.'))}.0`;
      case 16: {
        const d = ip.indexOf('.', ip.indexOf('.') + 1);
        return `${ip.slice(0, d)}.0.0`;
      }
      case 8:
        return `${ip.slice(0, ip.indexOf('.'))}.0.0.0`;
      case 0:
        return '0.0.0.0';
      default:
        return uint32ToIpv4((ipv4ToUint32(ip) & v4Mask) >>> 0);
    }
  };

  const truncateWords = (w: Uint16Array): void => {
    switch (classifyIpv6Words(w, nat64)) {
      case 'ipv4-mapped':
      case 'ipv4-translated':
        maskWords(w, 96 + p4);
        return;
      case 'nat64': {
        const len = findNat64(w, nat64)!.length;
        if (len === 96) {
          maskWords(w, 96 + p4);
          return;
        }
        // RFC 6052 §2.2: the IPv4 bits skip the `u` octet (bits 64–71).
        let end = len + p4;
        if (end > 64) end += 8;
        maskWords(w, end);
        w[4] = w[4]! & 0x00ff;
        return;
      }
      case '6to4':
        maskWords(w, Math.min(p6, 16 + p4));
        return;
      case 'teredo':
        maskWords(w, Math.min(p6, 32 + p4));
        return;
      case 'ipv4-compatible':
      case 'isatap':
        maskWords(w, Math.min(p6, 96 + p4));
        return;
      default:
        maskWords(w, p6);
    }
  };

  // Decided on the RESULT, not the input: a plain address cut down to `64:ff9b::` is in
  // the NAT64 /96 prefix and must print as it will print when truncated again
  // (idempotence of the text, not just of the bits).
  const isMixed = (w: Uint16Array): boolean => {
    if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0) {
      if ((w[4] === 0 && w[5] === 0xffff) || (w[4] === 0xffff && w[5] === 0)) return true;
    }
    return findNat64(w, nat64)?.length === 96;
  };

  const words = new Uint16Array(8);
  const truncateValid = (ip: string, family: 4 | 6): string => {
    if (family === 4) return truncateV4(ip);
    parseIpv6Words(stripZone(ip), words);
    truncateWords(words);
    return formatIpv6(words, isMixed(words));
  };
  const truncate = (ip: unknown): string => {
    const family = ipFamily(ip);
    return family === 0 ? INVALID_IP_TOKEN : truncateValid(ip as string, family);
  };

  return Object.freeze({ options, truncate, truncateValid, truncateWords, isMixed });
}

/**
 * The form of an address: `'ipv4'`, one of the {@link Ipv6Form}s, or `undefined` when it
 * is not a strictly valid address.
 * @internal for tests and diagnostics.
 */
export function classifyIp(ip: unknown, nat64Prefixes: readonly string[] = []): 'ipv4' | Ipv6Form | undefined {
  const family = ipFamily(ip);
  if (family === 0) return undefined;
  if (family === 4) return 'ipv4';
  const w = new Uint16Array(8);
  parseIpv6Words(stripZone(ip as string), w);
  return classifyIpv6Words(w, nat64Prefixes.map(parseNat64Prefix));
}
