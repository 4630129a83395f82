/**
 * Free-text IP scrubbing: every IPv4 and IPv6 address in a string is replaced by its
 * redacted form, in one left-to-right pass (linear time, no regular expression, so no
 * backtracking on hostile input).
 *
 * THE RULE (what counts as an address in free text):
 *
 * 1. Candidates are maximal runs of hex digits, `:` and `.`. A run with fewer than three
 *    dots and fewer than two colons is skipped at once (ordinary words and numbers).
 * 2. IPv6: the run, minus its punctuation (dots at either end, then a lone `:` at either
 *    end, or one `:` of three: `addr:2001:db8::1.`, `key:::1`, `2001:db8:::`), is
 *    searched for the leftmost, then longest, window that starts at its start or right
 *    after a `:`, ends at its end or right before a `:`, and that node:net `isIP` calls
 *    IPv6. So the whole run first (`2001:db8::1:443` is one address); then without a
 *    trailing `:port`, extra group or dotted part (`::ffff:192.0.2.1:8080`,
 *    `2001:db8:::443`, `…:5:6:10.0.0.1`); then without a leading label or dotted part
 *    (`id:2001:db8::1`, `id:::1`, `10.0.0.1:2001:db8::1`). Leftmost first: a wrong window
 *    drops an address's last parts (its lowest bits), never its first ones, which would
 *    shift it (`2002:c000:201:1:2:3:4:5:443` read as `2002:` + `c000:201:…` would keep the
 *    embedded IPv4 and more bits than the policy allows). An ellipsis (`..`) ends a run.
 *    Runs without `::` with fewer than 6 colons (times, MAC addresses) or more than 12
 *    (hex dumps) are not searched. After a match, the rest of the run is searched the same
 *    way, as a run of its own (`2001:db8:1:2:3:4:5:6:2001:db8::9` and
 *    `2001:db8::1:::2001:db8::2` each hold two addresses; no window is longer than an
 *    address can be, so a long run costs linear time), where the colons after an address
 *    may be a separator only: a window starting with `::` gives way to the window right
 *    after it when that one reaches further (`…::1::2001:db8:1:2:3:4:5:6` is never read as
 *    `::2001:db8:1:2:3:4:5`). Two or more hex groups left after a run's last address (no
 *    dot) may be the rest of an address read into the one before it: they are written as
 *    `INVALID_IP_TOKEN` (one group is a port or an extra group, and stays). Rule 3 reads
 *    what is left.
 * 3. IPv4: the run (outside an IPv6 match) is cut at every `:` and every run of two or
 *    more dots (an ellipsis); each piece, minus dots at either end, is an IPv4 address when it is
 *    exactly four dot-separated groups of 1–3 decimal digits, each ≤ 255
 *    (`see...192.0.2.1`, `.192.0.2.1.`, `192.0.2.1.:80`). Four groups with a leading zero
 *    (`010.1.2.3`, ambiguous: octal to some parsers) become `INVALID_IP_TOKEN`.
 * 4. Word boundary: a candidate glued to a letter, digit or `_` outside the run is part of
 *    a word and is left alone (`v1.2.3.4`, `build1.2.3.4x`, `std::vector`). Escapes
 *    are boundaries, not letters: `\n`, `\t`, `\"`, `\\`, `\u001b`, `\x1b` (JSON and
 *    util.inspect output) and `%2F` (percent-encoding) do not protect what follows.
 * 5. IPv6 zone ids after a match (`%eth0`, `%25eth0`) are dropped with the address, and
 *    what follows a dropped zone id starts at a boundary (rule 4);
 *    the `%` stays when a `:` or another `%` follows the zone id, so that what follows is
 *    not glued to the redacted address (`fe80::1%eth0:22` → `fe80::%:22`, where
 *    `fe80:::22` would read differently; `::%0:1a` → `::%:1a`, not `:::1a`, which reads as
 *    the address `::1a`). `%` and two hex digits other than `25` is percent-encoding
 *    (`[…]` written `%5B2001:db8::1%5D`), not a zone id, and stays.
 *
 * So: `1.2.3.4.5` and longer dotted sequences (versions, OIDs), `1.2.3` (versions),
 * `12:34:56.789` (times), `2024-06-01T12:34:56Z` (timestamps), `1.2.3.256`, `v1.2.3.4`
 * and MAC addresses (`00:1a:2b:3c:4d:5e`) are NOT addresses and pass unchanged.
 * Deliberate over-redaction: a four-part version standing alone (`version 10.2.0.1`) is
 * indistinguishable from an address and IS redacted; so are colon-hex words that are
 * valid IPv6 (`dead::beef`, an 8-group EUI-64 `00:1a:2b:ff:fe:3c:4d:5e`).
 * Not recognised: percent-encoded IPv6 (`2001%3Adb8%3A%3A1`), dash-encoded hostnames
 * (`ip-10-0-0-1.ec2.internal`) and tcpdump's `address.port` form (`192.0.2.1.443`, five
 * groups, which rule 3 treats as a version).
 */
