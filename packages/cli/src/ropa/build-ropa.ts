/**
 * The record of processing activities (GDPR Art. 30(1)) as data: built from a resolved
 * policy, and from the routes the app declared (`kit.describeRoutes()`), so the record
 * shows what the code does as well as what the policy says. Markdown, JSON and HTML are
 * renderings of this one object.
 */
import { DATA_CATEGORIES, PurposekitError, parseDuration } from '@purposekit/core';
import type { Policy, RouteDescription } from '@purposekit/core';
import { NOT_STATED } from '../policy/art30';
import { policyView } from '../policy/policy-view';
import type { PurposeView } from '../policy/policy-view';

/** A declared route under a purpose, and what is wrong with it, if anything. */
export interface RopaRoute {
  method: string;
  path: string;
  categories: string[];
  /** Categories the route touches that its purpose does not allow (flagged). */
  outside: string[];
}

export interface RopaActivity {
  purpose: string;
  description: string;
  iri: string | undefined;
  basis: string;
  basisArticle: string | undefined;
  consentType: string | undefined;
  /** Art. 30(1)(c): categories of data subjects. */
  subjects: string[];
  /** Art. 30(1)(c): categories of personal data, with what each means. */
  categories: Array<{ id: string; description: string | undefined }>;
  sources: string[];
  /** Art. 30(1)(d). */
  recipients: Array<{ name: string; role: string | undefined; country: string | undefined }>;
  /** Art. 30(1)(e): transfers to third countries and their safeguards. */
  transfers: Array<{ to: string; country: string; mechanism: string; safeguard: string }>;
  /** Art. 30(1)(f): the retention as words. */
  retention: string | undefined;
  ageGate: { name: string; minimumAge: number } | undefined;
  /** Rights that apply, and the stated exceptions (when the policy states them per purpose). */
  /** `perPurpose` false: the policy states its rights only as a whole, so `applies` is its general list. */
  rights: { perPurpose: boolean; applies: string[]; notApplying: string[]; exceptions: Array<{ right: string; reason: string; source: string }> };
  optOuts: string[];
  source: string | undefined;
  /** Routes that declare this purpose; `undefined` when no route table was given. */
  routes: RopaRoute[] | undefined;
}

export interface Ropa {
  /** GDPR article this record answers. */
  article: 'GDPR Art. 30(1)';
  policy: { id: string; version: string; title: string | undefined; source: string | undefined; jurisdictions: string[] };
  /** Art. 30(1)(a): `undefined` when the policy does not state it. */
  controller: { name: string; contact: string; address?: string; dpo?: string; representative?: string } | undefined;
  activities: RopaActivity[];
  recipients: Array<{ key: string; name: string; role: string; country: string | undefined; consentRequired: boolean }>;
  /** Art. 30(1)(g): the policy's own description. */
  security: string[];
  /** Measures the code enforces, from the policy's settings. */
  enforced: string[];
  rightsAnswerWithin: string;
  routes: { given: boolean; total: number; flagged: number; unknownPurpose: Array<RopaRoute & { purpose: string }> };
}

const MECHANISMS: Readonly<Record<string, string>> = {
  adequacy: 'adequacy decision (GDPR Art. 45)',
  'eu-us-dpf': 'EU-U.S. Data Privacy Framework (adequacy decision, GDPR Art. 45)',
  scc: 'standard contractual clauses (GDPR Art. 46(2)(c))',
  bcr: 'binding corporate rules (GDPR Art. 47)',
  'derogation-consent': 'explicit consent of the person (GDPR Art. 49(1)(a))',
  'derogation-contract': 'necessary for a contract with the person (GDPR Art. 49(1)(b))',
};

const own = <T>(o: Readonly<Record<string, T>>, k: string): T | undefined => (Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);

