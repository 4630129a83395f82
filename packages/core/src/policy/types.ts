import type { ConsentType, DataCategory, Jurisdiction, LegalBasis, PurposeId, Right } from '../vocabulary';

/** What a recipient is to the controller (Art. 4(9), 4(8), 26). `public`: published for anyone. */
export type RecipientRole = 'processor' | 'controller' | 'joint-controller' | 'authority' | 'public';
/** Chapter V transfer mechanisms: Art. 45 adequacy (incl. the EU-U.S. DPF), Art. 46 SCC / BCR, Art. 49(1)(a)/(b) derogations. */
export type TransferMechanism = 'adequacy' | 'eu-us-dpf' | 'scc' | 'bcr' | 'derogation-consent' | 'derogation-contract';
/** What starts a retention clock. */
export type RetentionClock = 'collection' | 'last-activity' | 'contract-end' | 'subscription-end' | 'withdrawal';
/** What happens to an item whose retention expired. */
export type RetentionAction = 'erase' | 'anonymise' | 'review';
/** Where a purpose's data comes from. */
export type DataSource = 'data-subject' | 'automatic' | 'third-party' | 'public';

/** A named recipient: who receives personal data (GDPR Art. 13(1)(e), 30(1)(d)). */
export interface RecipientInput {
  /** Display name (e.g. `Mailchimp`). Default: the name it is declared under. */
  name?: string;
  role: RecipientRole;
  /** ISO 3166-1 alpha-2 country where the recipient processes the data. */
  country?: string;
  /** A share to this recipient needs the subject's consent (`recipient:<name>` in the consent store). Default false. */
  consentRequired?: boolean;
  /** The sentence of the source policy this recipient comes from. */
  source?: string;
}

/** A transfer of a purpose's data to a recipient in another country. */
export interface TransferInput {
  /** The recipient's name (one of the purpose's recipients). */
  to: string;
  /** ISO 3166-1 alpha-2 destination. */
  country: string;
  mechanism: TransferMechanism;
  source?: string;
}

/** A retention rule. */
export interface RetentionInput {
  /** ISO 8601 duration, or `as-long-as-necessary` / `as-required-by-law` / `indefinite` (never expire by themselves). */
  duration: string;
  /** What starts the clock. Default `collection`. */
  from?: RetentionClock;
  /** What the sweep does at expiry. Default `erase`. */
  onExpiry?: RetentionAction;
  /** Holds that suspend the clock while an item carries them (e.g. `litigation`). Default none. */
  holds?: string[];
  source?: string;
}

/** How one right applies to one purpose. */
export interface RightRuleInput {
  /** Limits to the right, each with the sentence of the source policy that states it. */
  exceptions?: Array<{ reason: string; source: string }>;
}

/** The controller (Art. 13(1)(a), 30(1)(a)). */
export interface ControllerInput {
  name: string;
  /** How to reach the controller about privacy (an email address or URL). */
  contact: string;
  address?: string;
  /** Data protection officer's contact (Art. 37). */
  dpo?: string;
  /** EU representative (Art. 27). */
  representative?: string;
}

