/**
 * Policy validation: turns a {@link PolicyInput} (object, JSON or YAML) into a frozen
 * {@link Policy}, or throws one `PURPOSEKIT_ERR_POLICY_INVALID` listing EVERY problem with
 * its exact path, the bad value and the likely fix.
 *
 * Hand-written rather than built on a schema library: the checks are mostly
 * cross-references (a purpose's age gate must exist, a default purpose must be in use,
 * a category must be built in or declared, a transfer must go to a recipient) and every
 * message needs a domain hint and a "did you mean", which schema libraries leave to
 * custom code anyway. The sections live beside this file: checker.ts (the collector),
 * gates.ts, purposes.ts, sections.ts (everything else).
 */
import { PurposekitError } from '../errors';
import { JURISDICTIONS } from '../vocabulary';
import type { Jurisdiction } from '../vocabulary';
import { Checker, FrozenSet, ID, join } from './checker';
import { resolveAgeGates } from './gates';
import { GPC_DEFAULT_PURPOSES, resolvePurposes } from './purposes';
import { resolveAudit, resolveController, resolveIpLog, resolveRecipients, resolveRights, resolveSecurity, resolveSignals, resolveVocabulary } from './sections';
import { didYouMean, show } from './suggest';
import type { Policy, PolicyInput, PolicyIssue, ResolvedRecipient } from './types';

export { GPC_DEFAULT_PURPOSES };

const POLICY_BRAND = Symbol.for('purposekit.policy');
/** The input a policy was defined from (a frozen JSON copy), for {@link policyInputOf}. */
const POLICY_INPUT = Symbol('purposekit.policy.input');

function frozenCopy<T>(value: T): T {
  const freeze = (v: unknown): unknown => {
    if (typeof v === 'object' && v !== null) {
      for (const k of Object.keys(v)) freeze((v as Record<string, unknown>)[k]);
      Object.freeze(v);
    }
    return v;
  };
  return freeze(JSON.parse(JSON.stringify(value))) as T;
}

const TOP_KEYS = [
  'id', 'version', 'title', 'source', 'jurisdictions', 'defaultPurpose', 'purposes', 'customPurposes',
  'customCategories', 'ageGates', 'logs', 'audit', 'signals', 'rights', 'controller', 'security', 'recipients',
] as const;

/** Options for {@link definePolicy}. */
export interface DefinePolicyOptions {
  /**
   * Receives each non-fatal finding. Default: `process.emitWarning` with code
   * `PURPOSEKIT_WARN_POLICY`, so warnings show once in the service's stderr.
   */
  onWarning?: (issue: PolicyIssue) => void;
}

/** True when `value` is a policy produced by {@link definePolicy} or `loadPolicy`. */
export function isPolicy(value: unknown): value is Policy {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[POLICY_BRAND] === true;
}

/**
 * Validates a policy and returns its frozen, resolved form.
 *
 * @throws PurposekitError `PURPOSEKIT_ERR_POLICY_INVALID` with `details.issues`: every
 *   problem found, each with its exact path (e.g. `purposes.analytics.basis`).
 */