const UNITS: Array<[keyof NonNullable<ReturnType<typeof parseDuration>>, string]> = [
  ['years', 'year'],
  ['months', 'month'],
  ['weeks', 'week'],
  ['days', 'day'],
  ['hours', 'hour'],
  ['minutes', 'minute'],
  ['seconds', 'second'],
];

/** `P5Y` → `5 years`; `as-long-as-necessary` → `as long as necessary`; other text unchanged. */
export function durationText(text: string): string {
  const words: Record<string, string> = { 'as-long-as-necessary': 'as long as necessary', 'as-required-by-law': 'as long as the law requires', indefinite: 'indefinitely' };
  if (Object.prototype.hasOwnProperty.call(words, text)) return words[text]!;
  const d = parseDuration(text);
  if (d === undefined) return text;
  const parts = UNITS.filter(([k]) => d[k] > 0).map(([k, unit]) => `${d[k]} ${unit}${d[k] === 1 ? '' : 's'}`);
  return parts.length === 0 ? text : `${parts.join(' ')} (${text})`;
}

const CLOCK: Readonly<Record<string, string>> = {
  collection: 'from collection',
  'last-activity': 'from the person’s last activity',
  'contract-end': 'from the end of the contract',
  'subscription-end': 'from the end of the subscription',
  withdrawal: 'from the withdrawal of consent',
};
const EXPIRY: Readonly<Record<string, string>> = { erase: 'then erased', anonymise: 'then anonymised', review: 'then reviewed' };

function retentionText(p: PurposeView): string | undefined {
  const r = p.retentionRule;
  if (r === undefined) return p.retention === undefined ? undefined : durationText(p.retention);
  // A clock and an expiry action only mean something for a stated duration, not for
  // "as long as necessary".
  const words = parseDuration(r.duration) === undefined ? [durationText(r.duration)] : [durationText(r.duration), own(CLOCK, r.from) ?? `from ${r.from}`, own(EXPIRY, r.onExpiry) ?? r.onExpiry];
  return `${words.join(', ')}${r.holds.length > 0 ? `; kept longer under: ${r.holds.join(', ')}` : ''}`;
}

/**
 * Checks a route table as `JSON.parse` gives it (what `kit.describeRoutes()` returned).
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION naming the first bad entry.
 */
