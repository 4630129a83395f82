/**
 * The engine: one instance per application. Adapters translate framework requests into
 * `begin()` / `declarePurpose()` / `applyPurpose()` calls and errors into responses;
 * every privacy rule lives here or below.
 */
import { nextRequestId } from './request-id';
import { compileAgeGate, minimumAgeFor } from './age';
import type { AgeGateOptions, CompiledAgeGate } from './age';
import { createSubjectPseudonymizer } from './pseudonym';
import type { AuditEventInput, AuditSink } from './audit';
import { InMemoryConsentStore, NO_SUBJECT_FACTS } from './consent/consent-store';
import { parseSignalHeader } from './signals/gpc';
import type { ConsentStore, SubjectFacts } from './consent/consent-store';
import { contextInternals as ctxState, getPrivacyContext, requirePrivacyContext, runInContext } from './context';
import type { ContextEngine, PrivacyContext, Signals } from './context';
import { decide, recipientConsentKey } from './decide';
import type { AccessReason, RecipientConsent } from './decide';
import { gpcApplies, storeGpcOptOut } from './consent/gpc-opt-out';
import { PurposekitError, isPurposekitError } from './errors';
import { createRetention, resolveRetentionStores } from './retention/sweep';
import type { Retention, RetentionStore } from './retention/types';
import { createIpRedactor, resolveClientIp } from './ip';
import { isCompiledTrust } from './ip/trust-match';
import type { IpKeyring, TrustFn } from './ip';
import type { PseudonymKey } from './pseudonym';
import { definePolicy } from './policy/define-policy';
import { didYouMean, show } from './policy/suggest';
import { validateOptions } from './options';
import type { OptionsSpec } from './options';
import type { Policy, PolicyInput, ResolvedPurposeRule } from './policy/types';
import { RouteRegistry, checkRouteLabel } from './routes';
import type { RouteDescription, RouteLabel } from './routes';
import { ACTIONS } from './vocabulary';
import type { LegalBasis } from './vocabulary';
import { resolveReportOnly } from './report-only';
import type { EnforcementCheck, ReportOnlyOption } from './report-only';
import { createTelemetry, loadOtelApi } from './telemetry/otel';
import type { Telemetry } from './telemetry/otel';
import { mergeBaggage, pathOf, readPurposeBaggage, resolveCrossService, signPurpose, verifyInbound } from './cross-service/cross-service';
import type { CrossServiceOptions, ResolvedCrossService } from './cross-service/cross-service';

/** The framework-neutral facts of an HTTP request an adapter hands to {@link Purposekit.begin}. */
export interface RequestFacts {
  /** Raw request headers (lower-case names), as node:http gives them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The socket peer's address. */
  readonly remoteAddress: string | undefined;
  /** The framework's trusted-proxy decision (Express `trust proxy fn`, Koa `proxy`…). Default: trust no proxy. */
  readonly trust?: TrustFn;
  /**
   * The connection the request came on (node:http `req.socket`), used only to remember:
   * when `trust` is a function `compileTrust` made, the engine keeps the last client
   * address it derived on this connection and reuses it while the next request repeats
   * the same socket address, `X-Forwarded-For` value and trust function (keep-alive
   * connections usually do). Anything else, or a changed value, is resolved in full.
   * The memo hangs on the connection under a symbol of the engine's, as an object with
   * private fields only (nothing of it shows in `util.inspect` or JSON). Optional:
   * without it every request is resolved in full.
   */
  readonly connection?: object;
}

/**
 * A validated route declaration. Only declarations the engine issued (`declarePurpose`
 * from `@purposekit/core/adapter`) are accepted: an object of the same shape is refused.
 */
export interface PurposeDeclaration {
  readonly purpose: string;
  readonly basis: LegalBasis;
}

/** What an access names. */
export interface AccessRequest {
  /** Whose data (an internal id; pseudonymised in the trail). Default: the context's subject. */
  subject?: string;
  /** Data categories touched. At least one. */
  data: readonly string[];
  /** What is done: collect, read, use, update, delete, share, export. */
  action: string;
  /** A third party the data goes to, when it leaves the service. */
  recipient?: string;
  /** Who acts. Default: the context's actor, else `service`. */
  actor?: string;
}

/** An allowed access: what `access` returns (a denied one throws). */
export interface AccessAllowed {
  readonly allowed: true;
  /**
   * Present only in report-only mode, when the policy would have denied this access: the
   * deny reason that was recorded (with `attributes.enforced: false`) instead of enforced.
   */
  readonly wouldDeny?: AccessReason;
  readonly purpose: string;
  /** The basis the policy gives the purpose. */
  readonly basis: LegalBasis;
  readonly reason: 'allowed';
}

/** A denied access, as `check` / `checkEach` return it. `reason` is for your code and the trail, not for the public. */
export interface AccessDenied {
  readonly allowed: false;
  readonly purpose: string;
  readonly basis: LegalBasis;
  readonly reason: Exclude<AccessReason, 'allowed' | 'no-purpose'>;
}

/** The outcome of an access check, allowed or denied (`check`, `checkEach`). */
export type AccessDecision = AccessAllowed | AccessDenied;

interface Evaluated {
  readonly event: AuditEventInput;
  readonly reason: AccessReason;
  readonly rule: ResolvedPurposeRule | undefined;
  readonly storeFailure: unknown;
  readonly enforced: boolean;
}

/** A background job's declaration for {@link Purposekit.runAs}. */
export interface RunAsOptions {
  purpose: string;
  /** Who runs the job (a service name). */
  actor: string;
  subject?: string;
  /** Correlation id for the trail. Default: a random UUID. */
  requestId?: string;
}

/** How the methods of a bound object are checked. See {@link Purposekit.bind}. */
export type BindSpec<T> = {
  [K in keyof T]?: T[K] extends (...args: infer A) => unknown
    ? { data: readonly string[]; action: string; recipient?: string; subject?: (...args: A) => string | undefined }
    : never;
};

/** The object {@link Purposekit.bind} returns: every listed method now returns a promise (the access check runs first). */
export type Bound<T, S> = {
  [K in keyof T]: K extends keyof S ? (T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : T[K]) : T[K];
};

