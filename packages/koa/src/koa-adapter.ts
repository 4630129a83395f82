import { errorResponse, isPurposekitError, PurposekitError } from '@purposekit/core';
import {
  acceptInboundPurpose,
  applyPurpose,
  bodyNotParsed,
  begin,
  checkAgeGate,
  compileAgeGate,
  declarePurpose,
  discardSubmission,
  GPC_WELL_KNOWN_PATH,
  gpcWellKnownFor,
  isWellKnownRequest,
  pathOf,
  reportServerError,
  resolveAdapterOptions,
  runInContext,
  warnTrustAllProxies,
} from '@purposekit/core/adapter';
import type { ServerErrorInfo } from '@purposekit/core/adapter';
import type { PrivacyContext, Purposekit, RouteDescription } from '@purposekit/core';
import type { Context, Middleware, Next } from 'koa';
import type { RequestWithBody, ResolvedPrivacyAdapterOptions } from './internal-types';
import { toRequestFacts } from './request-facts';
import { ROUTE_DECLARATION, describeKoaRoutes, resolvePurposeOptions } from './route-table';
import type { PrivacyAdapterOptions } from './types';

/** What {@link createPrivacy} returns: the middleware and route helpers of one app. */
export interface KoaPrivacy {
  /**
   * Starts the privacy context of every request (`ctx.state.privacy`) and runs the rest of
   * the chain inside it. It also answers every purposekit error thrown downstream with its
   * status and `{ error: { code, message } }`; other errors are rethrown untouched for your
   * own error handling. Mount it first. Mounting it twice is harmless.
   */
  middleware(): Middleware;
  /**
   * Declares a route's purpose. Validated now (start-up). `options.data` names the data
   * categories the route's handler touches; {@link describeRoutes} lists them, and the
   * record of processing flags those the purpose does not allow.
   * @throws PurposekitError PURPOSEKIT_ERR_UNKNOWN_PURPOSE; PURPOSEKIT_ERR_INVALID_OPTION for bad options
   */
  purpose(purpose: string, options?: { data?: readonly string[] }): Middleware;
  /**
   * The route table of `router` (a `@koa/router` Router, after its routes are set up): each
   * route that declares a purpose, with its method, full path and declared data categories.
   * The routes are recorded in the engine too, so this returns `kit.describeRoutes()`; write
   * it as JSON for `purposekit ropa --routes`.
   * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION when `router` is not a Router
   */
  describeRoutes(router: object): RouteDescription[];
  /**
   * Route middleware running the policy's age gate `name` on `ctx.request.body`'s date of
   * birth (mount your body parser first, e.g. `@koa/bodyparser`). A refusal answers 403
   * (or 400 for a bad date) with a lockout cookie; the body is dropped and the handler
   * never runs.
   * @throws PurposekitError PURPOSEKIT_ERR_UNKNOWN_AGE_GATE at start-up
   */
  ageGate(name: string): Middleware;
  /** The engine. */
  readonly kit: Purposekit;
}

const warnedApps = new WeakSet<object>();

/** The middleware's promise settles with no value, as an async function's did. */
function ignoreValue(): void {
  // nothing: drops the downstream value
}

function writeError(ctx: Context, err: unknown): void {
  const { status, body } = errorResponse(err);
  ctx.status = status;
  ctx.body = body;
}

function contextOf(ctx: Context, helper: string): PrivacyContext {
  const privacy = ctx.state.privacy;
  if (privacy === undefined) {
    throw new PurposekitError('PURPOSEKIT_ERR_NO_CONTEXT', `privacy.${helper}() ran before privacy.middleware(): mount the middleware first.`);
  }
  return privacy;
}

/**
 * Creates the Koa adapter for one purposekit engine. Koa needs no separate error
 * handler: `middleware()` maps purposekit errors itself.
 *
 * @example
 * const privacy = createPrivacy(kit);
 * app.use(privacy.middleware());
 * router.post('/members', privacy.purpose('service.registration'), handler);
 *
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION for a bad engine or option
 */
