/**
 * @purposekit/core/adapter — the plumbing a framework adapter needs, kept apart from the
 * user API (`@purposekit/core`) the way OpenTelemetry keeps its SDK apart from its API.
 * Apps never import this entry; `@purposekit/express`, `@purposekit/koa` and
 * `@purposekit/nestjs` do.
 *
 * Every function that drives an engine dispatches through the engine itself, so an adapter
 * built against one installed copy of the core drives an engine made by another copy with
 * that copy's code. None of them can give a request a purpose its route did not declare or
 * a basis the policy does not give.
 *
 * One explicit export list, grouped by what an adapter does. No `export *`.
 */
import { PurposekitError } from './errors';
import type { CompiledAgeGate } from './age';
import type { PrivacyContext } from './context';
import { ENGINE_HOOKS } from './purposekit';
import type { AgeGateRefusal, EngineHooks, InboundRequest, Purposekit, PurposeDeclaration, RequestFacts } from './purposekit';
import { show } from './policy/suggest';
import type { RouteLabel } from './routes';

function hooksOf(kit: Purposekit, fn: string): EngineHooks {
  const hooks = typeof kit === 'object' && kit !== null ? (kit as unknown as Record<symbol, EngineHooks | undefined>)[ENGINE_HOOKS] : undefined;
  if (hooks === undefined) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${fn}() takes the engine from createPurposekit() as its first argument, got ${show(kit)}.`);
  }
  return hooks;
}

// ── request lifecycle ─────────────────────────────────────────────────────────────

/**
 * Starts the privacy context of one HTTP request: request id, signals, client address
 * (resolved through the framework's trusted proxies, then redacted), and the policy's
 * default purpose (or none). Nothing the client sends can set the purpose.
 */
export function begin(kit: Purposekit, facts: RequestFacts): PrivacyContext {
  return hooksOf(kit, 'begin').begin(kit, facts);
}

/**
 * Validates a route's purpose at start-up and returns the engine's declaration for it.
 * Only declarations issued here are accepted by {@link applyPurpose}. With a route label
 * (method, path, the data categories the route touches) the engine also lists the route in
 * `kit.describeRoutes()`, for the record of processing.
 * @throws PurposekitError PURPOSEKIT_ERR_UNKNOWN_PURPOSE when the policy does not contain it;
 *   PURPOSEKIT_ERR_INVALID_OPTION for a malformed route label.
 */
export function declarePurpose(kit: Purposekit, purpose: string, route?: RouteLabel): PurposeDeclaration {
  return hooksOf(kit, 'declarePurpose').declarePurpose(kit, purpose, route);
}

/**
 * Sets a route's declared purpose on a context (overriding the default).
 * @throws PurposekitError PURPOSEKIT_ERR_FORGED_DECLARATION for a declaration this engine
 *   did not issue; PURPOSEKIT_ERR_NO_CONTEXT for a context it did not create.
 */
export function applyPurpose(kit: Purposekit, ctx: PrivacyContext, decl: PurposeDeclaration): void {
  hooksOf(kit, 'applyPurpose').applyPurpose(kit, ctx, decl);
}

/**
 * Runs `fn` with `ctx` as the current privacy context for all of its async work (in the
 * engine's own copy of the core, so `getPrivacyContext()` of that copy sees it).
 */
export function runInContext<T>(kit: Purposekit, ctx: PrivacyContext, fn: () => T): T {
  return hooksOf(kit, 'runInContext').run(kit, ctx, fn);
}

/** The current privacy context as the engine's copy of the core sees it, or undefined. */
export function currentContext(kit: Purposekit): PrivacyContext | undefined {
  return hooksOf(kit, 'currentContext').current(kit);
}

/**
 * Checks the request's inbound purpose (W3C baggage signed by a trusted upstream peer, see
 * docs/cross-service.md) right after {@link begin}. Returns `null` when there is nothing to
 * check (no `crossService` option, or no purposekit baggage: the common path stays
 * synchronous); otherwise a promise that resolves once the acceptance or the refusal is
 * recorded. An accepted purpose stands over the route's declaration; a refused one leaves
 * the route's own. The adapter waits for it before the route runs.
 * @throws (rejects) PurposekitError PURPOSEKIT_ERR_AUDIT_UNAVAILABLE
 */
export function acceptInboundPurpose(kit: Purposekit, ctx: PrivacyContext, request: InboundRequest): null | Promise<void> {
  return hooksOf(kit, 'acceptInboundPurpose').acceptInbound(kit, ctx, request);
}

// ── age gates ─────────────────────────────────────────────────────────────────────

/**
 * Compiles a route's age gate at start-up, with the engine's `ageGate` settings.
 * @throws PurposekitError PURPOSEKIT_ERR_UNKNOWN_AGE_GATE when the policy has no such
 *   gate; PURPOSEKIT_ERR_INVALID_KEY / PURPOSEKIT_ERR_INVALID_OPTION for bad settings.
 */
export function compileAgeGate<TRequest = unknown>(kit: Purposekit, name: string): CompiledAgeGate<TRequest> {
  return hooksOf(kit, 'compileAgeGate').compileAgeGate<TRequest>(kit, name);
}

/**
 * Runs an age gate for one request. Returns `null` when the request passes (no promise:
 * the common path stays synchronous) and marks the context as old enough for the gate;
 * otherwise records the refusal in the trail (gate, outcome, request id: never the date
 * of birth, the body or the threshold) and resolves to what the adapter must send. The
 * adapter must not run the handler or pass the body on after a refusal.
 */
export function checkAgeGate<TRequest>(
  kit: Purposekit,
  ctx: PrivacyContext,
  gate: CompiledAgeGate<TRequest>,
  input: { body: unknown; cookieHeader: string | undefined; request?: TRequest },
): null | Promise<AgeGateRefusal> {
  return hooksOf(kit, 'checkAgeGate').checkAgeGate(kit, ctx, gate, input);
}

export type { AgeGateRefusal, InboundRequest, PurposeDeclaration, RequestFacts } from './purposekit';
export { RouteRegistry, resolvePurposeOptions, resolveRouteCategories } from './routes';
export type { RouteLabel, RouteDescription } from './routes';
export type { AgeGateAudit, AgeGateCheckInput, AgeGateOptions, AgeGateOutcome, CompiledAgeGate, ResolvedAgeGateOptions } from './age';

// ── adapter options, well-known responses, trust, refused bodies ─────────────────
export {
  ADAPTER_OPTIONS_SPEC,
  resolveAdapterOptions,
  reportServerError,
  pathOf,
  warnTrustAllProxies,
  gpcWellKnownFor,
  isWellKnownRequest,
  trustForApp,
  discardSubmission,
  bodyNotParsed,
} from './adapter-support';
export type { AdapterOptions, ResolvedAdapterOptions, ServerErrorInfo, StaticResponse } from './adapter-support';
export { validateOptions } from './options';
export type { OptionKind, OptionRule, OptionsSpec, ValidateOptionsSettings } from './options';
export { compileTrust, fastifyTrustOf, trustsEverything, warnIfTrustsEverything } from './ip';
export type { FastifyTrust, TrustFn, TrustSetting } from './ip';
export { GPC_WELL_KNOWN_PATH, gpcWellKnownResponse, parseSignalHeader } from './signals/gpc';
export type { GpcWellKnownResponse } from './signals/gpc';

// ── the access decision, as a pure function ────────────────────────────────────────
export { decide } from './decide';
export type { AccessReason, DecisionContext, DecisionRequest } from './decide';
