import type { ConsentType, DataCategory, Jurisdiction, LegalBasis, PurposeId } from '../vocabulary';

/** How one purpose may be used: the input form, as written in a policy file. */
export interface PurposeRuleInput {
  /** GDPR Art. 6(1) lawful basis. Required. */
  basis: LegalBasis;
  /** Data categories this purpose may touch (purpose limitation). At least one. */
  data: DataCategory[];
  /** ISO 8601 duration (e.g. `P30D`, `P5Y`) or `as-long-as-necessary` / `as-required-by-law`. */
  retention?: string;
  /** For `basis: consent`: how consent is expressed. Default `explicit`. */
  consentType?: ConsentType;
  /**
   * For `basis: consent`: the version of this purpose's terms (1–64 of `[A-Za-z0-9._-]`,
   * e.g. `v2`). Change it when the terms change in a way that needs renewed consent: a
   * consent given under another terms version (or none) then no longer counts and
   * access is denied with `consent-renewal-required` until the person answers again.
   * Default: unversioned (policy version changes never require renewal by themselves).
   */
  termsVersion?: string;
  /** Whether a `Sec-GPC: 1` signal opts the person out of this purpose. Default: true for `marketing.email`, `advertising`, `targeted-advertising`, `sell-to-third-parties`; otherwise false. */
  gpc?: boolean;
  /** Whether the right to object applies (Art. 21). Default: true for legitimate-interests and public-task, and for `marketing.email`. */
  objection?: boolean;
  /** Name of an age gate (in `ageGates`) that applies to this purpose. */
  ageGate?: string;
  /** Recipients (third parties) the data may be disclosed to for this purpose. Default: none. */
  recipients?: string[];
  /** Free text shown in reports. */
  description?: string;
  /** The sentence of the source policy this rule comes from. */
  source?: string;
}

/** Per-country override of an age gate's minimum age. */
export interface AgeGateInput {
  /** Minimum age in whole years (0–130). */
  minimumAge: number;
  /** Per-country minimums, keyed by ISO 3166-1 alpha-2 code (e.g. `{ DE: 16 }`). */
  countries?: Record<string, number>;
  /** Apply the GDPR Art. 8 age of the subject's country to consent-based purposes. Default false. */
  gdprArticle8?: boolean;
  /** How long a refusal locks the browser out, ISO 8601 duration. Default `P1D`. */
  lockout?: string;
  /** Which birthday counts for someone born on 29 February in a non-leap year. Default `mar-1`. */
  leapDay?: 'mar-1' | 'feb-28';
  /** IANA time zone whose calendar decides "today" (and so birthdays). Default: the engine's `ageGate.timeZone`, else `UTC`. */
  timeZone?: string;
  /** The sentence of the source policy this gate comes from. */
  source?: string;
}

/** IP handling in logs. */
export type IpLogInput =
  | { mode: 'truncate'; ipv4Prefix?: number; ipv6Prefix?: number }
  | { mode: 'pseudonymize'; keyId?: string; truncateFirst?: boolean; ipv4Prefix?: number; ipv6Prefix?: number };

/** Audit trail settings. */
export interface AuditInput {
  /** `sync` (default): an access is granted only once its record is durable. */
  durability?: 'sync' | 'batched' | 'async';
  /** A signed checkpoint every N records (default 1000)… */
  checkpointEvery?: number;
  /** …or every T milliseconds, whichever first (default 5000). */
  checkpointIntervalMs?: number;
}