export function createPrivacy(kit: Purposekit, options: PrivacyAdapterOptions = {}): KoaPrivacy {
  const resolved: ResolvedPrivacyAdapterOptions = resolveAdapterOptions(kit, options, 'createPrivacy');

  const gpc = gpcWellKnownFor(kit);
  const skip = resolved.skip;

  /**
   * Maps a purposekit error thrown downstream to its response; any other error, or one
   * that comes after the headers were sent, is rethrown untouched.
   */
  const answerError = (ctx: Context, privacy: PrivacyContext, err: unknown): void => {
    if (!isPurposekitError(err) || ctx.headerSent) throw err;
    writeError(ctx, err);
    // A server-side failure (an audit sink that cannot write, an internal error) is
    // answered here but must not go unseen: the app's onServerError, by default Koa's own
    // channel, the app's 'error' event.
    if (err.status >= 500) {
      const info: ServerErrorInfo = { status: err.status, requestId: privacy.requestId, method: ctx.method, path: pathOf(ctx.originalUrl), adapter: 'koa' };
      reportServerError(resolved, err, info, (e) => ctx.app.emit('error', e, ctx));
    }
  };

  // Not an `async` function: the common path returns the downstream promise with one
  // rejection handler instead of an async function's own promise and two awaits. Every
  // outcome is still a promise, as Koa expects (a synchronous failure is a rejection).
  const middleware: Middleware = function purposekitMiddleware(ctx: Context, next: Next): Promise<void> {
    let privacy: PrivacyContext;
    try {
      if (gpc !== undefined && isWellKnownRequest(ctx.method, ctx.url, GPC_WELL_KNOWN_PATH)) {
        ctx.status = gpc.status;
        ctx.set(gpc.headers);
        ctx.body = gpc.body;
        return Promise.resolve();
      }
      if (ctx.state.privacy !== undefined || (skip !== undefined && skip(ctx.method, ctx.url))) {
        // An outer mount already owns the context and the error mapping (or the route is skipped).
        return Promise.resolve(next()).then(ignoreValue);
      }
      const app = ctx.app;
      if (app.proxy === true && !(app.maxIpsCount > 0) && !warnedApps.has(app)) {
        warnedApps.add(app);
        warnTrustAllProxies(resolved, 'Koa "app.proxy" (true, with app.maxIpsCount 0)');
      }
      privacy = begin(kit, toRequestFacts(ctx));
      ctx.state.privacy = privacy;
    } catch (err) {
      return Promise.reject(err);
    }
    let downstream: Promise<unknown>;
    try {
      // A purpose signed by a trusted upstream service (docs/cross-service.md); none (null)
      // without a baggage header, so most requests skip the call.
      const baggage = ctx.req.headers.baggage;
      const inbound = baggage === undefined ? null : acceptInboundPurpose(kit, privacy, { method: ctx.method, url: ctx.originalUrl, baggage });
      downstream = inbound === null ? Promise.resolve(runInContext(kit, privacy, next)) : inbound.then(() => runInContext(kit, privacy, next));
    } catch (err) {
      downstream = Promise.reject(err);
    }
    return downstream.then(ignoreValue, (err: unknown) => answerError(ctx, privacy, err));
  };

  return Object.freeze({
    kit,
    middleware: () => middleware,
    ageGate(name: string): Middleware {
      const gate = compileAgeGate<Context>(kit, name);
      return async function purposekitAgeGate(ctx: Context, next: Next): Promise<void> {
        const privacy = contextOf(ctx, 'ageGate');
        const request = ctx.request as RequestWithBody;
        const unparsed = bodyNotParsed(ctx.req, request.body, `mount a body parser (e.g. @koa/bodyparser) before privacy.ageGate('${name}').`);
        if (unparsed !== undefined) throw unparsed;
        const refused = checkAgeGate(kit, privacy, gate, { body: request.body, cookieHeader: ctx.get('cookie') || undefined, request: ctx });
        if (refused === null) {
          await next();
          return;
        }
        // Nothing of a refused submission may travel further, not even to error handlers.
        discardSubmission(request, ctx.req);
        const { error, setCookie } = await refused;
        if (setCookie !== undefined) ctx.append('Set-Cookie', setCookie);
        writeError(ctx, error);
      };
    },
    describeRoutes: (router: object) => describeKoaRoutes(kit, router),
    purpose(purpose: string, options?: { data?: readonly string[] }): Middleware {
      const decl = declarePurpose(kit, purpose);
      const data = resolvePurposeOptions(kit, purpose, options);
      const handler = function purposekitPurpose(ctx: Context, next: Next): Promise<void> {
        applyPurpose(kit, contextOf(ctx, 'purpose'), decl);
        return next();
      };
      Object.defineProperty(handler, ROUTE_DECLARATION, { value: Object.freeze({ purpose: decl.purpose, data }) });
      return handler;
    },
  });
}
