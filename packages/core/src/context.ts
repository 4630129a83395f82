import { AsyncLocalStorage } from 'node:async_hooks';
import { PurposekitError } from './errors';
import type { AccessAllowed, AccessDecision, AccessRequest } from './purposekit';
import type { LegalBasis } from './vocabulary';

/** Privacy signals the client sent. `undefined` means no preference expressed. */
export interface Signals {
  /** `Sec-GPC: 1` (Global Privacy Control). `0`, absent or malformed: undefined. */
  readonly gpc: boolean | undefined;
  /** `DNT: 1` (Do Not Track; CalOPPA asks services to disclose how they treat it). */
  readonly dnt: boolean | undefined;
}

/** Fields safe to put on every log line of a request. No personal values. */
export interface PrivacyLogFields {
  requestId: string;
  purpose: string | null;
  basis: LegalBasis | null;
  policy: string;
  ip: string;
  gpc?: true;
  dnt?: true;
}

/**
 * Internal engine hooks a context calls back into. Kept as an interface so the context
 * stays a plain, cheap object (one allocation per request).
 * @internal
 */
export interface ContextEngine {
  readonly policyId: string;
  readonly policyVersion: string;
  access(request: AccessRequest, ctx: PrivacyContext): Promise<AccessAllowed>;
  check(request: AccessRequest, ctx: PrivacyContext): Promise<AccessDecision>;
  checkEach(subjects: readonly string[], request: Omit<AccessRequest, 'subject'>, ctx: PrivacyContext): Promise<AccessDecision[]>;
}

/**
 * The state of a context, reachable only inside the core (through {@link contextInternals}).
 * @internal
 */
export interface ContextInternals {
  /** Creates a context (the engine's `begin` / `runAs`). */
  create(engine: ContextEngine, requestId: string, signals: Signals, clientIp: string, country: string | undefined, purpose: string | undefined, basis: LegalBasis | undefined): PrivacyContext;
  /** True only for a context the core created (not an object with the same shape or prototype). */
  is(value: unknown): value is PrivacyContext;
  purpose(ctx: PrivacyContext): string | undefined;
  basis(ctx: PrivacyContext): LegalBasis | undefined;
  subject(ctx: PrivacyContext): string | undefined;
  actor(ctx: PrivacyContext): string | undefined;
  ageProven(ctx: PrivacyContext): number;
  engine(ctx: PrivacyContext): ContextEngine;
  setPurpose(ctx: PrivacyContext, purpose: string, basis: LegalBasis): void;
  proveAge(ctx: PrivacyContext, age: number): void;
}

/**
 * Accessors of the private context state, filled in by the class below (its static block
 * is the only code that can read `#` fields). Internal: no entry point exports it.
 * @internal
 */
export const contextInternals = {} as ContextInternals;

const CREATE = Symbol('purposekit.context.create');

/**
 * What purposekit knows about the current request (or background job). Held in
 * AsyncLocalStorage for the life of the request; read it anywhere with
 * {@link getPrivacyContext}. The purpose and basis come from the route's declaration
 * and the policy, never from the client, and the state behind them is private: no
 * property of this object can change what the audit trail records.
 */
export class PrivacyContext {
  /** Unique id of this request, also written into each audit record. */
  readonly requestId: string;
  /** Policy id and version the request runs under. */
  readonly policyId: string;
  readonly policyVersion: string;
  /** Client privacy signals. */
  readonly signals: Signals;
  /** The client's address in its redacted (truncated or pseudonymised) log form. Never the full address. */
  readonly clientIp: string;
  /** ISO 3166-1 alpha-2 country of the subject, when the app's resolver knows it. */
  readonly country: string | undefined;
  #purpose: string | undefined;
  #basis: LegalBasis | undefined;
  #subject: string | undefined;
  #actor: string | undefined;
  /** Minimum ages this request has proven it meets (from passed age gates). */
  #ageProven: number;
  readonly #engine: ContextEngine;

