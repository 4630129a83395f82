/** `purposekit policy show <file|preset> [--json]` */
import { writeOut } from '../io';
import type { CliIo } from '../io';
import { policyFrom } from '../policy/policy-source';
import { policyView } from '../policy/policy-view';
import type { PolicyView } from '../policy/policy-view';
import { cell, textTable } from '../render/text-table';

export interface PolicyShowFlags {
  json?: boolean;
}

/** Prints what a policy allows: purposes, bases, categories, retention, recipients, age gates, rights. */
export async function policyShow(io: CliIo, arg: string, flags: PolicyShowFlags): Promise<number> {
  const { policy, source } = policyFrom(io, arg);
  const view = policyView(policy);
  if (flags.json === true) await writeOut(io.stdout, `${JSON.stringify({ input: source, ...view }, null, 2)}\n`);
  else await writeOut(io.stdout, renderPolicy(source, view));
  return 0;
}

const list = (xs: readonly string[]): string => (xs.length === 0 ? '-' : xs.join(', '));

/** The policy as plain-text tables. */
export function renderPolicy(source: string, v: PolicyView): string {
  const out = [
    `${v.title ?? v.id} (policy ${v.id}, version ${v.version})`,
    `Source:        ${source}${v.source === undefined ? '' : ` (text: ${v.source})`}`,
    `Jurisdictions: ${list(v.jurisdictions)}`,
    `Default:       ${v.defaultPurpose === undefined ? 'none: a route without a purpose is refused' : `${v.defaultPurpose} for routes that declare no purpose`}`,
    `Controller:    ${v.controller === undefined ? 'not stated in the policy' : `${v.controller.name} (${v.controller.contact})`}`,
    '',
    `Purposes (${v.purposes.length})`,
    textTable(
      ['purpose', 'basis', 'data categories', 'retention', 'recipients', 'age gate', 'opt-outs'],
      v.purposes.map((p) => [
        p.id,
        p.basis === 'consent' && p.consentType !== undefined ? `consent (${p.consentType})` : p.basis,
        list(p.categories),
        p.retentionRule === undefined ? (p.retention ?? '-') : /^P/.test(p.retentionRule.duration) ? `${p.retentionRule.duration} from ${p.retentionRule.from}, then ${p.retentionRule.onExpiry}` : p.retentionRule.duration, // a word (as-long-as-necessary) starts no clock
        list(p.recipients),
        p.ageGate ?? '-',
        list([...(p.gpc ? ['GPC'] : []), ...(p.objection ? ['objection'] : [])]),
      ]),
    ),
    '',
    `Age gates (${v.ageGates.length})`,
  ];
  if (v.ageGates.length === 0) out.push('none');
  else {
    out.push(
      textTable(
        ['gate', 'minimum age', 'per country', 'GDPR Art. 8', 'lockout'],
        v.ageGates.map((g) => [g.name, String(g.minimumAge), list(Object.entries(g.countries).map(([c, a]) => `${c} ${a}`)), g.gdprArticle8 ? 'yes' : 'no', `${Math.round(g.lockoutSeconds / 3600)} h`]),
        ['left', 'right'],
      ),
    );
  }
  out.push('', 'Rights', `Honoured:      ${list(v.rights.honoured)}`, `Answer within: ${v.rights.responseTime}`, `Erasure record kept: ${v.rights.keepErasureRecord ? 'yes' : 'no'}`);
  const exceptions = v.purposes.flatMap((p) => Object.entries(p.rights ?? {}).flatMap(([right, r]) => (!r.applies ? [[p.id, right, 'does not apply', '']] : r.exceptions.map((e) => [p.id, right, 'exception', e.reason]))));
  if (exceptions.length > 0) out.push('', 'Per-purpose rights and exceptions', textTable(['purpose', 'right', 'rule', 'reason'], exceptions));
  const recipients = Object.entries(v.recipients);
  if (recipients.length > 0) out.push('', `Recipients (${recipients.length})`, textTable(['name', 'role', 'country'], recipients.map(([k, r]) => [r.name === k ? k : `${r.name} (${k})`, r.role, r.country ?? '-'])));
  out.push('', `IP addresses in logs: ${v.logs.ip.mode === 'truncate' ? `truncated to /${v.logs.ip.ipv4Prefix} (IPv4) and /${v.logs.ip.ipv6Prefix} (IPv6)` : 'pseudonymised'}; audit durability: ${v.audit.durability}.`);
  for (const w of v.warnings) out.push(`warning ${cell(w.path)}: ${cell(w.message)}`);
  return `${out.join('\n')}\n`;
}
