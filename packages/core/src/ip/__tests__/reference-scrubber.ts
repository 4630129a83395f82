/**
 * Reference for differential tests: the first, char-by-char forward implementation of the
 * scrubber (escapes skipped as they are met). The shipped scrubber jumps between `.` and
 * `:` with indexOf and recognises escapes by looking back; both must agree on all input.
 */
import { isIP } from 'node:net';
import { PurposekitError } from '../../errors';
import { canonicalizeIp } from '../address';
import { checkOptionsObject, functionOption } from '../options';
import { INVALID_IP_TOKEN, compileTruncation } from '../truncate';
import type { IpTruncationOptions } from '../truncate';

/** Options for {@link scrubIps} / {@link createIpScrubber}. */
export interface ScrubIpsOptions extends IpTruncationOptions {
  /**
   * Replaces one address found in the text (it receives the canonical address). Use the
   * function from `createIpRedactor(policy.logs.ip, keys)` to apply the policy,
   * pseudonyms included. Default: truncation with `ipv4Prefix` / `ipv6Prefix`, which
   * must not be given together with `redact`. If it throws, `INVALID_IP_TOKEN` is written.
   */
  redact?: (ip: string) => string;
}

/** A compiled scrubber: text in, text with every address redacted out. */
export type IpScrubber = (text: string) => string;

const SCRUB_KEYS = ['ipv4Prefix', 'ipv6Prefix', 'nat64Prefixes', 'redact'] as const;

// Character classes (ASCII only; everything from U+0080 up is a boundary).
const HEX = 1;
const COLON = 2;
const DOT = 4;
const WORD = 8;
const ZONE = 16;
const RUN = HEX | COLON | DOT;
const CLASS = new Uint8Array(128);
for (let c = 48; c <= 57; c++) CLASS[c] = HEX | WORD | ZONE;
for (let c = 65; c <= 90; c++) CLASS[c] = WORD | ZONE | (c <= 70 ? HEX : 0);
for (let c = 97; c <= 122; c++) CLASS[c] = WORD | ZONE | (c <= 102 ? HEX : 0);
CLASS[95] = WORD | ZONE; // _
CLASS[58] = COLON;
CLASS[46] = DOT | ZONE;
CLASS[45] = ZONE; // -
CLASS[126] = ZONE; // ~

/** Longest IPv6 text (mixed notation) we hand to isIP. */
const MAX_V6 = 45;
/** Longest zone id swallowed after an address. */
const MAX_ZONE = 64;

function isHex(c: number): boolean {
  return c < 128 && (CLASS[c]! & HEX) !== 0;
}

function isWordChar(c: number): boolean {
  return c >= 0 && c < 128 && (CLASS[c]! & WORD) !== 0;
}

/**
 * Length of an escape sequence starting at `i` (a `\` or `%`), or 0. Escapes are
 * boundaries: JSON (`\n`, `\"`, `\u0041`), util.inspect (`\x1b`) and percent-encoding.
 */
function escapeLength(text: string, i: number, n: number): number {
  const c = text.charCodeAt(i);
  const d = i + 1 < n ? text.charCodeAt(i + 1) : -1;
  if (c === 37) return i + 2 < n && isHex(d) && isHex(text.charCodeAt(i + 2)) ? 3 : 0;
  switch (d) {
    case 117: // \uXXXX
      return i + 5 < n && isHex(text.charCodeAt(i + 2)) && isHex(text.charCodeAt(i + 3)) && isHex(text.charCodeAt(i + 4)) && isHex(text.charCodeAt(i + 5)) ? 6 : 0;
    case 120: // \xXX
      return i + 3 < n && isHex(text.charCodeAt(i + 2)) && isHex(text.charCodeAt(i + 3)) ? 4 : 0;
    case 110: case 114: case 116: case 98: case 102: case 118: case 48: // n r t b f v 0
    case 34: case 39: case 92: case 47: // " ' \ /
      return 2;
    default:
      return 0;
  }
}

