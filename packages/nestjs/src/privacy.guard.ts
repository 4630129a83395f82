import { Inject, Injectable } from '@nestjs/common';
import type { CanActivate, ExecutionContext, Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { PurposekitError } from '@purposekit/core';
import type { PrivacyContext, Purposekit } from '@purposekit/core';
import { applyPurpose, checkAgeGate, currentContext, discardSubmission } from '@purposekit/core/adapter';
import type { CompiledAgeGate } from '@purposekit/core/adapter';
import { RESOLVED_PRIVACY_OPTIONS } from './internal-types';
import type { ResolvedPrivacyModuleOptions } from './internal-types';
import { PrivacyRouteRegistry } from './route-registry';
import type { AccessesOptions, CompiledRoute, PrivacyGuardRequest as GuardRequest } from './types';

// Contexts whose route checks have run: PrivacyModule imported twice installs the guard
// twice, and an access must still be recorded once.
const checked = new WeakSet<PrivacyContext>();

/**
 * The global guard PrivacyModule installs (APP_GUARD). For each HTTP request it applies
 * the route's `@Purpose` (or its controller's), runs its `@AgeGate`, then checks and
 * records each `@Accesses`, in that order; any refusal throws, so the handler never
 * runs, and PrivacyExceptionFilter answers with the catalog's status and body.
 *
 * Extend it through its protected methods (as with `ThrottlerGuard`) and pass the
 * subclass as `PrivacyModule.forRoot({ kit, guard: MyPrivacyGuard })`: the module then
 * installs yours instead. Call `super` for the checks you keep; skipping them turns the
 * privacy checks off.
 */
@Injectable()
export class PrivacyGuard implements CanActivate {
  protected readonly kit: Purposekit;

  constructor(
    @Inject(RESOLVED_PRIVACY_OPTIONS) options: ResolvedPrivacyModuleOptions,
    protected readonly routes: PrivacyRouteRegistry,
    protected readonly adapterHost: HttpAdapterHost,
  ) {
    this.kit = options.kit;
  }

  /**
   * Runs the route's checks once per request (HTTP only; other contexts pass). Returns
   * `true` synchronously when the route declares only a purpose (or nothing), else a
   * promise: a subclass should `await super.canActivate(context)`.
   * @throws PurposekitError PURPOSEKIT_ERR_AGE_GATE_REFUSED / PURPOSEKIT_ERR_DOB_* (age gate),
   *   PURPOSEKIT_ERR_ACCESS_DENIED, PURPOSEKIT_ERR_PURPOSE_UNDECLARED, PURPOSEKIT_ERR_AUDIT_UNAVAILABLE
   *   (accesses), PURPOSEKIT_ERR_NO_CONTEXT (middleware did not run).
   */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    // Synchronous unless the route has an age gate or accesses: no promise, no microtask
    // for the common route that only declares a purpose (Nest awaits either form).
    if (context.getType() !== 'http') return true;
    const route = this.getRoute(context);
    if (route.purpose === undefined && route.ageGate === undefined && route.accesses.length === 0) return true;
    // The HTTP request is the first argument (what switchToHttp().getRequest() returns,
    // without the three closures switchToHttp() allocates per call).
    const request = context.getArgByIndex<GuardRequest>(0);
    const ctx = this.getPrivacyContext(request);
    if (ctx === undefined) {
      throw new PurposekitError('PURPOSEKIT_ERR_NO_CONTEXT', 'PrivacyGuard ran without a privacy context: is PrivacyModule imported, and does its middleware cover this route?');
    }
    if (checked.has(ctx)) return true;
    checked.add(ctx);
    if (route.purpose !== undefined) applyPurpose(this.kit, ctx, route.purpose);
    if (route.ageGate === undefined && route.accesses.length === 0) return true;
    return this.#runChecks(context, ctx, route, request);
  }

  async #runChecks(context: ExecutionContext, ctx: PrivacyContext, route: CompiledRoute, request: GuardRequest): Promise<boolean> {
    if (route.ageGate !== undefined) await this.checkAgeGate(context, ctx, route.ageGate, request);
    for (const access of route.accesses) await this.checkAccess(context, ctx, access, request);
    return true;
  }

  /** The route's compiled declarations (validated at start-up). */
  protected getRoute(context: ExecutionContext): CompiledRoute {
    return this.routes.get(context.getClass() as Type<unknown>, context.getHandler());
  }

  /** The request's privacy context: set on the request by the middleware, else the active one. */
  protected getPrivacyContext(request: GuardRequest): PrivacyContext | undefined {
    return request.privacy ?? request.raw?.privacy ?? currentContext(this.kit);
  }

  /**
   * Runs the age gate on the request body. On a refusal: records it (the engine does),
   * drops the body, sets the lockout cookie and throws the refusal.
   */
  protected async checkAgeGate(context: ExecutionContext, ctx: PrivacyContext, gate: CompiledAgeGate<unknown>, request: GuardRequest): Promise<void> {
    const cookie = request.headers['cookie'];
    const refused = checkAgeGate(this.kit, ctx, gate, { body: request.body, cookieHeader: Array.isArray(cookie) ? cookie.join('; ') : cookie, request });
    if (refused === null) return;
    // Nothing of a refused submission may travel further, not even to exception filters.
    discardSubmission(request, request.raw);
    const { error, setCookie } = await refused;
    if (setCookie !== undefined) this.appendSetCookie(context, setCookie);
    throw error;
  }

  /** Checks and records one `@Accesses` declaration; a deny throws. */
  protected async checkAccess(_context: ExecutionContext, ctx: PrivacyContext, access: AccessesOptions, request: GuardRequest): Promise<void> {
    const subject = access.subject?.(request);
    await this.kit.access(
      {
        data: access.data,
        action: access.action,
        ...(access.recipient !== undefined ? { recipient: access.recipient } : {}),
        ...(subject !== undefined ? { subject } : {}),
      },
      ctx,
    );
  }

  /** Adds a `Set-Cookie` header through the platform adapter (Express or Fastify). */
  protected appendSetCookie(context: ExecutionContext, value: string): void {
    this.adapterHost.httpAdapter.appendHeader(context.switchToHttp().getResponse(), 'Set-Cookie', value);
  }
}
