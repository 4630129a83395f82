/** `purposekit policy check <file> [--json]` */
import { isPurposekitError, loadPolicy } from '@purposekit/core';
import type { Policy, PolicyIssue } from '@purposekit/core';
import { writeOut } from '../io';
import type { CliIo } from '../io';
import { absolute } from '../paths';
import { cell } from '../render/text-table';

export interface PolicyCheckFlags {
  json?: boolean;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function issueLines(kind: string, issues: readonly PolicyIssue[]): string[] {
  return issues.flatMap((i) => [`  ${kind} ${cell(i.path)}: ${cell(i.message)} [${cell(i.rule)}]`, ...(i.hint === undefined ? [] : [`      hint: ${cell(i.hint)}`])]);
}

/**
 * Validates a JSON or YAML policy file and lists every problem with its path and hint.
 * Exit 0 when valid (warnings are listed too), 1 when invalid, 2 when the file cannot be
 * read or parsed (the error names the file and the parse position).
 */
export async function policyCheck(io: CliIo, file: string, flags: PolicyCheckFlags): Promise<number> {
  const warnings: PolicyIssue[] = [];
  let policy: Policy | undefined;
  let errors: PolicyIssue[] = [];
  try {
    policy = loadPolicy(absolute(io, file), { onWarning: (w) => warnings.push(w) });
  } catch (error) {
    if (!isPurposekitError(error) || error.code !== 'PURPOSEKIT_ERR_POLICY_INVALID') throw error;
    errors = ((error.details as { issues?: PolicyIssue[] } | undefined)?.issues ?? []).map((i) => ({ ...i }));
  }
  if (flags.json === true) {
    await writeOut(io.stdout, `${JSON.stringify({ file, valid: policy !== undefined, ...(policy === undefined ? {} : { id: policy.id, version: policy.version }), errors, warnings }, null, 2)}\n`);
  } else if (policy !== undefined) {
    const lines = [`OK ${file}: policy ${cell(policy.id)} ${cell(policy.version)}, ${plural(Object.keys(policy.purposes).length, 'purpose')}, ${plural(Object.keys(policy.ageGates).length, 'age gate')}, ${plural(warnings.length, 'warning')}.`, ...issueLines('warning', warnings)];
    await writeOut(io.stdout, `${lines.join('\n')}\n`);
  } else {
    const lines = [`INVALID ${file}: ${plural(errors.length, 'problem')}${warnings.length > 0 ? `, ${plural(warnings.length, 'warning')}` : ''}.`, ...issueLines('error', errors), ...issueLines('warning', warnings)];
    await writeOut(io.stdout, `${lines.join('\n')}\n`);
  }
  return policy === undefined ? 1 : 0;
}