/**
 * A necessary condition for [a, b) to be IPv6, checked before the slice and isIP call:
 * `::` with at most 7 colons, or exactly 7 colons (6 before a dotted quad). Times such as
 * `12:34:56.789` fail here at the cost of one short loop.
 */
function plausibleV6(text: string, a: number, b: number): boolean {
  let colons = 0;
  let compressed = false;
  let dotted = false;
  for (let p = a; p < b; p++) {
    const c = text.charCodeAt(p);
    if (c === 58) {
      colons++;
      if (p > a && text.charCodeAt(p - 1) === 58) compressed = true;
    } else if (c === 46) {
      dotted = true;
    }
  }
  if (colons > 8) return false;
  if (compressed) return true;
  return colons === (dotted ? 6 : 7);
}

/**
 * Four decimal groups in [a, b)? Returns 0 (no), 1 (canonical IPv4), 2 (leading-zero form).
 * Never more than 15 characters are looked at.
 */
function quadKind(text: string, a: number, b: number): 0 | 1 | 2 {
  const len = b - a;
  if (len < 7 || len > 15) return 0;
  let groups = 0;
  let digits = 0;
  let value = 0;
  let leadingZero = false;
  for (let p = a; p <= b; p++) {
    const c = p === b ? 46 : text.charCodeAt(p);
    if (c === 46) {
      if (digits === 0 || value > 255) return 0;
      if (digits > 1 && text.charCodeAt(p - digits) === 48) leadingZero = true;
      groups++;
      digits = 0;
      value = 0;
    } else if (c >= 48 && c <= 57) {
      if (++digits > 3) return 0;
      value = value * 10 + (c - 48);
    } else {
      return 0;
    }
  }
  if (groups !== 4) return 0;
  return leadingZero ? 2 : 1;
}

/**
 * Compiles a scrubber once (options validated, truncation compiled).
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION
 */