/** Options of {@link createPurposekit}. */
export interface PurposekitOptions {
  /** The policy: a preset, `definePolicy(...)`, `loadPolicy(path)` or a plain object (validated here). */
  policy: Policy | PolicyInput;
  /** Where decisions are recorded. Every access, allow or deny, is appended before it takes effect. */
  audit: AuditSink;
  /** Key for subject pseudonyms in the trail (HMAC-SHA-256). `secret` at least 32 bytes. */
  subjectKey: { id: string; secret: string | Buffer | import('node:crypto').KeyObject };
  /** Consent, objection and restriction facts. Default: an in-memory store. */
  consentStore?: ConsentStore;
  /** The subject's country (ISO 3166-1 alpha-2), e.g. from a header your CDN sets. Default: unknown. */
  country?: (facts: RequestFacts) => string | undefined;
  /**
   * Request id factory. Default: UUID-shaped ids, a random per-process prefix + a counter
   * (unique, not secret: pass `() => crypto.randomUUID()` if ids must not be sequential).
   * A client-sent id is never trusted.
   */
  requestId?: (facts: RequestFacts) => string;
  /** Clock (ms since epoch), for tests. Default `Date.now`. */
  now?: () => number;
  /**
   * Settings of every age gate the routes declare: `secret` (lockout cookie HMAC key,
   * ≥ 32 bytes) is required once a route declares a gate; the rest: `field`, `verifiedAge`,
   * `verifiedDateOfBirth`, `cookieName`, `secureCookie`, `timeZone`. When given, every gate
   * of the policy is compiled with them here, so a bad setting fails `createPurposekit`.
   */
  ageGate?: AgeGateOptions<any>;
  /**
   * Keys for IP pseudonyms when the policy's `logs.ip.mode` is `pseudonymize` (required
   * then): one `{ id, secret }`, a list (the first makes new pseudonyms, the others stay
   * for rotation), or a keyring from `createIpKeyring`.
   */
  ipKeys?: IpKeyring | PseudonymKey | readonly PseudonymKey[];
  /** NAT64 network-specific prefixes in use (e.g. `['2001:db8:64::/96']`), so the IPv4 they embed is truncated too. Default: only the well-known 64:ff9b::/96. */
  nat64Prefixes?: readonly string[];
  /**
   * The app's stores, each behind the retention port (`{ name, purposes, list, erase?,
   * anonymise?, flag? }`), for `kit.retention.sweep()` / `due()`. Checked here: every
   * purpose must be in the policy, and a store needs `erase` / `anonymise` wherever a
   * purpose's `retention.onExpiry` says so. Default: none.
   */
  retentionStores?: readonly RetentionStore[];
  /**
   * Report-only rollout (a setting of this deployment, not of the policy): `true` for every
   * purpose, or `{ purposes: [...] }`. An access the policy would deny is recorded as a deny
   * with `attributes.enforced: false` and allowed. Never for age requirements, undeclared
   * purposes, invalid requests or unreadable stores. A loud start-up warning
   * (`PURPOSEKIT_WARN_REPORT_ONLY`) says what is not enforced. Default: everything enforced.
   * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION (e.g. `{ ageGates }`),
   *   PURPOSEKIT_ERR_UNKNOWN_PURPOSE for a purpose not in the policy.
   */
  reportOnly?: ReportOnlyOption;
  /** Receives the engine's start-up warnings (message, code). Default: `process.emitWarning(message, { code })`. */
  onWarning?: (message: string, code: string) => void;
  /**
   * OpenTelemetry, when `@opentelemetry/api` is installed (an optional peer, loaded once,
   * lazily): the active span gets `privacy.purpose`, `privacy.legal_basis` and
   * `privacy.policy`, each access decision adds a `privacy.access` span event (decision,
   * reason, categories, action; never values), and audit records carry the active span's
   * `traceId` / `spanId` attributes. `false` turns it off. Default: `true`.
   */
  telemetry?: boolean;
  /**
   * A purpose across services (see docs/cross-service.md): this service's peer id, the key
   * it signs outbound purposes with, and the upstream peers (with their keys) whose signed
   * purposes it accepts. Default: none (inbound purpose baggage is ignored, outbound
   * helpers throw).
   * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION, PURPOSEKIT_ERR_INVALID_KEY
   */
  crossService?: CrossServiceOptions;
}

/** One outbound call a signed purpose is bound to. */
export interface OutboundCall {
  /** The downstream service's peer id (as it names itself in its `crossService.id`). */
  audience: string;
  /** The HTTP method of the call. */
  method: string;
  /** The URL (or path) called: its path is bound, its query string is not. */
  url: string | URL;
}

/** A refused age-gate check, ready for an adapter to send. */
export interface AgeGateRefusal {
  /** `PURPOSEKIT_ERR_AGE_GATE_REFUSED` (403) or a `PURPOSEKIT_ERR_DOB_*` code (400). */
  readonly error: PurposekitError;
  /** A `Set-Cookie` value (the lockout), when the refusal sets one. */
  readonly setCookie: string | undefined;
}

const isSink = (v: unknown): boolean => typeof v === 'object' && v !== null && typeof (v as AuditSink).append === 'function';
const OPTIONS_SPEC: OptionsSpec = {
  policy: { required: true, expected: 'a preset such as openinfra, definePolicy(...) or loadPolicy(path)' },
  audit: { required: true, check: isSink, expected: 'an audit sink (createFileAuditSink(...), or InMemoryAuditSink from @purposekit/testing)' },
  subjectKey: null, // checked by the pseudonymizer, which never shows the secret
  consentStore: 'object',
  country: 'function',
  requestId: 'function',
  now: 'function',
  ageGate: 'object',
  ipKeys: null, // checked by the IP redactor
  nat64Prefixes: 'array',
  retentionStores: 'array', // each store is checked against the policy by resolveRetentionStores
  reportOnly: null, // checked by resolveReportOnly (report-only.ts)
  onWarning: 'function',
  telemetry: 'boolean',
  crossService: null, // checked by resolveCrossService (cross-service/cross-service.ts)
};
const NEVER_TRUST: TrustFn = () => false;

/**
 * One connection's last client-address result: the inputs it came from and the redacted
 * address. Private fields only, so `util.inspect`, `JSON.stringify` or a copy of the
 * socket it hangs on show nothing of them; `answer` checks the brand, so a value someone
 * else put under the engine's key is never taken for one.
 */
class ClientIpMemo {
  #remote: string | undefined;
  #forwarded: string | undefined;
  #trust: TrustFn;
  #ip: string;

