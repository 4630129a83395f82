/**
 * One options validator for every purposekit factory: the options must be an object, every
 * key known (an unknown one is named with a "did you mean"), each given value of the
 * expected kind, the required ones present; the result is a frozen copy. Factories state
 * their options as a spec instead of hand-writing the same loop.
 */
import { PurposekitError } from './errors';
import { closest, show } from './policy/suggest';

/** The kind of value an option takes. */
export type OptionKind = 'string' | 'non-empty-string' | 'number' | 'integer' | 'boolean' | 'function' | 'object' | 'array';

/** How one option is checked. */
export interface OptionRule {
  /** The kind the value must be (checked when the value is not `undefined`). */
  readonly kind?: OptionKind;
  /** Reject `undefined`. Default false. */
  readonly required?: boolean;
  /** An extra check of a given value (after `kind`). */
  readonly check?: (value: unknown) => boolean;
  /** What the message says the value must be, e.g. `'an audit sink (createFileAuditSink(...))'`. Default: from `kind`. */
  readonly expected?: string;
  /** The value is a secret: the message never shows it, only its type. */
  readonly secret?: boolean;
}

/** A factory's options: each known key with its rule (or just its kind; `null` for "any value"). */
export type OptionsSpec = Readonly<Record<string, OptionRule | OptionKind | null>>;

/** How {@link validateOptions} treats the options object itself. */
export interface ValidateOptionsSettings {
  /** `undefined` options count as `{}`. Default true. */
  readonly optional?: boolean;
  /** The shape to show when the options are not an object, e.g. `'{ path }'`. */
  readonly usage?: string;
}

const KIND_TEXT: Record<OptionKind, string> = {
  string: 'a string',
  'non-empty-string': 'a non-empty string',
  number: 'a finite number',
  integer: 'a whole number',
  boolean: 'true or false',
  function: 'a function',
  object: 'an object',
  array: 'an array',
};

function isKind(value: unknown, kind: OptionKind): boolean {
  switch (kind) {
    case 'string':
      return typeof value === 'string';
    case 'non-empty-string':
      return typeof value === 'string' && value.length > 0;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return Number.isSafeInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'function':
      return typeof value === 'function';
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
  }
}

function invalid(factory: string, option: string | undefined, message: string, extra: Record<string, string> = {}): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', message, { details: { factory, ...(option !== undefined ? { option } : {}), ...extra } });
}

/**
 * Validates a factory's options once, at start-up, and returns them frozen (only the keys
 * given, none added). Call it first thing in a factory; apply defaults to the result.
 *
 * @param factory how the message names the factory, e.g. `'createFileConsentStore()'`
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION naming the factory, the option, the
 *   bad value (never a secret's) and the likely fix (`details: { factory, option, suggestion? }`).
 */
export function validateOptions<T extends object>(factory: string, options: unknown, spec: OptionsSpec, settings: ValidateOptionsSettings = {}): Readonly<T> {
  const value = options === undefined && settings.optional !== false ? {} : options;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(factory, undefined, `${factory}: options must be an object${settings.usage !== undefined ? ` ${settings.usage}` : ''}, got ${show(value)}.`);
  }
  const known = Object.keys(spec);
  const given = value as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (Object.hasOwn(spec, key)) continue;
    const hint = closest(key, known);
    throw invalid(
      factory,
      key,
      `${factory}: unknown option "${key}".${hint === undefined ? '' : ` Did you mean "${hint}"?`} Known options: ${known.join(', ')}.`,
      hint === undefined ? {} : { suggestion: hint },
    );
  }
  for (const key of known) {
    const raw = spec[key];
    const rule: OptionRule = raw === null || raw === undefined ? {} : typeof raw === 'string' ? { kind: raw } : raw;
    const v = given[key];
    if (v === undefined) {
      if (rule.required === true) throw invalid(factory, key, `${factory}: "${key}" is required${rule.expected !== undefined ? `: ${rule.expected}` : ''}.`);
      continue;
    }
    if ((rule.kind !== undefined && !isKind(v, rule.kind)) || (rule.check !== undefined && !rule.check(v))) {
      const got = rule.secret === true ? (v === null ? 'null' : typeof v === 'object' ? 'an object' : `a ${typeof v}`) : show(v);
      throw invalid(factory, key, `${factory}: "${key}" must be ${rule.expected ?? (rule.kind !== undefined ? KIND_TEXT[rule.kind] : 'valid')}, got ${got}.`);
    }
  }
  return Object.freeze({ ...given }) as Readonly<T>;
}
