/**
 * Report-only mode: a rollout setting of one deployment (like CSP's
 * `Content-Security-Policy-Report-Only`). Accesses the policy would deny are recorded as
 * denies with `attributes.enforced: false` and go on. Age requirements are never
 * report-only: a refused child's data never flows.
 */
import type { AccessReason } from './decide';
import { PurposekitError } from './errors';
import { didYouMean, show } from './policy/suggest';
import type { Policy } from './policy/types';
import { warningText } from './warnings';

/** The `reportOnly` engine option: every purpose, or the listed ones. */
export type ReportOnlyOption = true | { readonly purposes: readonly string[] };

/**
 * Denials report-only mode never lets through, whatever the setting:
 * - `age-unverified`: collecting under an age-gated purpose without a passed gate (age-gate
 *   refusals themselves are answered before any access and are never report-only either);
 * - `no-purpose`, `invalid-request`: the code, not the policy, is wrong;
 * - `store-unavailable`: a decision that could not be made at all fails closed.
 */
export const ALWAYS_ENFORCED: ReadonlySet<AccessReason> = new Set<AccessReason>(['age-unverified', 'no-purpose', 'invalid-request', 'store-unavailable']);

/** Whether a deny of `reason` under `purpose` is enforced. @internal */
export type EnforcementCheck = (purpose: string | undefined, reason: AccessReason) => boolean;

const ENFORCE_ALL: EnforcementCheck = () => true;

/**
 * Validates the `reportOnly` option once, at start-up, and gives the warning that says
 * what is not enforced. Returns the check the engine runs on each deny.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION for a bad value or an attempt to
 *   make age gates report-only; PURPOSEKIT_ERR_UNKNOWN_PURPOSE for a purpose not in the policy.
 * @internal
 */
export function resolveReportOnly(policy: Policy, option: unknown, warn: (message: string, code: string) => void): EnforcementCheck {
  if (option === undefined || option === false) return ENFORCE_ALL;
  let purposes: ReadonlySet<string> | undefined;
  if (option !== true) {
    if (typeof option !== 'object' || option === null || Array.isArray(option)) {
      throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `createPurposekit(): "reportOnly" must be true or { purposes: [...] }, got ${show(option)}.`);
    }
    for (const key of Object.keys(option)) {
      if (key === 'ageGates' || key === 'ageGate') {
        throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'createPurposekit(): age gates cannot be report-only: a refused child\'s data must never flow. Remove "reportOnly.' + key + '".');
      }
      if (key !== 'purposes') throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `createPurposekit(): unknown key "reportOnly.${key}".${didYouMean(key, ['purposes'])}`);
    }
    const list = (option as { purposes?: unknown }).purposes;
    if (!Array.isArray(list) || list.length === 0) {
      throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `createPurposekit(): "reportOnly.purposes" must be a non-empty list of the policy's purposes, got ${show(list)}.`);
    }
    for (const p of list) {
      if (typeof p !== 'string' || !Object.hasOwn(policy.purposes, p)) {
        throw new PurposekitError(
          'PURPOSEKIT_ERR_UNKNOWN_PURPOSE',
          `createPurposekit(): "reportOnly.purposes" names ${show(p)}, which is not in policy "${policy.id}".${typeof p === 'string' ? didYouMean(p, Object.keys(policy.purposes)) : ''}`,
          { details: { purpose: String(p), policy: policy.id } },
        );
      }
    }
    purposes = new Set(list as string[]);
  }
  const named = purposes === undefined ? 'EVERY purpose' : `the purposes ${[...purposes].join(', ')}`;
  warn(warningText('PURPOSEKIT_WARN_REPORT_ONLY', `purposekit is NOT enforcing policy "${policy.id}@${policy.version}" for ${named}`), 'PURPOSEKIT_WARN_REPORT_ONLY');
  if (purposes === undefined) return (_purpose, reason) => ALWAYS_ENFORCED.has(reason);
  const set = purposes;
  return (purpose, reason) => ALWAYS_ENFORCED.has(reason) || purpose === undefined || !set.has(purpose);
}
