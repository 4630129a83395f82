/**
 * Parsing a line of a trail that may be hostile: nesting is bounded before JSON.parse and
 * the canonicalizer ever recurse, and numbers that JSON.parse turns into ±Infinity
 * (`1e999`) are refused — RFC 8785 cannot encode them, so such a record can have no hash.
 */

/** Deeper than any record (records nest three levels); deep enough for any attribute. */
export const MAX_JSON_DEPTH = 32;

/** A parsed JSON object, or why the text is not a usable one. */
export type SafeJsonResult = { readonly value: Record<string, unknown>; readonly problem?: undefined } | { readonly value?: undefined; readonly problem: string };

/** The maximum nesting depth of JSON text (brackets outside strings). Linear, no recursion. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) max = depth;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return max;
}

/**
 * Walks a parsed value without recursion: the nesting depth (stopping past the limit) and
 * whether some number is not finite.
 */
function inspect(root: unknown): { depth: number; nonFinite: boolean } {
  const stack: Array<[unknown, number]> = [[root, 1]];
  let depth = 0;
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return { depth, nonFinite: true };
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (d > depth) depth = d;
    if (depth > MAX_JSON_DEPTH) return { depth, nonFinite: false };
    const values = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
    for (const x of values) stack.push([x, d + 1]);
  }
  return { depth, nonFinite: false };
}

/** Parses a JSON object safely: never throws, never recurses without bound. */
export function parseJsonObjectSafely(text: string): SafeJsonResult {
  let value: unknown;
  try {
    // V8's JSON.parse is iterative: deep nesting parses; only what comes after must not recurse.
    value = JSON.parse(text);
  } catch (error) {
    // A parser that does recurse (another engine) overflows its stack: report the depth.
    if (error instanceof RangeError) return { problem: `nested ${jsonDepth(text)} levels deep (at most ${MAX_JSON_DEPTH})` };
    return { problem: 'not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'not a JSON object' };
  const { depth, nonFinite } = inspect(value);
  if (depth > MAX_JSON_DEPTH) return { problem: `nested ${jsonDepth(text)} levels deep (at most ${MAX_JSON_DEPTH})` };
  if (nonFinite) return { problem: 'a number out of range (it parses as Infinity and has no canonical form)' };
  return { value: value as Record<string, unknown> };
}
