/**
 * A resolved policy as plain data (sets as sorted arrays, Art. 30 fields where the
 * policy states them): what `policy show --json` prints and what `ropa` builds on.
 */
import { LEGAL_BASES, PURPOSES } from '@purposekit/core';
import type { Policy } from '@purposekit/core';
import { art30, art30Purpose } from './art30';
import type { Art30Controller, Art30Recipient, Art30Retention, Art30Right, Art30Transfer } from './art30';

export interface PurposeView {
  id: string;
  description: string | undefined;
  iri: string | undefined;
  basis: string;
  /** GDPR article of the basis, e.g. `Art. 6(1)(a)`. */
  basisArticle: string | undefined;
  consentType: string | undefined;
  categories: string[];
  /** The retention text (`P30D`, `as-long-as-necessary`…) when stated. */
  retention: string | undefined;
  retentionRule: Art30Retention | undefined;
  recipients: string[];
  transfers: Art30Transfer[];
  sources: string[];
  subjects: string[];
  ageGate: string | undefined;
  gpc: boolean;
  objection: boolean;
  /** Rights that apply to this purpose (when the policy states them per purpose), with exceptions. */
  rights: Record<string, Art30Right> | undefined;
  survivesErasure: boolean | undefined;
  source: string | undefined;
}

export interface PolicyView {
  id: string;
  version: string;
  title: string | undefined;
  source: string | undefined;
  jurisdictions: string[];
  defaultPurpose: string | undefined;
  controller: Art30Controller | undefined;
  security: string[];
  recipients: Record<string, Art30Recipient>;
  purposes: PurposeView[];
  ageGates: Array<{ name: string; minimumAge: number; countries: Record<string, number>; gdprArticle8: boolean; lockoutSeconds: number; source: string | undefined }>;
  rights: { honoured: string[]; responseTime: string; keepErasureRecord: boolean };
  logs: { ip: { mode: string; ipv4Prefix: number; ipv6Prefix: number } };
  audit: { durability: string };
  warnings: Array<{ path: string; rule: string; message: string; hint?: string }>;
}

const own = <T>(o: Readonly<Record<string, T>>, k: string): T | undefined => (Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);

/** The policy as JSON-safe data, purposes in the policy's order. */
export function policyView(policy: Policy): PolicyView {
  const p = art30(policy);
  return {
    id: p.id,
    version: p.version,
    title: p.title,
    source: p.source,
    jurisdictions: [...p.jurisdictions],
    defaultPurpose: p.defaultPurpose,
    controller: p.controller === undefined ? undefined : { ...p.controller },
    security: [...(p.security ?? [])],
    recipients: Object.fromEntries(Object.entries(p.recipients ?? {}).map(([k, r]) => [k, { ...r }])),
    purposes: Object.values(p.purposes).map((r0) => {
      const r = art30Purpose(r0);
      return {
        id: r.id,
        description: r.description ?? own(PURPOSES as Readonly<Record<string, { description: string }>>, r.id)?.description,
        iri: r.iri,
        basis: r.basis,
        basisArticle: own(LEGAL_BASES as Readonly<Record<string, { article: string }>>, r.basis)?.article,
        consentType: r.consentType,
        categories: [...r.data].sort(),
        retention: r.retention,
        retentionRule: r.retentionRule === undefined ? undefined : { ...r.retentionRule, holds: [...r.retentionRule.holds] },
        recipients: [...r.recipients].sort(),
        transfers: (r.transfers ?? []).map((t) => ({ ...t })),
        sources: [...(r.sources ?? [])],
        subjects: [...(r.subjects ?? [])],
        ageGate: r.ageGate,
        gpc: r.gpc,
        objection: r.objection,
        rights: r.rights === undefined ? undefined : Object.fromEntries(Object.entries(r.rights).map(([k, v]) => [k, { applies: v.applies, exceptions: v.exceptions.map((e) => ({ ...e })) }])),
        survivesErasure: r.survivesErasure,
        source: r.source,
      };
    }),
    ageGates: Object.values(p.ageGates).map((g) => ({ name: g.name, minimumAge: g.minimumAge, countries: { ...g.countries }, gdprArticle8: g.gdprArticle8, lockoutSeconds: g.lockoutSeconds, source: g.source })),
    rights: { honoured: [...p.rights.honoured], responseTime: p.rights.responseTime, keepErasureRecord: p.rights.keepErasureRecord },
    logs: { ip: { mode: p.logs.ip.mode, ipv4Prefix: p.logs.ip.ipv4Prefix, ipv6Prefix: p.logs.ip.ipv6Prefix } },
    audit: { durability: p.audit.durability },
    warnings: p.warnings.map((w) => ({ ...w })),
  };
}
