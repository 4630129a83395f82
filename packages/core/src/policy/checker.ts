/**
 * The policy checker: collects every validation problem with its exact path (so one
 * `PURPOSEKIT_ERR_POLICY_INVALID` lists them all), plus the small helpers each policy
 * section uses. Internal to the policy module.
 * @internal
 */
import { parseDuration } from './duration';
import { pathJoin } from './json-duplicates';
import { didYouMean, show } from './suggest';
import type { PolicyIssue } from './types';

/** Ids of purposes, categories, gates and recipients: lower-case, at most 64. */
export const ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** ISO 3166-1 alpha-2. */
export const COUNTRY = /^[A-Z]{2}$/;

/** A Set whose contents cannot change after construction. */
export class FrozenSet<T> extends Set<T> {
  #sealed = false;
  constructor(values: Iterable<T>) {
    // The Set constructor would call the overridden add() before #sealed exists.
    super();
    for (const v of values) super.add(v);
    this.#sealed = true;
    Object.freeze(this);
  }
  override add(value: T): this {
    if (this.#sealed) throw new TypeError('A resolved policy is frozen.');
    return super.add(value);
  }
  override delete(): boolean {
    throw new TypeError('A resolved policy is frozen.');
  }
  override clear(): void {
    throw new TypeError('A resolved policy is frozen.');
  }
}

export class Checker {
  readonly errors: PolicyIssue[] = [];
  readonly warnings: PolicyIssue[] = [];

  error(path: string, rule: string, message: string, hint?: string): void {
    this.errors.push(hint === undefined ? { path, rule, message } : { path, rule, message, hint });
  }
  warn(path: string, rule: string, message: string, hint?: string): void {
    this.warnings.push(hint === undefined ? { path, rule, message } : { path, rule, message, hint });
  }

  object(value: unknown, path: string): value is Record<string, unknown> {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return true;
    this.error(path, 'type', `must be an object, got ${show(value)}.`);
    return false;
  }

  knownKeys(value: Record<string, unknown>, path: string, keys: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!keys.includes(key)) {
        this.error(join(path, key), 'unknown-key', `is not a policy field.${didYouMean(key, keys)}`, `Allowed here: ${keys.join(', ')}.`);
      }
    }
  }

  string(value: unknown, path: string, required: boolean): string | undefined {
    if (value === undefined && !required) return undefined;
    if (typeof value === 'string' && value.length > 0) return value;
    const hint = typeof value === 'number' ? 'Quote it in YAML/JSON so it stays a string.' : undefined;
    this.error(path, 'type', `must be a non-empty string, got ${show(value)}.`, hint);
    return undefined;
  }

  boolean(value: unknown, path: string): boolean | undefined {
    if (value === undefined) return undefined;
    if (typeof value === 'boolean') return value;
    this.error(path, 'type', `must be true or false, got ${show(value)}.`);
    return undefined;
  }

  integer(value: unknown, path: string, min: number, max: number, hint?: string): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
    this.error(path, 'range', `must be a whole number from ${min} to ${max}, got ${show(value)}.`, hint);
    return undefined;
  }

  oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[], what: string): T | undefined {
    if (value === undefined) return undefined;
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
    const guess = typeof value === 'string' ? didYouMean(value, allowed) : '';
    this.error(path, `unknown-${what.replace(/ /g, '-')}`, `${show(value)} is not a known ${what}.${guess}`, `Use one of: ${allowed.join(', ')}.`);
    return undefined;
  }

  duration(value: unknown, path: string, words?: ReadonlySet<string>): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value === 'string' && (parseDuration(value) !== undefined || words?.has(value))) return value;
    const extra = words ? ` or one of ${[...words].join(', ')}` : '';
    this.error(path, 'duration', `${show(value)} is not an ISO 8601 duration${extra}.`, 'Examples: P30D (30 days), P1M (one month), P5Y (five years).');
    return undefined;
  }
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function join(path: string, key: string): string {
  return pathJoin(path, key);
}
