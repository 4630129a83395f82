/**
 * Strict address parsing and canonical text (RFC 5952).
 *
 * Validation is node:net `isIP` (a maintained parser, no hand-written classification
 * regex). It already rejects every legacy or ambiguous IPv4 form (`127.1`, `0x7f.0.0.1`,
 * `012.1.2.3`, bare integers) and anything with a port or brackets. Only once a string
 * is known to be valid do the char-code loops below turn it into numbers: they never
 * decide validity, so they can stay small and fast (the hot path has a per-request
 * budget of ≤ 100 ns for IPv4 and ≤ 600 ns for IPv6, validation included).
 */
import { isIP } from 'node:net';

/**
 * The longest text accepted as an address. A full IPv6 address in mixed notation is 45
 * characters; the rest leaves room for a zone id (dropped). Longer input is rejected
 * before `isIP` sees it, so hostile input costs bounded work.
 */
export const MAX_IP_TEXT_LENGTH = 100;

/** 0 when `text` is not a strictly valid address, else its family. */
export function ipFamily(text: unknown): 0 | 4 | 6 {
  if (typeof text !== 'string' || text.length > MAX_IP_TEXT_LENGTH) return 0;
  return isIP(text) as 0 | 4 | 6;
}

/** Removes an IPv6 zone id (`fe80::1%eth0` → `fe80::1`): it names a local interface, never part of the address. */
export function stripZone(text: string): string {
  const pct = text.indexOf('%');
  return pct === -1 ? text : text.slice(0, pct);
}

/** The 32-bit value of a VALID dotted quad (validated by the caller). */
export function ipv4ToUint32(text: string, start = 0, end = text.length): number {
  let value = 0;
  let part = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      value = value * 256 + part;
      part = 0;
    } else {
      part = part * 10 + (c - 48);
    }
  }
  return value * 256 + part;
}

/** Dotted-quad text of a 32-bit value. */
export function uint32ToIpv4(value: number): string {
  return `${(value >>> 24) & 255}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

function hexValue(c: number): number {
  // '0'-'9' → 0-9, 'A'-'F' / 'a'-'f' → 10-15 (input already validated as hex).
  return c <= 57 ? c - 48 : (c | 32) - 87;
}

/**
 * Fills `out` (8 words) from a VALID IPv6 text without zone id (validated by the caller).
 * Handles `::` compression, any hex case and leading zeros, and a trailing dotted quad.
 * One pass, no allocation: the words after `::` are shifted into place at the end.
 */
export function parseIpv6Words(text: string, out: Uint16Array): void {
  const n = text.length;
  let k = 0;
  let v = 0;
  let gap = -1;
  let groupStart = 0;
  let i = 0;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 58) {
      if (i > 0 && text.charCodeAt(i - 1) !== 58) {
        out[k++] = v;
        v = 0;
      }
      if (i + 1 < n && text.charCodeAt(i + 1) === 58) {
        gap = k;
        i++;
      }
      groupStart = i + 1;
    } else if (c === 46) {
      // A dotted quad closes the address: this group is its first octet, in decimal.
      const v4 = ipv4ToUint32(text, groupStart, n);
      out[k++] = v4 >>> 16;
      out[k++] = v4 & 0xffff;
      break;
    } else {
      v = (v << 4) | hexValue(c);
    }
  }
  if (i === n && text.charCodeAt(n - 1) !== 58) out[k++] = v;
  if (gap === -1) return;
  const tail = k - gap;
  for (let j = tail - 1; j >= 0; j--) out[8 - tail + j] = out[gap + j]!;
  for (let z = gap; z < 8 - tail; z++) out[z] = 0;
}

// Hex text of a byte, without and with a leading zero: formatting a word is two lookups.
const HEX: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16));
const HEX2: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

function hexWord(w: number): string {
  const hi = w >>> 8;
  return hi === 0 ? HEX[w]! : HEX[hi]! + HEX2[w & 255]!;
}

/**
 * RFC 5952 text of 8 words: lower case, no leading zeros, the longest run of two or more
 * zero words (the first on a tie) compressed to `::`. With `mixed`, the last 32 bits are
 * written as a dotted quad (RFC 5952 §5, for prefixes known to embed IPv4).
 */
export function formatIpv6(words: Uint16Array, mixed: boolean): string {
  const hexWords = mixed ? 6 : 8;
  let bestStart = -1;
  let bestLen = 1;
  let runStart = -1;
  for (let i = 0; i < hexWords; i++) {
    if (words[i] === 0) {
      if (runStart === -1) runStart = i;
      const len = i - runStart + 1;
      if (len > bestLen) {
        bestStart = runStart;
        bestLen = len;
      }
    } else {
      runStart = -1;
    }
  }
  let s = '';
  for (let i = 0; i < hexWords; i++) {
    if (i === bestStart) {
      s += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    s += hexWord(words[i]!);
    if (i < 7) s += ':';
  }
  if (mixed) {
    const v4 = words[6]! * 65536 + words[7]!;
    return s + uint32ToIpv4(v4);
  }
  if (bestStart !== -1 && bestStart + bestLen === 8 && s.charCodeAt(s.length - 1) !== 58) s += ':';
  return s;
}

/**
 * True when the 8 words are one of the well-known forms RFC 5952 §5 writes in mixed
 * notation: IPv4-mapped `::ffff:0:0/96` (RFC 4291), IPv4-translated `::ffff:0:0:0/96`
 * (RFC 2765) and the NAT64 well-known prefix `64:ff9b::/96` (RFC 6052).
 */
export function isWellKnownMixed(w: Uint16Array): boolean {
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0) {
    return (w[4] === 0 && w[5] === 0xffff) || (w[4] === 0xffff && w[5] === 0);
  }
  return w[0] === 0x64 && w[1] === 0xff9b && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0;
}

const SCRATCH = new Uint16Array(8);

/**
 * The canonical text of an address, or `undefined` when `text` is not a strictly valid
 * IPv4 dotted quad or IPv6 address. IPv6 comes out in RFC 5952 form (mixed notation for
 * the well-known IPv4-embedding prefixes), with any zone id dropped. Legacy and ambiguous
 * forms (`127.1`, `0x7f.0.0.1`, `012.1.2.3`, a bare integer), `host:port`, `[v6]:port`,
 * `unknown` and anything over {@link MAX_IP_TEXT_LENGTH} characters are all `undefined`.
 *
 * @example canonicalizeIp('2001:DB8:0:0:0:0:2:1') // '2001:db8::2:1'
 */
export function canonicalizeIp(text: unknown): string | undefined {
  const family = ipFamily(text);
  if (family === 4) return text as string;
  if (family === 0) return undefined;
  parseIpv6Words(stripZone(text as string), SCRATCH);
  return formatIpv6(SCRATCH, isWellKnownMixed(SCRATCH));
}
