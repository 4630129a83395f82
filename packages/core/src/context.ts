import { AsyncLocalStorage } from 'node:async_hooks';
import { PurposekitError } from './errors';
import type { AccessDecision, AccessRequest } from './purposekit';
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
  access(request: AccessRequest, ctx: PrivacyContext): Promise<AccessDecision>;
}

/**
 * What purposekit knows about the current request (or background job). Held in
 * AsyncLocalStorage for the life of the request; read it anywhere with
 * {@link getPrivacyContext}. The purpose and basis come from the route's declaration
 * and the policy, never from the client.
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
  /** @internal */ _purpose: string | undefined;
  /** @internal */ _basis: LegalBasis | undefined;
  /** @internal */ _subject: string | undefined;
  /** @internal */ _actor: string | undefined;
  /** @internal Minimum ages this request has proven it meets (from passed age gates). */
  _ageProven: number;
  /** @internal */ readonly _engine: ContextEngine;

  /** @internal Contexts are created by the engine (`begin`, `runAs`), not by apps. */
  constructor(
    engine: ContextEngine,
    requestId: string,
    signals: Signals,
    clientIp: string,
    country: string | undefined,
    purpose: string | undefined,
    basis: LegalBasis | undefined,
  ) {
    this._engine = engine;
    this.requestId = requestId;
    this.policyId = engine.policyId;
    this.policyVersion = engine.policyVersion;
    this.signals = signals;
    this.clientIp = clientIp;
    this.country = country;
    this._purpose = purpose;
    this._basis = basis;
    this._subject = undefined;
    this._actor = undefined;
    this._ageProven = -1;
  }

  /** The request's purpose, or undefined when its route declares none and the policy has no default. */
  get purpose(): string | undefined {
    return this._purpose;
  }

  /** The legal basis the policy gives the purpose. */
  get basis(): LegalBasis | undefined {
    return this._basis;
  }

  /** The data subject, once the app has told us (e.g. after authentication). */
  get subject(): string | undefined {
    return this._subject;
  }

  /** Who acts (the authenticated user or a service name). */
  get actor(): string | undefined {
    return this._actor;
  }

  /**
   * Records whose data this request is about. Use an internal id, never an email:
   * it is pseudonymised before it reaches the audit trail.
   */
  setSubject(subject: string): void {
    if (typeof subject !== 'string' || subject.length === 0 || subject.length > 256) {
      throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'setSubject() takes a non-empty string id of at most 256 characters.');
    }
    this._subject = subject;
  }

  /** Records who acts (an internal user id or a service name, never an email). */
  setActor(actor: string): void {
    if (typeof actor !== 'string' || actor.length === 0 || actor.length > 256) {
      throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'setActor() takes a non-empty string id of at most 256 characters.');
    }
    this._actor = actor;
  }

  /**
   * The purpose, or a `PURPOSEKIT_ERR_PURPOSE_UNDECLARED` error: the fail-closed read.
   * @throws PurposekitError PURPOSEKIT_ERR_PURPOSE_UNDECLARED
   */
  requirePurpose(): { purpose: string; basis: LegalBasis } {
    if (this._purpose === undefined || this._basis === undefined) {
      throw new PurposekitError('PURPOSEKIT_ERR_PURPOSE_UNDECLARED', 'This route declares no purpose and the policy has no defaultPurpose; personal data may not be processed here.');
    }
    return { purpose: this._purpose, basis: this._basis };
  }

  /**
   * Checks and records one access to personal data under this request's purpose.
   * See `Purposekit.access` for the rules and the errors it throws.
   */
  access(request: AccessRequest): Promise<AccessDecision> {
    return this._engine.access(request, this);
  }

  /** Fields for a structured log line: request id, purpose, basis, policy, redacted IP, signals. */
  logFields(): PrivacyLogFields {
    const f: PrivacyLogFields = {
      requestId: this.requestId,
      purpose: this._purpose ?? null,
      basis: this._basis ?? null,
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