export function parseRoutes(data: unknown, where: string): RouteDescription[] {
  const bad = (message: string): PurposekitError => new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${where}: ${message} Expected the JSON of kit.describeRoutes(): [{ "method", "path", "purpose", "categories": [] }].`, { details: { option: 'routes' } });
  if (!Array.isArray(data)) throw bad('not a JSON array.');
  if (data.length > 10_000) throw bad(`${data.length} routes; at most 10000.`);
  return data.map((r: unknown, i) => {
    const e = r as Record<string, unknown> | null;
    const str = (k: string, max: number): string => {
      const v = e?.[k];
      if (typeof v !== 'string' || v.length === 0 || v.length > max) throw bad(`entry ${i}: "${k}" must be a string of 1 to ${max} characters.`);
      return v;
    };
    if (typeof e !== 'object' || e === null || Array.isArray(e)) throw bad(`entry ${i} is not an object.`);
    const categories = e['categories'] ?? [];
    if (!Array.isArray(categories) || categories.length > 64 || !categories.every((c) => typeof c === 'string' && c.length > 0 && c.length <= 64)) throw bad(`entry ${i}: "categories" must be a list of category ids.`);
    return { method: str('method', 16), path: str('path', 512), purpose: str('purpose', 64), categories: [...(categories as string[])] };
  });
}

/** Builds the record from a policy and, optionally, the app's declared routes. */
export function buildRopa(policy: Policy, routes?: readonly RouteDescription[]): Ropa {
  const v = policyView(policy);
  const byPurpose = new Map<string, RopaRoute[]>();
  const unknownPurpose: Array<RopaRoute & { purpose: string }> = [];
  let flagged = 0;
  for (const r of routes ?? []) {
    const rule = own(policy.purposes, r.purpose);
    const categories = [...new Set(r.categories)].sort();
    if (rule === undefined) {
      unknownPurpose.push({ method: r.method, path: r.path, purpose: r.purpose, categories, outside: categories });
      flagged++;
      continue;
    }
    const outside = categories.filter((c) => !rule.data.has(c));
    if (outside.length > 0) flagged++;
    const list = byPurpose.get(r.purpose) ?? [];
    list.push({ method: r.method, path: r.path, categories, outside });
    byPurpose.set(r.purpose, list);
  }
  const honoured = new Set(v.rights.honoured);
  const activities = v.purposes.map((p): RopaActivity => {
    const perPurpose = p.rights;
    const applies = perPurpose === undefined ? [...honoured] : Object.entries(perPurpose).filter(([k, r]) => r.applies && honoured.has(k)).map(([k]) => k);
    const notApplying = perPurpose === undefined ? [] : Object.entries(perPurpose).filter(([k, r]) => !r.applies && honoured.has(k)).map(([k]) => k);
    const gate = p.ageGate === undefined ? undefined : v.ageGates.find((g) => g.name === p.ageGate);
    return {
      purpose: p.id,
      description: p.description ?? p.id,
      iri: p.iri,
      basis: p.basis,
      basisArticle: p.basisArticle,
      consentType: p.consentType,
      subjects: p.subjects,
      categories: p.categories.map((id) => ({ id, description: own(DATA_CATEGORIES as Readonly<Record<string, string>>, id) })),
      sources: p.sources,
      recipients: p.recipients.map((name) => {
        const r = own(v.recipients, name);
        return { name: r?.name ?? name, role: r?.role, country: r?.country };
      }),
      transfers: p.transfers.map((t) => ({ to: own(v.recipients, t.to)?.name ?? t.to, country: t.country, mechanism: t.mechanism, safeguard: own(MECHANISMS, t.mechanism) ?? t.mechanism })),
      retention: retentionText(p),
      ageGate: gate === undefined ? undefined : { name: gate.name, minimumAge: gate.minimumAge },
      rights: {
        perPurpose: perPurpose !== undefined,
        applies,
        notApplying,
        exceptions: Object.entries(perPurpose ?? {}).flatMap(([right, r]) => r.exceptions.map((e) => ({ right, reason: e.reason, source: e.source }))),
      },
      optOuts: [...(p.gpc ? ['Global Privacy Control signal'] : []), ...(p.objection ? ['objection (GDPR Art. 21)'] : [])],
      source: p.source,
      routes: routes === undefined ? undefined : (byPurpose.get(p.id) ?? []).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.method < b.method ? -1 : a.method > b.method ? 1 : 0)),
    };
  });
  const ip = policy.logs.ip;
  return {
    article: 'GDPR Art. 30(1)',
    policy: { id: v.id, version: v.version, title: v.title, source: v.source, jurisdictions: v.jurisdictions },
    controller: v.controller,
    activities,
    recipients: Object.entries(v.recipients)
      .map(([key, r]) => ({ key, name: r.name, role: r.role, country: r.country, consentRequired: r.consentRequired }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    security: v.security,
    enforced: [
      'Every access to personal data is checked against its declared purpose and legal basis, and refused when the purpose does not allow the data.',
      ip.mode === 'truncate' ? `IP addresses are truncated before they reach logs (IPv4 to /${ip.ipv4Prefix}, IPv6 to /${ip.ipv6Prefix}).` : 'IP addresses are replaced by keyed pseudonyms before they reach logs.',
      `Every decision is written to a tamper-evident audit trail (hash-chained records, signed checkpoints; durability: ${policy.audit.durability}); people are identified in it only by keyed pseudonyms.`,
    ],
    rightsAnswerWithin: durationText(v.rights.responseTime),
    routes: { given: routes !== undefined, total: routes?.length ?? 0, flagged, unknownPurpose },
  };
}

export { NOT_STATED };