import { isIP } from 'node:net';
import { PurposekitError } from '../errors';
import { canonicalizeIp } from './address';
import { checkOptionsObject, functionOption, memoizeByObject } from './options';
import { INVALID_IP_TOKEN, compileTruncation } from './truncate';
import type { IpTruncationOptions } from './truncate';

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
/** Colons in a run without `::` beyond which no address is searched for (hex dumps; an address, a label and a port have at most 11). */
const MAX_RUN_COLONS = 12;

function isHex(c: number): boolean {
  return c < 128 && (CLASS[c]! & HEX) !== 0;
}

function isWordChar(c: number): boolean {
  return c >= 0 && c < 128 && (CLASS[c]! & WORD) !== 0;
}

function isRunChar(c: number): boolean {
  return c < 128 && (CLASS[c]! & RUN) !== 0;
}

/** How many backslashes end at index q (q included). */
function backslashesEndingAt(text: string, q: number): number {
  let k = 0;
  while (q >= 0 && text.charCodeAt(q) === 92) {
    k++;
    q--;
  }
  return k;
}

/**
 * Escapes right before a run at [s, e): JSON (`\n`, `\"`, `\u0041`, `\b`), util.inspect
 * (`\x1b`) and percent-encoding (`%2F`). Returns how many leading characters of the run
 * belong to the escape (its hex digits), -1 when the escape ends just before the run (a
 * boundary, although its last character is a letter), or 0 when there is none. A
 * backslash counts as an escape only when an odd number of them ends there (`\\n` is an
 * escaped backslash and a literal `n`).
 */
function escapeAtRunStart(text: string, s: number, e: number): number {
  if (s === 0) return 0;
  const prev = text.charCodeAt(s - 1);
  if (prev === 37) return s + 2 <= e && isHex(text.charCodeAt(s)) && isHex(text.charCodeAt(s + 1)) ? 2 : 0;
  if (prev === 92) {
    if (backslashesEndingAt(text, s - 1) % 2 === 0) return 0;
    const c = text.charCodeAt(s);
    return c === 98 || c === 102 || c === 48 ? 1 : 0; // \b \f \0: the escape letter is a hex digit
  }
  if (s < 2 || text.charCodeAt(s - 2) !== 92 || backslashesEndingAt(text, s - 2) % 2 === 0) return 0;
  switch (prev) {
    case 117: // \uXXXX
      return s + 4 <= e && isHex(text.charCodeAt(s)) && isHex(text.charCodeAt(s + 1)) && isHex(text.charCodeAt(s + 2)) && isHex(text.charCodeAt(s + 3)) ? 4 : 0;
    case 120: // \xXX
      return s + 2 <= e && isHex(text.charCodeAt(s)) && isHex(text.charCodeAt(s + 1)) ? 2 : 0;
    case 110: case 114: case 116: case 118: // \n \r \t \v
      return -1;
    default:
      return 0;
  }
}

/** Whether [a, b) holds `::`. */
function hasGap(text: string, a: number, b: number): boolean {
  for (let p = a + 1; p < b; p++) if (text.charCodeAt(p) === 58 && text.charCodeAt(p - 1) === 58) return true;
  return false;
}

/** How many `:`-separated hex groups [a, b) holds, or 0 when it holds anything but hex digits and `:`. */
function hexGroupsFrom(text: string, a: number, b: number): number {
  let groups = 0;
  for (let p = a; p < b; p++) {
    const c = text.charCodeAt(p);
    if (c === 58) continue;
    if (!isHex(c)) return 0;
    if (p === a || text.charCodeAt(p - 1) === 58) groups++;
  }
  return groups;
}

