/** `<file|preset>` arguments: a policy file (JSON/YAML) or the name of a built-in preset. */
import { existsSync } from 'node:fs';
import { bitnami, coreos, kubevirt, loadPolicy, openinfra } from '@purposekit/core';
import type { Policy, PolicyIssue } from '@purposekit/core';
import type { CliIo } from '../io';
import { absolute } from '../paths';

/** The four seed policies, by name. */
export const PRESETS: Readonly<Record<string, Policy>> = Object.freeze({ bitnami, coreos, kubevirt, openinfra });

/**
 * A preset when `arg` names one and no file of that name exists; otherwise the file,
 * loaded and validated (warnings collected, not printed).
 * @throws PurposekitError PURPOSEKIT_ERR_POLICY_LOAD / PURPOSEKIT_ERR_POLICY_INVALID
 */
export function policyFrom(io: CliIo, arg: string): { policy: Policy; source: string; warnings: PolicyIssue[] } {
  const path = absolute(io, arg);
  if (Object.prototype.hasOwnProperty.call(PRESETS, arg) && !existsSync(path)) {
    const policy = PRESETS[arg]!;
    return { policy, source: `preset ${arg}`, warnings: [...policy.warnings] };
  }
  const warnings: PolicyIssue[] = [];
  const policy = loadPolicy(path, { onWarning: (w) => warnings.push(w) });
  return { policy, source: arg, warnings };
}