export function definePolicy(input: PolicyInput | Policy, options: DefinePolicyOptions = {}): Policy {
  if (isPolicy(input)) return input;
  const c = new Checker();
  if (!c.object(input, '(policy)')) throw invalid(c.errors);
  const raw = input as unknown as Record<string, unknown>;
  c.knownKeys(raw, '', TOP_KEYS);

  const id = c.string(raw['id'], 'id', true);
  if (id !== undefined && !ID.test(id)) {
    c.error('id', 'format', `${show(id)} must be lower-case letters, digits, ".", "_" or "-" (at most 64).`);
  }
  const version = c.string(raw['version'], 'version', true);
  const title = c.string(raw['title'], 'title', false);
  const source = c.string(raw['source'], 'source', false);

  const jurisdictions: Jurisdiction[] = [];
  if (!Array.isArray(raw['jurisdictions']) || raw['jurisdictions'].length === 0) {
    c.error('jurisdictions', 'required', `must list at least one jurisdiction, got ${show(raw['jurisdictions'])}.`, `Use some of: ${JURISDICTIONS.join(', ')}.`);
  } else {
    raw['jurisdictions'].forEach((j, i) => {
      const v = c.oneOf(j, `jurisdictions[${i}]`, JURISDICTIONS, 'jurisdiction');
      if (v !== undefined) jurisdictions.push(v);
    });
  }
  const eu = jurisdictions.includes('EU') || jurisdictions.includes('UK');

  const { customPurposes, categories } = resolveVocabulary(c, raw);
  const ageGates = resolveAgeGates(c, raw['ageGates']);
  const rights = resolveRights(c, raw['rights'], eu);
  const recipients = resolveRecipients(c, raw['recipients']);
  const purposes = raw['purposes'] === undefined
    ? (c.error('purposes', 'type', 'must be an object, got undefined.'), Object.create(null) as Policy['purposes'])
    : resolvePurposes(c, raw['purposes'], { eu, categories, customPurposes, ageGates, recipients, rights });

  const defaultPurpose = c.string(raw['defaultPurpose'], 'defaultPurpose', false);
  if (defaultPurpose !== undefined && raw['purposes'] !== undefined && !(defaultPurpose in purposes) && !c.errors.some((e) => e.path.startsWith(join('purposes', defaultPurpose)))) {
    c.error('defaultPurpose', 'unknown-purpose', `"${defaultPurpose}" is not one of the policy's purposes.${didYouMean(defaultPurpose, Object.keys(purposes))}`, 'Add it under purposes, or remove defaultPurpose to fail closed on undeclared routes.');
  }

  const ip = resolveIpLog(c, raw['logs']);
  const audit = resolveAudit(c, raw['audit']);
  const signals = resolveSignals(c, raw['signals']);
  const controller = resolveController(c, raw['controller']);
  const security = resolveSecurity(c, raw['security']);
  const allRecipients: Record<string, ResolvedRecipient> = Object.create(null) as Record<string, ResolvedRecipient>;
  for (const [name, r] of recipients) allRecipients[name] = r;

  if (rights.honoured.size > 0 && raw['purposes'] !== undefined && !('rights-fulfilment' in purposes) && !c.errors.some((e) => e.path.startsWith('purposes'))) {
    c.warn('purposes', 'rights-without-basis', 'the policy honours data-subject rights but has no "rights-fulfilment" purpose, so answering them is recorded with no legal basis.', 'Add purposes["rights-fulfilment"] (usually basis legal-obligation) with the data a request touches.');
  }

  if (c.errors.length > 0) throw invalid(c.errors);

  const policy: Policy = {
    id: id!,
    version: version!,
    title,
    source,
    jurisdictions: Object.freeze(jurisdictions),
    defaultPurpose,
    purposes: Object.freeze(purposes),
    categories: new FrozenSet(categories),
    ageGates: Object.freeze(ageGates),
    logs: Object.freeze({ ip }),
    audit,
    signals,
    rights,
    controller,
    security,
    recipients: Object.freeze(allRecipients),
    warnings: Object.freeze(c.warnings.map((w) => Object.freeze(w))),
    [POLICY_BRAND]: true,
  } as Policy;
  Object.defineProperty(policy, POLICY_INPUT, { value: frozenCopy(input) });
  Object.freeze(policy);
  const onWarning = options.onWarning ?? ((w: PolicyIssue) => process.emitWarning(`policy "${id}": ${w.path} ${w.message}${w.hint ? ` ${w.hint}` : ''}`, { code: 'PURPOSEKIT_WARN_POLICY' }));
  for (const w of policy.warnings) onWarning(w);
  return policy;
}

/**
 * The input a policy was defined from, as plain JSON data (deeply frozen): what to write
 * to a policy file that loads back to the same policy, every section included (purposes,
 * retention rules, recipients, transfers, controller, security, rights, sources).
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION when `policy` is not a policy from
 *   {@link definePolicy} or `loadPolicy`.
 */
export function policyInputOf(policy: Policy): PolicyInput {
  const input = isPolicy(policy) ? (policy as unknown as Record<symbol, PolicyInput | undefined>)[POLICY_INPUT] : undefined;
  if (input === undefined) throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `policyInputOf() takes a policy from definePolicy() or loadPolicy(); got ${show(policy)}.`);
  return input;
}

function invalid(issues: PolicyIssue[]): PurposekitError {
  const lines = issues.map((i) => `  - ${i.path}: ${i.message}${i.hint ? ` ${i.hint}` : ''}`);
  return new PurposekitError('PURPOSEKIT_ERR_POLICY_INVALID', `The privacy policy is invalid (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}`, {
    details: { issues: issues.map((i) => ({ ...i })) },
  });
}
