/**
 * Internal helpers for validating factory options in the age-gate module: a plain
 * object, no unknown keys (with a "did you mean" hint). Not exported from the package.
 */
import { PurposekitError } from '../errors';
import { validateOptions } from '../options';
import { describe } from './plain-date';

/** Levenshtein distance, bounded: returns `max + 1` as soon as the distance exceeds `max`. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      const value = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      current.push(value);
      if (value < rowMin) rowMin = value;
    }
    if (rowMin > max) return max + 1;
    previous = current;
  }
  return previous[b.length] ?? max + 1;
}

/** The closest of `candidates` to `word` (case-insensitive), if any is close enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  const max = Math.max(2, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = max + 1;
  for (const candidate of candidates) {
    const d = distance(lower, candidate.toLowerCase(), max);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * Checks that `options` is a plain object whose keys are all in `allowed`.
 * @throws PurposekitError `PURPOSEKIT_ERR_INVALID_OPTION` naming the factory, the bad key and the likely fix.
 */
export function checkOptionKeys(options: unknown, allowed: readonly string[], factory: string): asserts options is Record<string, unknown> {
  // Keys only: the age-gate factories check each value themselves (with their own wording).
  validateOptions(factory, options, Object.fromEntries(allowed.map((k) => [k, null])), { optional: false });
}

/** Builds a `PURPOSEKIT_ERR_INVALID_OPTION` error for `option`, saying what was expected. Never pass a secret as `value`. */
export function invalidOption(factory: string, option: string, expected: string, value: unknown): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${factory}: ${option} must be ${expected}; got ${describe(value)}.`, {
    details: { factory, option },
  });
}
