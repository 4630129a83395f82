/** Option validation shared by the IP and logging factories (validate once, reject unknown keys). */
import { PurposekitError } from '../errors';
import { validateOptions } from '../options';
import { show } from '../policy/suggest';

/**
 * Throws `PURPOSEKIT_ERR_INVALID_OPTION` unless `value` is undefined or a plain object
 * whose keys are all in `known` (with a "did you mean" hint for a typo).
 */
export function checkOptionsObject(value: unknown, where: string, known: readonly string[]): Readonly<Record<string, unknown>> {
  // Keys only: the IP factories check each value themselves (integerOption, booleanOption…).
  return validateOptions<Record<string, unknown>>(where, value, Object.fromEntries(known.map((k) => [k, null])));
}

/** An integer in [min, max], or `fallback` when undefined. */
export function integerOption(value: unknown, name: string, min: number, max: number, fallback: number, hint = ''): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new PurposekitError(
      'PURPOSEKIT_ERR_INVALID_OPTION',
      `${name} must be an integer from ${min} to ${max}, got ${show(value)}.${hint === '' ? '' : ` ${hint}`}`,
    );
  }
  return value;
}

/** A boolean, or `fallback` when undefined. */
export function booleanOption(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${name} must be true or false, got ${show(value)}.`);
  }
  return value;
}

/** A function, or `fallback` when undefined. */
export function functionOption<F>(value: unknown, name: string, fallback: F): F {
  if (value === undefined) return fallback;
  if (typeof value !== 'function') {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${name} must be a function, got ${show(value)}.`);
  }
  return value as F;
}

/**
 * Compiles an options object once and remembers the result per object, so per-call
 * convenience functions (`redactIp(ip, options)`) validate a given options object once.
 */
export function memoizeByObject<O extends object, R>(compile: (options: O | undefined) => R): (options: O | undefined) => R {
  const cache = new WeakMap<O, R>();
  let defaults: R | undefined;
  return (options) => {
    if (options === undefined) return (defaults ??= compile(undefined));
    if (typeof options !== 'object' || options === null) return compile(options);
    let hit = cache.get(options);
    if (hit === undefined) {
      hit = compile(options);
      cache.set(options, hit);
    }
    return hit;
  };
}