/** `%XX` at `p` with XX two hex digits other than `25`: percent-encoding, not a zone id. */
function isPercentEscape(text: string, p: number): boolean {
  const a = text.charCodeAt(p + 1);
  const b = text.charCodeAt(p + 2);
  return isHex(a) && isHex(b) && !(a === 50 && b === 53);
}

/**
 * A necessary condition for [a, b) to be IPv6, checked before the slice and isIP call:
 * one `::` with at most 8 colons, or exactly 7 colons (6 before a dotted quad). Times such as
 * `12:34:56.789` fail here at the cost of one short loop.
 */
function plausibleV6(text: string, a: number, b: number): boolean {
  let colons = 0;
  let gaps = 0;
  let dotted = false;
  for (let p = a; p < b; p++) {
    const c = text.charCodeAt(p);
    if (c === 58) {
      // `1:2:3:4:5:6:7::` has 8 colons; no valid address has more, nor two `::`.
      if (++colons > 8) return false;
      if (p > a && text.charCodeAt(p - 1) === 58 && ++gaps > 1) return false;
    } else if (c === 46) {
      dotted = true;
    }
  }
  if (gaps === 1) return true;
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
export function createIpScrubber(options?: ScrubIpsOptions): IpScrubber {
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
  ).truncateValid;

  // `candidate` has passed isIP (IPv6) or the strict dotted-quad check (IPv4).
  const replace = (candidate: string, family: 4 | 6): string => {
    try {
      if (custom === undefined) return truncate(candidate, family);
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
    const n = text.length;
    if (n < 32) {
      // Short values (log fields) are most often clean: one tight loop beats two indexOf calls.
      let trigger = false;
      for (let k = 0; k < n; k++) {
        const c = text.charCodeAt(k);
        if (c === 46 || c === 58) {
          trigger = true;
          break;
        }
      }
      if (!trigger) return text;
    }
    // Jump from one `.` or `:` to the next with native indexOf (most of a line is never
    // looked at in JS); only the run of hex digits, `:` and `.` around each is examined.
    let nextDot = text.indexOf('.');
    let nextColon = text.indexOf(':');
    if (nextDot === -1 && nextColon === -1) return text;
    let out = '';
    let last = 0;
    let i = 0;
    // Where the last dropped zone id ended (what follows it starts at a boundary).
    let zoneEnd = -1;
    /**
     * Rule 3 over [from, to) of the run [s, e): parts end at every `:` and every run of
     * two or more dots (an ellipsis); a part's leading and trailing dots are punctuation.
     */
    const scanQuads = (from: number, to: number, s: number, e: number, prevSep: boolean, nextSep: boolean): void => {
      let segStart = from;
      for (let p = from; p <= to; p++) {
        if (p < to) {
          const d = text.charCodeAt(p);
          if (d !== 58 && !(d === 46 && p + 1 < to && text.charCodeAt(p + 1) === 46)) continue;
        }
        let a = segStart;
        let b = p;
        while (a < b && text.charCodeAt(a) === 46) a++;
        while (b > a && text.charCodeAt(b - 1) === 46) b--;
        const kind = quadKind(text, a, b);
        if (kind !== 0 && (a > s || prevSep) && (b < e || nextSep)) {
          out += text.slice(last, a) + (kind === 1 ? replace(text.slice(a, b), 4) : INVALID_IP_TOKEN);
          last = b;
        }
        segStart = p + 1;
      }
    };
    for (;;) {
      if (nextDot !== -1 && nextDot < i) nextDot = text.indexOf('.', i);
      if (nextColon !== -1 && nextColon < i) nextColon = text.indexOf(':', i);
      const trigger = nextDot === -1 ? nextColon : nextColon === -1 ? nextDot : Math.min(nextDot, nextColon);
      if (trigger === -1) break;
      let s = trigger;
      while (s > i && isRunChar(text.charCodeAt(s - 1))) s--;
      let e = trigger;
      let colons = 0;
      let dots = 0;
      // An ellipsis (`..`) after something other than dots ends the run: what follows is
      // the next run (`::ffff:10.0.0.1..10.0.0.2` is two addresses).
      let body = s < trigger;
      while (e < n) {
        const d = text.charCodeAt(e);
        if (d === 58) colons++;
        else if (d === 46) {
          if (body && text.charCodeAt(e + 1) === 46) break;
          dots++;
        } else if (!isRunChar(d)) break;
        if (d !== 46) body = true;
        e++;
      }
      i = e;
      if (colons < 2 && dots < 3) continue;
      // Rule 4: an escape right before the run is a boundary, and an escape's own hex
      // digits (`\u001b`, `\x1b`, `%2F`, `\b`) are not part of the candidate.
      const escaped = escapeAtRunStart(text, s, e);
      if (escaped > 0) s += escaped;
      // Right after a dropped zone id is a boundary too: the zone id is gone from the output.
      const prevSep = escaped !== 0 || s === 0 || s === zoneEnd || !isWordChar(text.charCodeAt(s - 1));
      const nextSep = e === n || !isWordChar(text.charCodeAt(e));

      if (colons >= 2) {
        // Rule 2's punctuation: dots at either end, then a lone `:` at either end, or one
        // `:` of three (`addr:::1` is `addr:` + `::1`; `2001:db8:::` is `2001:db8::` + `:`).
        let cs = s;
        let ce = e;
        while (ce > cs && text.charCodeAt(ce - 1) === 46) ce--;
        while (cs < ce && text.charCodeAt(cs) === 46) cs++;
        if (ce - cs >= 2 && text.charCodeAt(ce - 1) === 58 && (text.charCodeAt(ce - 2) !== 58 || (ce - cs >= 3 && text.charCodeAt(ce - 3) === 58))) ce--;
        if (ce - cs >= 2 && text.charCodeAt(cs) === 58 && (text.charCodeAt(cs + 1) !== 58 || (ce - cs >= 3 && text.charCodeAt(cs + 2) === 58))) cs++;
        let match = -1;
        let matchEnd = -1;
        const valid = (a: number, b: number): boolean =>
          b - a >= 2 && b - a <= MAX_V6 && (a > s || prevSep) && (b < e || nextSep) && plausibleV6(text, a, b) && isIP(text.slice(a, b)) === 6;
        /** The end of the longest window starting at `a` that is an address, or -1. */
        const longest = (a: number): number => {
          // No window is longer than MAX_V6, so a long run costs linear time.
          for (let b = ce < a + MAX_V6 ? ce : a + MAX_V6; b >= a + 2; b--) {
            if ((b === ce || text.charCodeAt(b) === 58) && valid(a, b)) return b;
          }
          return -1;
        };
        // Rule 2's search: the leftmost, then longest, window of the run that starts at its
        // start or right after a `:`, ends at its end or right before a `:`, and is an
        // address. A label before the address (`id:2001:db8::1`), a `:port`, an extra group
        // or a dotted part after it (`…:5:6:443`, `…:5:6:10.0.0.1`), a dotted part before
        // it (`10.0.0.1:2001:db8::1`) fall out of this one rule. Leftmost first: a wrong
        // window drops the address's LAST parts (its lowest bits), never its first ones,
        // which would shift it and keep more of it than the policy allows. Runs without
        // `::` and with fewer than 6 colons hold no address (times, MACs): not searched;
        // nor are runs without `::` of more than MAX_RUN_COLONS colons (hex dumps). After a
        // match, the rest of the run is searched the same way (`2001:db8::1:::2001:db8::2`
        // holds two; so does `2001:db8:1:2:3:4:5:6:2001:db8::9`).
        const search = (from: number, rest: boolean): boolean => {
          for (let a = from; a < ce - 1; a++) {
            // A window starts at the run's start or right after a `:`, and ends at the run's
            // end or right before one (so an address glued to a word is never cut out of it);
            // `:::` after a part is a separator then `::` (`10.0.0.1:::1`), not `::` then `:`.
            // The rest of a run after a match is searched as a run of its own.
            if (a !== from && text.charCodeAt(a - 1) !== 58) continue;
            if (text.charCodeAt(a) === 58 && text.charCodeAt(a + 1) === 58 && text.charCodeAt(a + 2) === 58) continue;
            const b = longest(a);
            if (b < 0) continue;
            match = a;
            matchEnd = b;
            // In the rest of a run, the colons after an address may be a separator only: a
            // window starting with `::` gives way to the window right after it when that one
            // reaches further (`…::1::2001:db8:1:2:3:4:5:6` and `…::1:::2001:db8:1:2:3:4:5:6`
            // are never read shifted, as `::2001:db8:1:2:3:4:5`).
            if (rest && text.charCodeAt(a) === 58 && text.charCodeAt(a + 1) === 58) {
              const b2 = longest(a + 2);
              if (b2 > b) {
                match = a + 2;
                matchEnd = b2;
              }
            }
            return true;
          }
          return false;
        };
        if (((colons >= 6 && colons <= MAX_RUN_COLONS) || hasGap(text, cs, ce)) && search(cs, false)) {
          // `quadsFrom`: where the part of the run not yet read by rule 3 begins.
          let quadsFrom = s;
          for (;;) {
            let end = matchEnd;
            let marker = '';
            // Rule 5: a zone id right after the address goes with it; `%` and two hex
            // digits other than `25` (RFC 6874's encoded `%`) is percent-encoding (`%5D`, `%2F`).
            if (matchEnd === e && e < n && text.charCodeAt(e) === 37 && !isPercentEscape(text, e)) {
              let z = e + 1;
              while (z < n && z - e <= MAX_ZONE) {
                const d = text.charCodeAt(z);
                if (d >= 128 || (CLASS[d]! & ZONE) === 0) break;
                z++;
              }
              if (z > e + 1) {
                end = z;
                i = z;
                zoneEnd = z;
                // Its `%` stays when what follows would otherwise be glued to the redacted
                // address (`::%0:1a` → `::%:1a`, not `:::1a`, which reads as `::1a`; a
                // second `%…` would read as its zone id).
                const after = z < n ? text.charCodeAt(z) : -1;
                if (after === 37 || (after >= 0 && after < 128 && (CLASS[after]! & (RUN | ZONE)) !== 0)) marker = '%';
              }
            }
            // The parts of the run around the address (a dotted label, a dotted tail) are
            // read by rule 3 too.
            if (dots >= 3 && match > quadsFrom) scanQuads(quadsFrom, match, s, e, prevSep, nextSep);
            out += text.slice(last, match) + replace(text.slice(match, matchEnd), 6) + marker;
            last = end;
            quadsFrom = end;
            if (matchEnd >= ce - 1 || !search(matchEnd, true)) break;
          }
          // What is left of the run after its last address, when it is two or more hex
          // groups (no dot), may be the rest of an address read into the one before it
          // (`2001:db8::1:2001:db8:1:2:3:4:5:6`, one `:` between them, reads as
          // `2001:db8::1:2001:db8:1:2` + `:3:4:5:6`): it is written as the fixed token.
          // One group is a port or an extra group, and stays.
          const leftover = last === matchEnd && matchEnd < ce ? hexGroupsFrom(text, matchEnd, ce) : 0;
          if (leftover >= 2) {
            let g = matchEnd;
            while (text.charCodeAt(g) === 58) g++;
            out += text.slice(last, g) + INVALID_IP_TOKEN;
            last = ce;
            quadsFrom = e;
          }
          if (dots >= 3 && quadsFrom < e) scanQuads(quadsFrom, e, s, e, prevSep, nextSep);
          continue;
        }
      }

      if (dots >= 3) scanQuads(s, e, s, e, prevSep, nextSep);
    }
    return last === 0 ? text : out + text.slice(last);
  };
}

const compiledScrubber = memoizeByObject((o: ScrubIpsOptions | undefined) => createIpScrubber(o));

/**
 * Replaces every IPv4 and IPv6 address in `text` (with ports, in brackets, in URLs,
 * IPv4-mapped, compressed, with zone ids) by its redacted form, in linear time. What
 * counts as an address, and what deliberately does not (versions such as `1.2.3.4.5`,
 * times, timestamps, MAC addresses), is the rule written at the top of `scrub.ts` and in
 * the package README. Options are validated once per options object; on a hot path,
 * compile once with {@link createIpScrubber}.
 *
 * @example scrubIps('GET / from 192.0.2.33:51234 via [2001:db8::7]:443') // 'GET / from 192.0.2.0:51234 via [2001:db8::]:443'
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION for bad options.
 */
export function scrubIps(text: string, options?: ScrubIpsOptions): string {
  return compiledScrubber(options)(text);
}