/** How one purpose may be used: the input form, as written in a policy file. */
export interface PurposeRuleInput {
  /** GDPR Art. 6(1) lawful basis. Required. */
  basis: LegalBasis;
  /** Data categories this purpose may touch (purpose limitation). At least one. */
  data: DataCategory[];
  /**
   * How long the data is kept: an ISO 8601 duration (e.g. `P30D`, `P5Y`) or
   * `as-long-as-necessary` / `as-required-by-law` / `indefinite` (the string form, =
   * `{ duration }`), or a {@link RetentionInput} saying what starts the clock, what
   * happens at expiry and which holds suspend it. Enforced by `kit.retention.sweep()`.
   */
  retention?: string | RetentionInput;
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
  /**
   * Recipients the data may be disclosed to for this purpose (an access with
   * `recipient` must name one). A string names a recipient declared under the top-level
   * `recipients` (or, for back-compat, an undeclared name: `public` means publication,
   * any other undeclared name is accepted with a warning); an object declares one here.
   * Default: none.
   */
  recipients?: Array<string | (RecipientInput & { name: string })>;
  /** Transfers of this purpose's data to a third country (GDPR Chapter V). Default: none. */
  transfers?: TransferInput[];
  /** Where the data comes from (Art. 14(2)(f), Art. 30). Default: none stated. */
  sources?: Array<'data-subject' | 'automatic' | 'third-party' | 'public'>;
  /** Categories of data subjects, e.g. `['visitors', 'members']` (Art. 30(1)(c)). Default: none stated. */
  subjects?: string[];
  /**
   * Per-purpose rights: `false` when a right does not apply to this purpose, or the
   * exceptions under which it is limited, each quoting the sentence that justifies it.
   * Default: every right the policy honours applies, without exceptions.
   */
  rights?: Partial<Record<Right, RightRuleInput | false>>;
  /**
   * Processing under this purpose continues after the subject's erasure (the kept
   * record a seed names, e.g. a "deleted members" register). Every other purpose is
   * denied (`erased`) for an erased subject. Default false.
   */
  survivesErasure?: boolean;
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
  /** The controller and how to reach it. */
  controller?: ControllerInput;
  /** A general description of the technical and organisational security measures (Art. 30(1)(g)). */
  security?: string[];
  /** Named recipients, referenced by name from purposes. */
  recipients?: Record<string, RecipientInput>;
  /** Data-subject rights the service honours, and the answer deadline. */
  rights?: {
    honoured?: Array<'access' | 'rectification' | 'erasure' | 'restriction' | 'objection' | 'portability' | 'withdraw-consent'>;
    /** ISO 8601 duration. Default `P1M` (GDPR Art. 12(3)). */
    responseTime?: string;
    /**
     * How much longer a request may take when the controller extends it (with notice,
     * before the first deadline). ISO 8601 duration, or `false` for no extension.
     * Default `P2M` under an EU/UK policy (GDPR Art. 12(3): "two further months"),
     * otherwise `false`.
     */
    extension?: string | false;
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
  /** Names of the recipients this purpose may disclose to (see {@link Policy.recipients}). */
  readonly recipients: ReadonlySet<string>;
  readonly sources: readonly string[];
  readonly subjects: readonly string[];
  readonly transfers: readonly ResolvedTransfer[];
  /** The retention rule, when the purpose states one. */
  readonly retentionRule: ResolvedRetention | undefined;
  /** Every right of the vocabulary: whether it applies to this purpose, and its exceptions. */
  readonly rights: Readonly<Record<string, ResolvedRightRule>>;
  readonly survivesErasure: boolean;
  readonly description: string | undefined;
  readonly source: string | undefined;
}

/** A validated recipient. */
export interface ResolvedRecipient {
  /** Display name (the declaration's `name`, else the name it is referred to by). */
  readonly name: string;
  /** `unspecified` only for a back-compat name a purpose lists without declaring it (a warning says so). */
  readonly role: RecipientRole | 'unspecified';
  readonly country: string | undefined;
  readonly consentRequired: boolean;
  readonly source: string | undefined;
}

/** A validated transfer. */
export interface ResolvedTransfer {
  readonly to: string;
  readonly country: string;
  readonly mechanism: TransferMechanism;
  readonly source: string | undefined;
}

/** A validated retention rule. */
export interface ResolvedRetention {
  readonly duration: string;
  readonly from: RetentionClock;
  readonly onExpiry: RetentionAction;
  readonly holds: readonly string[];
  readonly source: string | undefined;
}

/** How one right applies to one purpose. */
export interface ResolvedRightRule {
  readonly applies: boolean;
  readonly exceptions: readonly { readonly reason: string; readonly source: string }[];
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
    /** The longest extension allowed (ISO 8601), or undefined when none is. */
    readonly extension: string | undefined;
    readonly keepErasureRecord: boolean;
  };
  readonly controller: Readonly<ControllerInput> | undefined;
  readonly security: readonly string[];
  /** Every recipient named anywhere in the policy, by name. */
  readonly recipients: Readonly<Record<string, ResolvedRecipient>>;
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