  static {
    Object.assign(contextInternals, {
      create: (engine, requestId, signals, clientIp, country, purpose, basis) => new PrivacyContext(CREATE, engine, requestId, signals, clientIp, country, purpose, basis),
      is: (value: unknown): value is PrivacyContext => typeof value === 'object' && value !== null && #engine in value,
      purpose: (ctx) => ctx.#purpose,
      basis: (ctx) => ctx.#basis,
      subject: (ctx) => ctx.#subject,
      actor: (ctx) => ctx.#actor,
      ageProven: (ctx) => ctx.#ageProven,
      engine: (ctx) => ctx.#engine,
      setPurpose: (ctx, purpose, basis) => {
        ctx.#purpose = purpose;
        ctx.#basis = basis;
      },
      proveAge: (ctx, age) => {
        if (age > ctx.#ageProven) ctx.#ageProven = age;
      },
    } satisfies ContextInternals);
  }

  /** Contexts are created by the engine (adapters call `begin` from `@purposekit/core/adapter`; jobs use `runAs`), never by apps. */
  private constructor(
    token: symbol,
    engine: ContextEngine,
    requestId: string,
    signals: Signals,
    clientIp: string,
    country: string | undefined,
    purpose: string | undefined,
    basis: LegalBasis | undefined,
  ) {
    if (token !== CREATE) {
      throw new PurposekitError('PURPOSEKIT_ERR_NO_CONTEXT', 'A privacy context is created by purposekit (the adapter middleware or runAs()), not with new PrivacyContext().');
    }
    this.#engine = engine;
    this.requestId = requestId;
    this.policyId = engine.policyId;
    this.policyVersion = engine.policyVersion;
    this.signals = signals;
    this.clientIp = clientIp;
    this.country = country;
    this.#purpose = purpose;
    this.#basis = basis;
    this.#subject = undefined;
    this.#actor = undefined;
    this.#ageProven = -1;
  }

  /** The request's purpose, or undefined when its route declares none and the policy has no default. */
  get purpose(): string | undefined {
    return this.#purpose;
  }

  /** The legal basis the policy gives the purpose. */
  get basis(): LegalBasis | undefined {
    return this.#basis;
  }

  /** The data subject, once the app has told us (e.g. after authentication). */
  get subject(): string | undefined {
    return this.#subject;
  }

  /** Who acts (the authenticated user or a service name). */
  get actor(): string | undefined {
    return this.#actor;
  }

  /**
   * Records whose data this request is about. Use an internal id, never an email:
   * it is pseudonymised before it reaches the audit trail.
   */
  setSubject(subject: string): void {
    if (typeof subject !== 'string' || subject.length === 0 || subject.length > 256) {
      throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'setSubject() takes a non-empty string id of at most 256 characters.');
    }
    this.#subject = subject;
  }

  /** Records who acts (an internal user id or a service name, never an email). */
  setActor(actor: string): void {
    if (typeof actor !== 'string' || actor.length === 0 || actor.length > 256) {
      throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'setActor() takes a non-empty string id of at most 256 characters.');
    }
    this.#actor = actor;
  }

  /**
   * The purpose, or a `PURPOSEKIT_ERR_PURPOSE_UNDECLARED` error: the fail-closed read.
   * @throws PurposekitError PURPOSEKIT_ERR_PURPOSE_UNDECLARED
   */
  requirePurpose(): { purpose: string; basis: LegalBasis } {
    if (this.#purpose === undefined || this.#basis === undefined) {
      throw new PurposekitError('PURPOSEKIT_ERR_PURPOSE_UNDECLARED', 'This route declares no purpose and the policy has no defaultPurpose; personal data may not be processed here.');
    }
    return { purpose: this.#purpose, basis: this.#basis };
  }

  /**
   * Checks and records one access to personal data under this request's purpose.
   * See `Purposekit.access` for the rules and the errors it throws.
   */
  access(request: AccessRequest): Promise<AccessAllowed> {
    return this.#engine.access(request, this);
  }

  /**
   * The non-throwing form of {@link access} for code that filters: the decision, recorded
   * exactly as `access` records it, returned (`{ allowed: false, reason }`) instead of thrown.
   * See `Purposekit.check`.
   */
  check(request: AccessRequest): Promise<AccessDecision> {
    return this.#engine.check(request, this);
  }

  /**
   * {@link check} for a list of subjects: one decision per subject, in order, each recorded,
   * committed together. Filter with it:
   * `const shown = members.filter((_, i) => decisions[i]!.allowed)`. See `Purposekit.checkEach`.
   */
  checkEach(subjects: readonly string[], request: Omit<AccessRequest, 'subject'>): Promise<AccessDecision[]> {
    return this.#engine.checkEach(subjects, request, this);
  }

  /** Fields for a structured log line: request id, purpose, basis, policy, redacted IP, signals. */
  logFields(): PrivacyLogFields {
    const f: PrivacyLogFields = {
      requestId: this.requestId,
      purpose: this.#purpose ?? null,
      basis: this.#basis ?? null,
      policy: `${this.policyId}@${this.policyVersion}`,
      ip: this.clientIp,
    };
    if (this.signals.gpc === true) f.gpc = true;
    if (this.signals.dnt === true) f.dnt = true;
    return f;
  }
}

const storage = new AsyncLocalStorage<PrivacyContext>();

/** The privacy context of the current request or job, or undefined outside one. */
export function getPrivacyContext(): PrivacyContext | undefined {
  return storage.getStore();
}

/**
 * The privacy context of the current request or job.
 * @throws PurposekitError PURPOSEKIT_ERR_NO_CONTEXT outside a request or `runAs`.
 */
export function requirePrivacyContext(): PrivacyContext {
  const ctx = storage.getStore();
  if (ctx === undefined) {
    throw new PurposekitError('PURPOSEKIT_ERR_NO_CONTEXT', 'No privacy context is active: mount the purposekit middleware before this route, or wrap background work in privacy.runAs().');
  }
  return ctx;
}

/** Runs `fn` with `ctx` as the current privacy context (for its whole async life). @internal */
export function runInContext<T>(ctx: PrivacyContext, fn: () => T): T {
  return storage.run(ctx, fn);
}