/** A policy as written by a person (TypeScript object, JSON or YAML). */
export interface PolicyInput {
  /** Stable id, lower-case (e.g. `openinfra`). */
  id: string;
  /** Version label of this policy text (e.g. `2024-06`). */
  version: string;
  /** Human title. */
  title?: string;
  /** Where the source policy lives. */
  source?: string;
  /** Where the policy applies. At least one. */
  jurisdictions: Jurisdiction[];
  /** Purpose given to a request whose route declares none. Omit to fail closed. */
  defaultPurpose?: PurposeId;
  /** Purposes in use and their rules. */
  purposes: Record<string, PurposeRuleInput>;
  /** Purposes beyond the built-in list: id → description (and optional IRI). */
  customPurposes?: Record<string, { description: string; iri?: string }>;
  /** Data categories beyond the built-in list: id → description. */
  customCategories?: Record<string, string>;
  /** Named age gates. */
  ageGates?: Record<string, AgeGateInput>;
  /** Log handling. Default: truncate IPv4 to /24 and IPv6 to /48. */
  logs?: { ip?: IpLogInput };
  /** Audit trail settings. */
  audit?: AuditInput;
  /** Signals. */
  signals?: {
    /** When GPC conflicts with an explicit consent given earlier: `gpc` (default, more protective) or `consent`. */
    gpcVersusConsent?: 'gpc' | 'consent';
    /** Serve `/.well-known/gpc.json`. Default false. */
    serveGpcJson?: boolean;
  };
  /** Data-subject rights the service honours, and the answer deadline. */
  rights?: {
    honoured?: Array<'access' | 'rectification' | 'erasure' | 'restriction' | 'objection' | 'portability' | 'withdraw-consent'>;
    /** ISO 8601 duration. Default `P1M` (GDPR Art. 12(3)). */
    responseTime?: string;
    /** Keep a minimal erasure record (pseudonym, date) to prove an erasure was done. Default true. */
    keepErasureRecord?: boolean;
  };
}

/** A validated purpose rule: every default applied, frozen. */
export interface ResolvedPurposeRule {
  readonly id: string;
  readonly iri: string | undefined;
  readonly basis: LegalBasis;
  readonly data: ReadonlySet<string>;
  readonly retention: string | undefined;
  readonly consentType: ConsentType | undefined;
  /** The purpose's terms version (consent purposes only); see {@link PurposeRuleInput.termsVersion}. */
  readonly termsVersion: string | undefined;
  readonly gpc: boolean;
  readonly objection: boolean;
  readonly ageGate: string | undefined;
  readonly recipients: ReadonlySet<string>;
  readonly description: string | undefined;
  readonly source: string | undefined;
}

/** A validated age gate. */
export interface ResolvedAgeGate {
  readonly name: string;
  readonly minimumAge: number;
  readonly countries: Readonly<Record<string, number>>;
  readonly gdprArticle8: boolean;
  /** Lockout duration in seconds. */
  readonly lockoutSeconds: number;
  readonly leapDay: 'mar-1' | 'feb-28';
  /** The policy's time zone for this gate, when it states one. */
  readonly timeZone: string | undefined;
  readonly source: string | undefined;
}

/** Validated IP log handling. */
export interface ResolvedIpLog {
  readonly mode: 'truncate' | 'pseudonymize';
  readonly ipv4Prefix: number;
  readonly ipv6Prefix: number;
  /** pseudonymize only: key id to use, and whether to truncate before hashing. */
  readonly keyId: string | undefined;
  readonly truncateFirst: boolean;
}

/** A validated, frozen policy. Build one with `definePolicy` or `loadPolicy`. */
export interface Policy {
  readonly id: string;
  readonly version: string;
  readonly title: string | undefined;
  readonly source: string | undefined;
  readonly jurisdictions: readonly Jurisdiction[];
  readonly defaultPurpose: string | undefined;
  readonly purposes: Readonly<Record<string, ResolvedPurposeRule>>;
  readonly categories: ReadonlySet<string>;
  readonly ageGates: Readonly<Record<string, ResolvedAgeGate>>;
  readonly logs: { readonly ip: ResolvedIpLog };
  readonly audit: {
    readonly durability: 'sync' | 'batched' | 'async';
    readonly checkpointEvery: number;
    readonly checkpointIntervalMs: number;
  };
  readonly signals: { readonly gpcVersusConsent: 'gpc' | 'consent'; readonly serveGpcJson: boolean };
  readonly rights: {
    readonly honoured: ReadonlySet<string>;
    readonly responseTime: string;
    readonly keepErasureRecord: boolean;
  };
  /** Non-fatal findings of validation (e.g. implied consent under an EU policy). */
  readonly warnings: readonly PolicyIssue[];
}

/** One validation finding, with the exact path. */
export interface PolicyIssue {
  /** Dotted path into the policy, e.g. `purposes.analytics.basis`. */
  readonly path: string;
  readonly message: string;
  /** The likely fix. */
  readonly hint?: string;
  /** A short code, e.g. `unknown-basis`. */
  readonly rule: string;
}