  constructor(remote: string | undefined, forwarded: string | undefined, trust: TrustFn, ip: string) {
    this.#remote = remote;
    this.#forwarded = forwarded;
    this.#trust = trust;
    this.#ip = ip;
  }

  /** The remembered address when `memo` is a memo of the same inputs, else undefined. */
  static answer(memo: unknown, remote: string | undefined, forwarded: string | undefined, trust: TrustFn): string | undefined {
    if (typeof memo !== 'object' || memo === null || !(#ip in memo)) return undefined;
    const m = memo as ClientIpMemo;
    return m.#remote === remote && m.#forwarded === forwarded && m.#trust === trust ? m.#ip : undefined;
  }

  /** Replaces the remembered inputs and address (no new object per change). */
  static replace(memo: unknown, remote: string | undefined, forwarded: string | undefined, trust: TrustFn, ip: string): boolean {
    if (typeof memo !== 'object' || memo === null || !(#ip in memo)) return false;
    const m = memo as ClientIpMemo;
    m.#remote = remote;
    m.#forwarded = forwarded;
    m.#trust = trust;
    m.#ip = ip;
    return true;
  }
}
/**
 * Categories and recipients are identifiers (`email`, `payment-gateway`, `partner`): kept
 * in the trail even when the policy does not list them, since a denied share's target is
 * what a privacy officer needs to see. Anything else (free text such as a name or an
 * address passed by mistake) is replaced, so it is never written down.
 */
const IDENTIFIER = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const listedOrToken = (value: string): string => (IDENTIFIER.test(value) ? value : 'unlisted');

// The GPC spec defines exactly "1"; anything else (including "true" or a list) is no preference.
const flag = parseSignalHeader;
const ENGINE_BRAND: unique symbol = Symbol.for('purposekit.engine') as never;

/**
 * The adapter plumbing of one engine, reached through a `Symbol.for` key so that an adapter
 * built against another installed copy of the core still drives this engine with this copy's
 * code (its private fields, its context class, its AsyncLocalStorage). `@purposekit/core/adapter`
 * wraps it; nothing here can set a basis the policy does not give or apply a declaration this
 * engine did not issue.
 * @internal
 */
export interface EngineHooks {
  begin(kit: Purposekit, facts: RequestFacts): PrivacyContext;
  declarePurpose(kit: Purposekit, purpose: string, route?: RouteLabel): PurposeDeclaration;
  applyPurpose(kit: Purposekit, ctx: PrivacyContext, decl: PurposeDeclaration): void;
  run<T>(kit: Purposekit, ctx: PrivacyContext, fn: () => T): T;
  current(kit: Purposekit): PrivacyContext | undefined;
  compileAgeGate<TRequest>(kit: Purposekit, name: string): CompiledAgeGate<TRequest>;
  checkAgeGate<TRequest>(kit: Purposekit, ctx: PrivacyContext, gate: CompiledAgeGate<TRequest>, input: { body: unknown; cookieHeader: string | undefined; request?: TRequest }): null | Promise<AgeGateRefusal>;
  acceptInbound(kit: Purposekit, ctx: PrivacyContext, request: InboundRequest): null | Promise<void>;
}

/** What {@link EngineHooks.acceptInbound} reads of a request. @internal */
export interface InboundRequest {
  readonly method: string;
  /** The URL as received (path + query). */
  readonly url: string;
  /** The `baggage` request header. */
  readonly baggage: string | string[] | undefined;
}

/** Contexts whose purpose a trusted upstream set. */
const inboundAccepted = new WeakSet<PrivacyContext>();
/** @internal */
export const ENGINE_HOOKS: unique symbol = Symbol.for('purposekit.engine.hooks.v1') as never;

/** Declarations this copy of the core issued, each with the engine that issued it. */
const issued = new WeakMap<object, Purposekit>();

function notAContext(what: string, value: unknown): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_NO_CONTEXT', `${what} takes a privacy context created by purposekit (the adapter middleware or runAs()), got ${show(value)}.`);
}

/**
 * The purposekit engine. Create one per application with {@link createPurposekit} and
 * share it between adapters, jobs and your data-access code.
 */
export class Purposekit implements ContextEngine {
  /** The validated, frozen policy. */
  readonly policy: Policy;
  /** The consent / objection / restriction store. */
  readonly consentStore: ConsentStore;
  /** Retention enforcement over the app's stores (`retentionStores`): `sweep()` and `due()`. */
  readonly retention: Retention;
  readonly policyId: string;
  readonly policyVersion: string;
  /** @internal A brand that survives two installed copies of the core (adapters check it, not instanceof). */
  readonly [ENGINE_BRAND] = true;
  readonly #audit: AuditSink;
  readonly #pseudonymize: (subject: string) => string;
  readonly #redactIp: (ip: string | undefined) => string;
  readonly #country: ((facts: RequestFacts) => string | undefined) | undefined;
  readonly #requestId: (facts: RequestFacts) => string;
  readonly #now: () => number;
  readonly #defaultDecl: PurposeDeclaration | undefined;
  readonly #ageGateOptions: AgeGateOptions<any> | undefined;
  #closing: Promise<void> | undefined;
  /** Requests whose subject's GPC opt-out is already stored (at most once per request). */
  readonly #gpcStored = new WeakSet<PrivacyContext>();
  /** Every gate of the policy, compiled once at creation when `ageGate` settings are given. */
  readonly #ageGates = new Map<string, CompiledAgeGate<any>>();
  readonly #routes = new RouteRegistry();
  readonly #enforced: EnforcementCheck;
  readonly #telemetry: Telemetry | null;
  readonly #cross: ResolvedCrossService | undefined;
  /**
   * The property under which a connection (see {@link RequestFacts.connection}) holds this
   * engine's {@link ClientIpMemo}. One symbol per engine: another engine's redaction never
   * answers for this one. A property rather than a WeakMap entry: a new connection costs
   * an assignment instead of an ephemeron-table insertion (≈ 10–40 ns against ≈ 0.3–5 µs
   * under connection churn on Node 24), and the hit is a property load on a hot object.
   */
  readonly #memoKey: symbol = Symbol('purposekit.clientIp');

  /** @internal use {@link createPurposekit} */
  constructor(options: PurposekitOptions) {
    options = validateOptions<PurposekitOptions>('createPurposekit()', options, OPTIONS_SPEC, { optional: false, usage: '{ policy, audit, subjectKey }' });
    const sk = options.subjectKey as unknown;
    if (sk === undefined || sk === null) {
      throw new PurposekitError(
        'PURPOSEKIT_ERR_INVALID_OPTION',
        'createPurposekit(): "subjectKey" is required: { id, secret }, the key that pseudonymises subjects in the audit trail (secret of at least 32 bytes). From a key directory: openKeyDirectory(dir).subjectKey; from the environment: { id: \'subj-1\', secret: process.env.SUBJECT_KEY }.',
      );
    }
    for (const [name, holder] of [['subjectKey', sk], ['ageGate', options.ageGate]] as const) {
      if (typeof holder === 'object' && holder !== null && 'secret' in holder && (holder as { secret?: unknown }).secret === undefined) {
        throw new PurposekitError(
          'PURPOSEKIT_ERR_INVALID_KEY',
          `createPurposekit(): ${name}.secret is undefined. If you read it from an environment variable (e.g. process.env.${name === 'ageGate' ? 'AGE_GATE_SECRET' : 'SUBJECT_KEY'}), that variable is not set in this process; or load the key directory with openKeyDirectory(dir).`,
          { details: { option: `${name}.secret` } },
        );
      }
    }
    this.policy = definePolicy(options.policy);
    this.policyId = this.policy.id;
    this.policyVersion = this.policy.version;
    this.#audit = options.audit;
    this.#pseudonymize = createSubjectPseudonymizer(options.subjectKey);
    this.#redactIp = createIpRedactor(this.policy.logs.ip, options.ipKeys, options.nat64Prefixes === undefined ? undefined : { nat64Prefixes: options.nat64Prefixes });
    this.consentStore = options.consentStore ?? new InMemoryConsentStore();
    this.retention = createRetention(this, resolveRetentionStores(this.policy, options.retentionStores), () => this.#now());
    this.#country = options.country;
    this.#requestId = options.requestId ?? nextRequestId;
    this.#now = options.now ?? Date.now;
    this.#ageGateOptions = options.ageGate;
    if (options.ageGate !== undefined) {
      // Validated now, not when a route first declares a gate: a bad secret or option
      // stops start-up even if the gated route is only mounted later (or lazily).
      for (const name of Object.keys(this.policy.ageGates)) this.#ageGates.set(name, compileAgeGate(this.policy, name, options.ageGate));
    }
    this.#telemetry = createTelemetry(options.telemetry !== false, `${this.policyId}@${this.policyVersion}`);
    this.#cross = resolveCrossService(options.crossService);
    this.#enforced = resolveReportOnly(this.policy, options.reportOnly, options.onWarning ?? ((message, code) => process.emitWarning(message, { code })));

    const dp = this.policy.defaultPurpose;
    this.#defaultDecl = dp === undefined ? undefined : Object.freeze({ purpose: dp, basis: this.policy.purposes[dp]!.basis });
  }

  /**
   * The routes declared so far with a route label (method, path and the data categories
   * each declares), sorted by path: the adapters' route tables (`privacy.describeRoutes(app)`
   * on Express, `privacy.describeRoutes(router)` on Koa) and any declaration an adapter made
   * with a label. `JSON.stringify` of it is what `purposekit ropa --routes <file>` reads.
   */
  describeRoutes(): RouteDescription[] {
    return this.#routes.list();
  }

  /**
   * Runs a background job (outside HTTP) under a declared purpose.
   * @throws PurposekitError PURPOSEKIT_ERR_UNKNOWN_PURPOSE
   */
  runAs<T>(options: RunAsOptions, fn: () => T): T {
    const decl = this.#declare(options.purpose);
    const ctx = ctxState.create(this, options.requestId ?? nextRequestId(), { gpc: undefined, dnt: undefined }, this.#redactIp(undefined), undefined, decl.purpose, decl.basis);
    ctx.setActor(options.actor);
    if (options.subject !== undefined) ctx.setSubject(options.subject);
    return runInContext(ctx, fn);
  }

  /**
   * Checks one access to personal data against the current purpose and records the
   * decision, allow or deny, in the audit trail BEFORE the access may proceed.
   *
   * @throws PurposekitError PURPOSEKIT_ERR_ACCESS_DENIED (403, `details.reason`) on a deny;
   *   PURPOSEKIT_ERR_PURPOSE_UNDECLARED when the request has no purpose (recorded as a deny);
   *   PURPOSEKIT_ERR_AUDIT_UNAVAILABLE (503) when the decision cannot be recorded (fail closed);
   *   PURPOSEKIT_ERR_NO_CONTEXT outside a request or job.
   */
  async access(request: AccessRequest, ctx: PrivacyContext = requirePrivacyContext()): Promise<AccessAllowed> {
    if (!ctxState.is(ctx)) throw notAContext('access()', ctx);
    // No nested async calls on this path: it runs for every access of every request.
    const pending = this.#evaluate(request, ctx, request?.subject ?? ctxState.subject(ctx));
    const evaluated = pending instanceof Promise ? await pending : pending;
    await this.#record(evaluated.event);
    const d = this.#outcome(evaluated, ctx);
    if (d.allowed) return d;
    const hint = this.#mistakeHint(Array.isArray(request?.data) ? request.data : [], typeof request?.action === 'string' ? request.action : '');
    throw new PurposekitError('PURPOSEKIT_ERR_ACCESS_DENIED', `Access denied (${d.reason}) for purpose "${d.purpose}".${hint}`, {
      details: { reason: d.reason, purpose: d.purpose, requestId: ctx.requestId },
    });
  }

  /**
   * The non-throwing form of {@link access}, for code that filters: the same decision,
   * recorded in the trail exactly as `access` records it, returned instead of thrown on a
   * deny (`{ allowed: false, reason }`). Show the caller only what was allowed, and never
   * tell the public why someone else's data was left out.
   *
   * @throws PurposekitError only for what is not a decision: PURPOSEKIT_ERR_PURPOSE_UNDECLARED
   *   (no purpose: a configuration error, recorded as a deny), PURPOSEKIT_ERR_AUDIT_UNAVAILABLE
   *   (503), PURPOSEKIT_ERR_INTERNAL (the consent store could not be read; recorded as a
   *   deny), PURPOSEKIT_ERR_NO_CONTEXT.
   */
  async check(request: AccessRequest, ctx: PrivacyContext = requirePrivacyContext()): Promise<AccessDecision> {
    if (!ctxState.is(ctx)) throw notAContext('check()', ctx);
    const pending = this.#evaluate(request, ctx, request?.subject ?? ctxState.subject(ctx));
    const evaluated = pending instanceof Promise ? await pending : pending;
    await this.#record(evaluated.event);
    return this.#outcome(evaluated, ctx);
  }

  /**
   * {@link check} for a list of subjects (one data access, many people): one decision per
   * subject, in the order given, each recorded as its own access record (a privacy officer
   * sees exactly whose data was shown). The consent facts are read and the records appended
   * concurrently, so a durable sink commits the whole list together (the file sink: one
   * fdatasync per list, not one per person). `request.subject` is ignored.
   *
   * @throws PurposekitError as {@link check}; when any record cannot be written, the whole
   *   call rejects with PURPOSEKIT_ERR_AUDIT_UNAVAILABLE and no decision is returned.
   */
  async checkEach(subjects: readonly string[], request: Omit<AccessRequest, 'subject'>, ctx: PrivacyContext = requirePrivacyContext()): Promise<AccessDecision[]> {
    if (!ctxState.is(ctx)) throw notAContext('checkEach()', ctx);
    if (!Array.isArray(subjects)) {
      throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `checkEach() takes an array of subject ids, got ${show(subjects)}.`);
    }
    const evaluated = await Promise.all(subjects.map((subject) => this.#evaluate(request, ctx, subject)));
    const written = await Promise.allSettled(evaluated.map((e) => this.#record(e.event)));
    const failed = written.find((w): w is PromiseRejectedResult => w.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return evaluated.map((e) => this.#outcome(e, ctx));
  }

  async #evaluate(request: AccessRequest | Omit<AccessRequest, 'subject'>, ctx: PrivacyContext, subject: unknown): Promise<Evaluated> {
    const actor = request?.actor ?? ctxState.actor(ctx) ?? 'service';
    const data = Array.isArray(request?.data) ? request.data : [];
    const action = typeof request?.action === 'string' ? request.action : '';
    const purpose = ctxState.purpose(ctx);
    // The basis always comes from this engine's policy, never from the context or the caller.
    const rule = purpose === undefined || !Object.hasOwn(this.policy.purposes, purpose) ? undefined : this.policy.purposes[purpose];

    let reason: AccessReason;
    let facts: SubjectFacts = NO_SUBJECT_FACTS;
    let storeFailure: unknown;
    const recipient = typeof request?.recipient === 'string' ? request.recipient : undefined;
    if (rule === undefined) {
      reason = 'no-purpose';
    } else if (data.length === 0 || data.some((d) => typeof d !== 'string') || !(ACTIONS as readonly string[]).includes(action) || (subject !== undefined && typeof subject !== 'string')) {
      reason = 'invalid-request';
    } else {
      const who = subject as string | undefined;
      // The request's GPC speaks only for the person who sent it (never an operator's header about others).
      const gpc = gpcApplies(ctx, who, request?.actor);
      let recipientConsent: RecipientConsent;
      if (who !== undefined) {
        try {
          if (gpc && !this.#gpcStored.has(ctx)) {
            this.#gpcStored.add(ctx);
            await storeGpcOptOut(this, ctx, who, this.#now());
          }
          const f = this.consentStore.facts(who, rule.id);
          facts = f instanceof Promise ? await f : f;
          if (recipient !== undefined && this.policy.recipients[recipient]?.consentRequired === true) {
            const r = this.consentStore.facts(who, recipientConsentKey(recipient));
            recipientConsent = r instanceof Promise ? await r : r;
          }
        } catch (cause) {
          // A store we cannot read is a decision we cannot make: fail closed, and record
          // the deny like any other.
          storeFailure = cause;
        }
      }
      reason = storeFailure !== undefined
        ? 'store-unavailable'
        : decide(this.policy, rule, { gpc: gpc ? true : undefined, ageProven: ctxState.ageProven(ctx), now: this.#now(), country: ctx.country }, { subject: who, data, action, recipient }, facts, recipientConsent);
    }
    // A share records where the data goes: the transfer (country, mechanism) that covers it,
    // and whether the access went on after the subject's erasure under a surviving purpose.
    // (No allocation on the common path: most accesses name no recipient and no erased subject.)
    const transfer = recipient === undefined || rule === undefined ? undefined : rule.transfers.find((t) => t.to === recipient);
    let attributes: Record<string, string | boolean> | undefined;
    if (transfer !== undefined) attributes = { transferCountry: transfer.country, transferMechanism: transfer.mechanism };
    if (facts.erased === true && reason === 'allowed') attributes = { ...attributes, survivesErasure: true };
    // Report-only mode: a deny the policy would enforce is recorded as such and let through.
    const enforced = reason === 'allowed' || this.#enforced(purpose, reason);
    if (!enforced) attributes = { ...attributes, enforced: false };

    const event: AuditEventInput = {
      kind: 'access',
      actor,
      ...(subject !== undefined && typeof subject === 'string' ? { subject: this.#pseudonymize(subject) } : {}),
      // Only names the policy knows reach the trail: a caller passing free text (a name, an
      // address) where a category or recipient belongs must not write it down verbatim.
      data: data.filter((d): d is string => typeof d === 'string').map(listedOrToken),
      action: action || 'invalid',
      ...(purpose !== undefined ? { purpose } : {}),
      ...(rule !== undefined ? { basis: rule.basis } : {}),
      policy: { id: this.policyId, version: this.policyVersion },
      requestId: ctx.requestId,
      decision: reason === 'allowed' ? 'allow' : 'deny',
      reason,
      ...(recipient !== undefined ? { recipient: listedOrToken(recipient) } : {}),
      ...(attributes !== undefined ? { attributes } : {}),
    };
    return { event, reason, rule, storeFailure, enforced };
  }

  #traceDecision({ event, reason, enforced }: Evaluated): void {
    this.#telemetry?.decision(event.decision!, reason, event.data!, event.action!, enforced);
  }

  /** The decision of a recorded access (every path: access, check, checkEach), traced first. */
  #outcome(evaluated: Evaluated, ctx: PrivacyContext): AccessDecision {
    this.#traceDecision(evaluated);
    const { reason, rule, storeFailure, enforced } = evaluated;
    if (storeFailure !== undefined) {
      throw new PurposekitError('PURPOSEKIT_ERR_INTERNAL', 'The consent store could not be read; access denied.', { cause: storeFailure, details: { reason: 'store-unavailable' } });
    }
    if (rule === undefined) ctx.requirePurpose(); // throws PURPOSEKIT_ERR_PURPOSE_UNDECLARED
    if (reason === 'allowed') return { allowed: true, purpose: rule!.id, basis: rule!.basis, reason: 'allowed' };
    if (!enforced) return { allowed: true, purpose: rule!.id, basis: rule!.basis, reason: 'allowed', wouldDeny: reason };
    return { allowed: false, purpose: rule!.id, basis: rule!.basis, reason: reason as AccessDenied['reason'] };
  }

  /** Names a caller's likely mistake (a category or action that exists nowhere), for the deny message. */
  #mistakeHint(data: readonly unknown[], action: string): string {
    const known = this.policy.categories;
    const unknown = data.filter((d): d is string => typeof d === 'string' && !known.has(d));
    if (unknown.length > 0) {
      const first = unknown[0]!;
      return ` Unknown category ${show(first)}: neither a built-in data category nor one of the policy's customCategories.${didYouMean(first, [...known])}`;
    }
    if (!(ACTIONS as readonly string[]).includes(action)) return ` Unknown action ${show(action)}: use one of ${ACTIONS.join(', ')}.${didYouMean(action, ACTIONS)}`;
    return '';
  }

  /**
   * Wraps an object (a repository, a client) so that each listed method first runs
   * {@link access} with its spec, then the method itself. Unlisted members pass through.
   */
  bind<T extends object, S extends BindSpec<T>>(target: T, spec: S): Bound<T, S> {
    const wrapped = new Map<PropertyKey, unknown>();
    for (const [name, s] of Object.entries(spec) as Array<[string, { data: readonly string[]; action: string; recipient?: string; subject?: (...a: unknown[]) => string | undefined }]>) {
      const original = (target as Record<string, unknown>)[name];
      if (typeof original !== 'function') {
        throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `bind(): "${name}" is not a method of the target.`);
      }
      wrapped.set(name, async (...args: unknown[]) => {
        const subject = s.subject?.(...args);
        await this.access({ data: s.data, action: s.action, ...(s.recipient !== undefined ? { recipient: s.recipient } : {}), ...(subject !== undefined ? { subject } : {}) });
        return (original as (...a: unknown[]) => unknown).apply(target, args);
      });
    }
    return new Proxy(target, {
      get(obj, prop, receiver) {
        return wrapped.has(prop) ? wrapped.get(prop) : Reflect.get(obj, prop, receiver);
      },
    }) as unknown as Bound<T, S>;
  }

  /**
   * Appends a non-access record (age-gate refusal, consent change, rights request) for
   * the given context. The subject, when given, is pseudonymised here.
   * @throws PurposekitError PURPOSEKIT_ERR_AUDIT_UNAVAILABLE
   */
  async record(
    kind: 'age-gate' | 'consent' | 'rights' | 'retention',
    ctx: PrivacyContext | undefined,
    fields: { subject?: string; actor?: string; purpose?: string; data?: readonly string[]; action?: string; decision?: 'allow' | 'deny'; reason?: string; attributes?: Readonly<Record<string, string | number | boolean>> },
  ): Promise<void> {
    if (ctx !== undefined && !ctxState.is(ctx)) throw notAContext('record()', ctx);
    const c = ctx ?? getPrivacyContext();
    const purpose = fields.purpose ?? (c === undefined ? undefined : ctxState.purpose(c));
    const basis = purpose === undefined || !Object.hasOwn(this.policy.purposes, purpose) ? undefined : this.policy.purposes[purpose]!.basis;
    const event: AuditEventInput = {
      kind,
      actor: fields.actor ?? (c === undefined ? undefined : ctxState.actor(c)) ?? 'service',
      ...(fields.subject !== undefined ? { subject: this.#pseudonymize(fields.subject) } : {}),
      ...(fields.data !== undefined ? { data: fields.data } : {}),
      ...(fields.action !== undefined ? { action: fields.action } : {}),
      ...(purpose !== undefined ? { purpose } : {}),
      ...(basis !== undefined ? { basis } : {}),
      policy: { id: this.policyId, version: this.policyVersion },
      ...(c !== undefined ? { requestId: c.requestId } : {}),
      ...(fields.decision !== undefined ? { decision: fields.decision } : {}),
      ...(fields.reason !== undefined ? { reason: fields.reason } : {}),
      ...(fields.attributes !== undefined ? { attributes: fields.attributes } : {}),
    };
    await this.#record(event);
  }

  /** The subject's pseudonym as the trail stores it (for reports). */
  pseudonymizeSubject(subject: string): string {
    return this.#pseudonymize(subject);
  }

  /**
   * Closes what the engine holds, once: the audit sink (a final signed checkpoint when it
   * signs, then flush and release) and the consent store (when it has a `close()`).
   * Idempotent: later calls return the same promise. Call it on shutdown after the server
   * stopped taking requests; `PrivacyModule` (NestJS) calls it on application shutdown.
   * Both are closed even when one fails; the first failure is then thrown.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      let failure: { error: unknown } | undefined;
      try {
        await this.#audit.close();
      } catch (error) {
        failure = { error };
      }
      try {
        await this.consentStore.close?.();
      } catch (error) {
        failure ??= { error };
      }
      if (failure !== undefined) throw failure.error;
    })();
    return this.#closing;
  }

  #declare(purpose: string, route?: RouteLabel): PurposeDeclaration {
    const rule = typeof purpose === 'string' && Object.hasOwn(this.policy.purposes, purpose) ? this.policy.purposes[purpose] : undefined;
    if (rule === undefined) {
      throw new PurposekitError(
        'PURPOSEKIT_ERR_UNKNOWN_PURPOSE',
        `Purpose ${show(purpose)} is not in policy "${this.policyId}".${typeof purpose === 'string' ? didYouMean(purpose, Object.keys(this.policy.purposes)) : ''} Its purposes: ${Object.keys(this.policy.purposes).join(', ')}.`,
        { details: { purpose: String(purpose), policy: this.policyId } },
      );
    }
    if (route !== undefined) this.#routes.add(rule.id, checkRouteLabel(route));
    const decl = Object.freeze({ purpose: rule.id, basis: rule.basis });
    issued.set(decl, this);
    return decl;
  }

  #begin(facts: RequestFacts): PrivacyContext {
    const h = facts.headers;
    const gpc = flag(h['sec-gpc']);
    const dnt = flag(h['dnt']);
    const signals: Signals = { gpc, dnt };
    const ip = this.#clientIp(facts, h);
    let country: string | undefined;
    if (this.#country !== undefined) {
      const c = this.#country(facts);
      country = typeof c === 'string' && /^[A-Z]{2}$/.test(c) ? c : undefined;
    }
    const d = this.#defaultDecl;
    this.#telemetry?.tag(d?.purpose, d?.basis);
    return ctxState.create(this, this.#requestId(facts), signals, ip, country, d?.purpose, d?.basis);
  }

  /**
   * The redacted client address of a request. On a keep-alive connection the inputs
   * usually repeat from one request to the next: when the socket address, the
   * `X-Forwarded-For` value (a single string or none) and the trust function are the same
   * as for the connection's previous request, and the trust function is one
   * `compileTrust` made (pure, so the same inputs give the same answer), the previous
   * result is reused. Everything else takes {@link #resolveClientIp}.
   */
  #clientIp(facts: RequestFacts, h: RequestFacts['headers']): string {
    const trust = facts.trust ?? NEVER_TRUST;
    const conn = facts.connection as Record<symbol, unknown> | undefined;
    const forwarded = h['x-forwarded-for'];
    if (conn === undefined || typeof conn !== 'object' || conn === null || (forwarded !== undefined && typeof forwarded !== 'string')) {
      return this.#resolveClientIp(facts.remoteAddress, h, trust);
    }
    const remote = facts.remoteAddress;
    let memo: unknown;
    try {
      memo = conn[this.#memoKey];
    } catch {
      memo = undefined; // a proxied socket that refuses (e.g. an unbound HTTP/2 one): no memo
    }
    const hit = ClientIpMemo.answer(memo, remote, forwarded, trust);
    if (hit !== undefined) return hit;
    const ip = this.#resolveClientIp(remote, h, trust);
    if (!isCompiledTrust(trust) || ClientIpMemo.replace(memo, remote, forwarded, trust, ip)) return ip;
    try {
      conn[this.#memoKey] = new ClientIpMemo(remote, forwarded, trust, ip);
    } catch {
      // A frozen or refusing connection object: every request is resolved in full.
    }
    return ip;
  }

  /** The redacted client address, resolved in full (trusted proxies walked, then redacted). */
  #resolveClientIp(remote: string | undefined, h: RequestFacts['headers'], trust: TrustFn): string {
    try {
      return this.#redactIp(resolveClientIp(remote, h, { trust }));
    } catch {
      // Fail closed: a resolution or redaction failure never lets the raw value through.
      return this.#redactIp(undefined);
    }
  }

  #compileAgeGate<TRequest>(name: string): CompiledAgeGate<TRequest> {
    if (typeof name !== 'string' || !Object.hasOwn(this.policy.ageGates, name)) {
      throw new PurposekitError(
        'PURPOSEKIT_ERR_UNKNOWN_AGE_GATE',
        `Age gate ${show(name)} is not in policy "${this.policyId}".${typeof name === 'string' ? didYouMean(name, Object.keys(this.policy.ageGates)) : ''} Its gates: ${Object.keys(this.policy.ageGates).join(', ') || '(none)'}.`,
        { details: { gate: String(name), policy: this.policyId } },
      );
    }
    if (this.#ageGateOptions === undefined) {
      throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `A route declares the age gate "${name}", but createPurposekit() got no "ageGate" settings: pass ageGate: { secret } (at least 32 bytes, for the lockout cookie).`);
    }
    return this.#ageGates.get(name)!;
  }

  static {
    const hooks: EngineHooks = {
      begin: (kit, facts) => kit.#begin(facts),
      declarePurpose: (kit, purpose, route) => kit.#declare(purpose, route),
      applyPurpose(kit, ctx, decl) {
        if (!ctxState.is(ctx) || ctxState.engine(ctx) !== kit) throw notAContext('applyPurpose()', ctx);
        const rule = issued.get(decl) === kit ? kit.policy.purposes[decl.purpose] : undefined;
        if (rule === undefined || rule.basis !== decl.basis) {
          throw new PurposekitError(
            'PURPOSEKIT_ERR_FORGED_DECLARATION',
            `applyPurpose() takes a declaration this engine issued (declarePurpose() from @purposekit/core/adapter); got ${show(decl)}, which it did not issue.`,
            { details: { policy: kit.policyId } },
          );
        }
        // A purpose a trusted upstream signed for this request stands over the route's own.
        if (inboundAccepted.has(ctx)) return;
        ctxState.setPurpose(ctx, rule.id, rule.basis);
        kit.#telemetry?.tag(rule.id, rule.basis);
      },
      acceptInbound(kit, ctx, request) {
        if (!ctxState.is(ctx) || ctxState.engine(ctx) !== kit) throw notAContext('acceptInboundPurpose()', ctx);
        return kit.#acceptInbound(ctx, request);
      },
      run(_kit, ctx, fn) {
        if (!ctxState.is(ctx)) throw notAContext('run()', ctx);
        return runInContext(ctx, fn);
      },
      current: () => getPrivacyContext(),
      compileAgeGate: (kit, name) => kit.#compileAgeGate(name),
      checkAgeGate(kit, ctx, gate, input) {
        if (!ctxState.is(ctx)) return Promise.reject(notAContext('checkAgeGate()', ctx));
        const purpose = ctxState.purpose(ctx);
        const basis = purpose === undefined ? undefined : kit.policy.purposes[purpose]?.basis;
        let outcome;
        try {
          outcome = gate.check({ body: input.body, cookieHeader: input.cookieHeader, country: ctx.country, basis, ...(input.request !== undefined ? { request: input.request } : {}) });
        } catch (cause) {
          return Promise.reject(isPurposekitError(cause) ? cause : new PurposekitError('PURPOSEKIT_ERR_INTERNAL', 'The age gate could not decide; the request was refused.', { cause }));
        }
        if (outcome.ok) {
          ctxState.proveAge(ctx, minimumAgeFor(gate.gate, { country: ctx.country, basis }));
          return null;
        }
        const refusal: AgeGateRefusal = { error: outcome.error, setCookie: outcome.setCookie };
        return kit.record('age-gate', ctx, { decision: 'deny', reason: outcome.audit.outcome, attributes: { gate: outcome.audit.gate } }).then(() => refusal);
      },
    };
    Object.defineProperty(Purposekit.prototype, ENGINE_HOOKS, { value: hooks, enumerable: false, writable: false, configurable: false });
  }

  #acceptInbound(ctx: PrivacyContext, request: InboundRequest): null | Promise<void> {
    const cross = this.#cross;
    if (cross === undefined) return null;
    const entries = readPurposeBaggage(request.baggage);
    if (entries === undefined) return null;
    const outcome = verifyInbound(cross, this.policy, entries, { method: request.method, path: pathOf(request.url), nowSeconds: Math.floor(this.#now() / 1000) });
    if (outcome.ok) {
      ctxState.setPurpose(ctx, outcome.purpose, outcome.basis as LegalBasis);
      inboundAccepted.add(ctx);
      this.#telemetry?.tag(outcome.purpose, outcome.basis);
    }
    const purpose = ctxState.purpose(ctx);
    const rule = purpose === undefined ? undefined : this.policy.purposes[purpose];
    return this.#record({
      kind: 'access',
      // Only a verified peer is an actor; a refused claim is kept as an attribute.
      actor: outcome.ok ? outcome.peer : 'service',
      action: 'accept-purpose',
      ...(purpose !== undefined ? { purpose } : {}),
      ...(rule !== undefined ? { basis: rule.basis } : {}),
      policy: { id: this.policyId, version: this.policyVersion },
      requestId: ctx.requestId,
      decision: outcome.ok ? 'allow' : 'deny',
      reason: outcome.ok ? 'inbound-purpose' : outcome.reason,
      attributes: outcome.ok
        ? { peer: outcome.peer, upstreamRequestId: outcome.upstreamRequestId }
        : { ...(outcome.peer !== undefined ? { claimedPeer: outcome.peer } : {}), ...(outcome.purpose !== undefined ? { inboundPurpose: outcome.purpose } : {}) },
    });
  }

  /**
   * Headers for one outbound call made inside the current request: `headers` with the
   * request's purpose, basis and id, signed for `call`, added to its W3C `baggage` header.
   * Pass them to fetch, undici or node:http.
   * @throws PurposekitError PURPOSEKIT_ERR_NO_CONTEXT outside a request;
   *   PURPOSEKIT_ERR_PURPOSE_UNDECLARED when the request has no purpose;
   *   PURPOSEKIT_ERR_INVALID_OPTION without `crossService.signingKey`.
   */
  purposeHeaders(call: OutboundCall, headers: Readonly<Record<string, string>> = {}): Record<string, string> {
    const entries = this.#signOutbound(call);
    const existing = Object.entries(headers).find(([k]) => k.toLowerCase() === 'baggage');
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() !== 'baggage') out[k] = v;
    out['baggage'] = mergeBaggage(existing?.[1], entries);
    return out;
  }

  /**
   * Runs `fn` (which makes one outbound call) with the signed purpose in OpenTelemetry's
   * baggage, so the app's propagator (the W3C baggage propagator, injected by the HTTP,
   * undici or fetch instrumentation) carries it. Needs `@opentelemetry/api`.
   * @throws PurposekitError as {@link purposeHeaders}; PURPOSEKIT_ERR_INVALID_OPTION without `@opentelemetry/api`.
   */
  withPurposeBaggage<T>(call: OutboundCall, fn: () => T): T {
    const otel = this.#telemetry === null ? null : loadOtelApi();
    if (otel === null) {
      throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'withPurposeBaggage() needs @opentelemetry/api (and telemetry on); without it, pass purposeHeaders(call) to your HTTP client.');
    }
    const entries = this.#signOutbound(call);
    const active = otel.context.active();
    let baggage = otel.propagation.getBaggage(active) ?? otel.propagation.createBaggage();
    for (const [k, v] of Object.entries(entries)) baggage = baggage.setEntry(k, { value: v });
    return otel.context.with(otel.propagation.setBaggage(active, baggage), fn);
  }

  #signOutbound(call: OutboundCall): Record<string, string> {
    const cross = this.#cross;
    if (cross === undefined) throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'Outbound purposes need the crossService option of createPurposekit() (id and signingKey).');
    const ctx = requirePrivacyContext();
    const { purpose, basis } = ctx.requirePurpose();
    const method = typeof call?.method === 'string' ? call.method : '';
    const url = call?.url instanceof URL ? call.url.pathname : typeof call?.url === 'string' ? call.url : '';
    if (method === '' || url === '') throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'An outbound call needs { audience, method, url }.');
    return signPurpose(cross, { audience: call.audience, purpose, basis, requestId: ctx.requestId, method, path: pathOf(url), nowSeconds: Math.floor(this.#now() / 1000) });
  }

  async #record(event: AuditEventInput): Promise<void> {
    // An auditor goes from a record to its trace: the active span's ids, when there is one.
    const ids = this.#telemetry?.ids();
    if (ids !== undefined) event = { ...event, attributes: { ...event.attributes, traceId: ids.traceId, spanId: ids.spanId } };
    try {
      await this.#audit.append(event);
    } catch (cause) {
      // An outage is a 503; a refused event (personal data, a malformed field) is a
      // programming error and keeps its own code rather than looking like an outage.
      if (isPurposekitError(cause) && (cause.code === 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE' || cause.code === 'PURPOSEKIT_ERR_AUDIT_REJECTED')) throw cause;
      throw new PurposekitError('PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', 'The audit record could not be written; the access was not granted.', { cause });
    }
  }
}

/** True for an engine made by `createPurposekit`, by any installed copy of `@purposekit/core`. */
export function isPurposekit(value: unknown): value is Purposekit {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[ENGINE_BRAND] === true;
}

/**
 * Creates the purposekit engine for one application.
 *
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION for a bad option;
 *   PURPOSEKIT_ERR_POLICY_INVALID for a bad policy; PURPOSEKIT_ERR_INVALID_KEY for a bad subject key.
 */
export function createPurposekit(options: PurposekitOptions): Purposekit {
  return new Purposekit(options);
}
