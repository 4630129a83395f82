/**
 * An oracle for the IP tests that shares no code with src/ip: addresses are validated by
 * ipaddr.js and read into 128 bits by a few lines written from RFC 4291 §2.2, truncated with BigInt masks written from the
 * table in docs/ip-redaction.md (RFC 4291, 2765, 3056, 4380, 5214, 6052, 8215), and
 * printed by a formatter written from RFC 5952 §4–5. Slow and plain on purpose.
 */
import ipaddr from 'ipaddr.js';

const DOTTED = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])){3}$/;

/** A dotted quad with no leading zeros, each part ≤ 255. */
export function isStrictV4(text: string): boolean {
  return DOTTED.test(text);
}

/** An IPv6 address without zone id (any dotted tail must be a strict quad). */
export function isStrictV6(text: string): boolean {
  if (text.includes('%') || !ipaddr.IPv6.isValid(text)) return false;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  return !tail.includes('.') || isStrictV4(tail);
}

/**
 * The 128 bits of a valid IPv6 text (RFC 4291 §2.2: `::` stands for the missing zero
 * groups; a dotted tail is the last 32 bits). Not ipaddr.js's parse: it reads `::a.b.c.d`
 * as `::ffff:a.b.c.d` (an IPv4-compatible address taken for a mapped one).
 */
function v6Bits(text: string): bigint {
  const groups = (s: string): number[] =>
    s === ''
      ? []
      : s.split(':').flatMap((g) => {
          if (!g.includes('.')) return [parseInt(g, 16)];
          const [a, b, c, d] = g.split('.').map(Number) as [number, number, number, number];
          return [a * 256 + b, c * 256 + d];
        });
  const cut = text.indexOf('::');
  const head = groups(cut === -1 ? text : text.slice(0, cut));
  const tail = cut === -1 ? [] : groups(text.slice(cut + 2));
  const words = [...head, ...Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  return words.reduce((v, w) => (v << 16n) | BigInt(w), 0n);
}

function v4Bits(text: string): bigint {
  let v = 0n;
  for (const b of ipaddr.IPv4.parse(text).toByteArray()) v = (v << 8n) | BigInt(b);
  return v;
}

const ALL128 = (1n << 128n) - 1n;
/** The 128-bit value with only bits [0, n) kept (bit 0 is the most significant). */
function keep128(v: bigint, n: number): bigint {
  if (n <= 0) return 0n;
  if (n >= 128) return v;
  return v & (ALL128 ^ ((1n << BigInt(128 - n)) - 1n));
}

function word(v: bigint, i: number): number {
  return Number((v >> BigInt(112 - 16 * i)) & 0xffffn);
}

function top(v: bigint, bits: number): bigint {
  return v >> BigInt(128 - bits);
}

const isMapped = (v: bigint): boolean => top(v, 96) === 0xffffn;
const isTranslated = (v: bigint): boolean => top(v, 96) === 0xffff0000n;
const isNat64Wkp = (v: bigint): boolean => top(v, 96) === 0x0064ff9b0000000000000000n;
const isNat64Local = (v: bigint): boolean => top(v, 48) === 0x0064ff9b0001n;

/** RFC 5952: lower case, no leading zeros, the longest run (≥ 2, first on a tie) of zero words as `::`; mixed writes the last 32 bits dotted. */
export function rfc5952(v: bigint, mixed: boolean): string {
  const count = mixed ? 6 : 8;
  const words = Array.from({ length: count }, (_, i) => word(v, i));
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < count; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < count && words[j] === 0) j++;
    if (j - i >= 2 && j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  let head: string;
  if (best === -1) head = hex(words) + (mixed ? ':' : '');
  else {
    const left = hex(words.slice(0, best));
    const right = hex(words.slice(best + bestLen));
    head = `${left}::${right}${mixed && right !== '' ? ':' : ''}`;
  }
  if (!mixed) return head;
  const low = Number(v & 0xffffffffn);
  return `${head}${low >>> 24}.${(low >>> 16) & 255}.${(low >>> 8) & 255}.${low & 255}`;
}

/** Canonical text of a strict address (IPv6 zone ids are dropped first). */
export function oracleCanonical(text: string): string {
  if (isStrictV4(text)) return text;
  const bare = text.split('%')[0]!;
  const v = v6Bits(bare);
  return rfc5952(v, isMapped(v) || isTranslated(v) || isNat64Wkp(v));
}

/** Truncation per the policy table (p4 / p6 prefix lengths). */
export function oracleTruncate(text: string, p4: number, p6: number): string {
  if (isStrictV4(text)) {
    const v = Number(v4Bits(text));
    const masked = p4 === 0 ? 0 : (v & (0xffffffff << (32 - p4))) >>> 0;
    return `${masked >>> 24}.${(masked >>> 16) & 255}.${(masked >>> 8) & 255}.${masked & 255}`;
  }
  const v = v6Bits(text.split('%')[0]!);
  let out: bigint;
  if (isMapped(v) || isTranslated(v) || isNat64Wkp(v)) out = keep128(v, 96 + p4);
  else if (isNat64Local(v)) {
    // RFC 6052 §2.2 /48: IPv4 bits 48–63 and 72–87 around the `u` octet (64–71), which is zero.
    const end = 48 + p4 > 64 ? 48 + p4 + 8 : 48 + p4;
    out = keep128(v, end) & (ALL128 ^ (0xffn << 56n));
  } else if (word(v, 0) === 0x2002) out = keep128(v, Math.min(p6, 16 + p4));
  else if (word(v, 0) === 0x2001 && word(v, 1) === 0) out = keep128(v, Math.min(p6, 32 + p4));
  else if (top(v, 96) === 0n && v > 1n) out = keep128(v, Math.min(p6, 96 + p4));
  else if ((word(v, 4) & 0xfdff) === 0 && word(v, 5) === 0x5efe) out = keep128(v, Math.min(p6, 96 + p4));
  else out = keep128(v, p6);
  return rfc5952(out, isMapped(out) || isTranslated(out) || isNat64Wkp(out));
}