export function createReferenceScrubber(options?: ScrubIpsOptions): IpScrubber {
  const o = checkOptionsObject(options, 'createIpScrubber()', SCRUB_KEYS);
  const custom = functionOption<((ip: string) => string) | undefined>(o['redact'], 'redact', undefined);
  if (custom !== undefined && (o['ipv4Prefix'] !== undefined || o['ipv6Prefix'] !== undefined)) {
    throw new PurposekitError(
      'PURPOSEKIT_ERR_INVALID_OPTION',
      'createIpScrubber(): give either "redact" (which decides the output) or "ipv4Prefix"/"ipv6Prefix", not both.',
    );
  }
  const truncate = compileTruncation(
    { ipv4Prefix: o['ipv4Prefix'], ipv6Prefix: o['ipv6Prefix'], nat64Prefixes: o['nat64Prefixes'] } as IpTruncationOptions,
    'createIpScrubber()',
  ).truncate;

  const replace = (candidate: string): string => {
    try {
      if (custom === undefined) return truncate(candidate);
      const canonical = canonicalizeIp(candidate);
      if (canonical === undefined) return INVALID_IP_TOKEN;
      const out = custom(canonical);
      return typeof out === 'string' ? out : INVALID_IP_TOKEN;
    } catch {
      return INVALID_IP_TOKEN;
    }
  };

  return function scrubIpsIn(input: string): string {
    const text = typeof input === 'string' ? input : String(input);
    // Most log lines with no `.` or `:` at all cannot hold an address.
    if (text.indexOf('.') === -1 && text.indexOf(':') === -1) return text;
    const n = text.length;
    let out = '';
    let last = 0;
    let boundary = 0; // a run starting here follows an escape (or the start of the text)
    let i = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c >= 128 || (CLASS[c]! & RUN) === 0) {
        if (c === 92 || c === 37) {
          const skip = escapeLength(text, i, n);
          if (skip > 0) {
            i += skip;
            boundary = i;
            continue;
          }
        }
        i++;
        continue;
      }
      const s = i;
      let colons = 0;
      let dots = 0;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d >= 128 || (CLASS[d]! & RUN) === 0) break;
        if (d === 58) colons++;
        else if (d === 46) dots++;
        i++;
      }
      const e = i;
      if (colons < 2 && dots < 3) continue;
      const prevSep = s === boundary || !isWordChar(text.charCodeAt(s - 1));
      const nextSep = e === n || !isWordChar(text.charCodeAt(e));

      if (colons >= 2) {
        let cs = s;
        let ce = e;
        while (ce > cs && text.charCodeAt(ce - 1) === 46) ce--;
        if (ce - cs >= 2 && text.charCodeAt(ce - 1) === 58 && text.charCodeAt(ce - 2) !== 58) ce--;
        if (ce - cs >= 2 && text.charCodeAt(cs) === 58 && text.charCodeAt(cs + 1) !== 58) cs++;
        let match = -1;
        let matchEnd = -1;
        const attempt = (a: number, b: number): boolean => {
          if (b - a < 2 || b - a > MAX_V6) return false;
          if (!(a > s || prevSep) || !(b < e || nextSep)) return false;
          if (!plausibleV6(text, a, b) || isIP(text.slice(a, b)) !== 6) return false;
          match = a;
          matchEnd = b;
          return true;
        };
        // Rule 2's alternatives: a leading 1–4 hex label, a trailing :port.
        let labelEnd = -1;
        const firstColon = text.indexOf(':', cs);
        if (firstColon > cs && firstColon - cs <= 4 && firstColon + 1 < ce && text.charCodeAt(firstColon + 1) !== 58) labelEnd = firstColon + 1;
        let portStart = -1;
        const lastColon = text.lastIndexOf(':', ce - 1);
        if (lastColon > cs && ce - lastColon - 1 >= 1 && ce - lastColon - 1 <= 5 && text.charCodeAt(lastColon - 1) !== 58) {
          let digitsOnly = true;
          for (let p = lastColon + 1; p < ce; p++) {
            const d = text.charCodeAt(p);
            if (d < 48 || d > 57) digitsOnly = false;
          }
          if (digitsOnly) portStart = lastColon;
        }
        const found =
          attempt(cs, ce) ||
          (labelEnd !== -1 && attempt(labelEnd, ce)) ||
          (portStart !== -1 && attempt(cs, portStart)) ||
          (labelEnd !== -1 && portStart !== -1 && attempt(labelEnd, portStart));
        if (found) {
          let end = matchEnd;
          // Rule 5: a zone id right after the address goes with it.
          if (matchEnd === e && e < n && text.charCodeAt(e) === 37) {
            let z = e + 1;
            while (z < n && z - e <= MAX_ZONE) {
              const d = text.charCodeAt(z);
              if (d >= 128 || (CLASS[d]! & ZONE) === 0) break;
              z++;
            }
            if (z > e + 1) {
              end = z;
              i = z;
            }
          }
          out += text.slice(last, match) + replace(text.slice(match, matchEnd));
          last = end;
          continue;
        }
      }

      if (dots < 3) continue;
      let segStart = s;
      for (let p = s; p <= e; p++) {
        if (p < e && text.charCodeAt(p) !== 58) continue;
        let segEnd = p;
        if (p === e) while (segEnd > segStart && text.charCodeAt(segEnd - 1) === 46) segEnd--;
        const kind = quadKind(text, segStart, segEnd);
        if (kind !== 0 && (segStart > s || prevSep) && (segEnd < e || nextSep)) {
          out += text.slice(last, segStart) + (kind === 1 ? replace(text.slice(segStart, segEnd)) : INVALID_IP_TOKEN);
          last = segEnd;
        }
        segStart = p + 1;
      }
    }
    return last === 0 ? text : out + text.slice(last);
  };
}

