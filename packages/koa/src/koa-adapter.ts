import { errorResponse, isPurposekitError, PurposekitError } from '@purposekit/core';
import {
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
  resolveAdapterOptions,
  runInContext,
} from '@purposekit/core/adapter';
import type { PrivacyContext, Purposekit } from '@purposekit/core';
import type { Context, Middleware, Next } from 'koa';
import type { RequestWithBody, ResolvedPrivacyAdapterOptions } from './internal-types';
import { toRequestFacts } from './request-facts';
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
   * Declares a route's purpose. Validated now (start-up).
   * @throws PurposekitError PURPOSEKIT_ERR_UNKNOWN_PURPOSE
   */
  purpose(purpose: string): Middleware;
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

  const middleware: Middleware = async function purposekitMiddleware(ctx: Context, next: Next): Promise<void> {
    if (gpc !== undefined && isWellKnownRequest(ctx.method, ctx.url, GPC_WELL_KNOWN_PATH)) {
      ctx.status = gpc.status;
      ctx.set(gpc.headers);
      ctx.body = gpc.body;
      return;
    }
    if (ctx.state.privacy !== undefined || (skip !== undefined && skip(ctx.method, ctx.url))) {
      // An outer mount already owns the context and the error mapping (or the route is skipped).
      await next();
      return;
    }
    const app = ctx.app;
    if (app.proxy === true && !(app.maxIpsCount > 0) && !warnedApps.has(app)) {
      warnedApps.add(app);
      resolved.onWarning(
        'Koa "app.proxy" is true with "app.maxIpsCount" 0: every client can choose its own address through X-Forwarded-For. Set app.maxIpsCount to the number of proxies in front of the app.',
        'PURPOSEKIT_TRUST_ALL_PROXIES',
      );
    }
    const privacy = begin(kit, toRequestFacts(ctx));
    ctx.state.privacy = privacy;
    try {
      await runInContext(kit, privacy, () => next());
    } catch (err) {
      if (!isPurposekitError(err) || ctx.headerSent) throw err;
      writeError(ctx, err);
      // A server-side failure (an audit sink that cannot write, an internal error) is
      // answered here but must not go unseen: Koa's own channel for that is the app's
      // 'error' event (what Express users see through their error middleware).
      if (err.status >= 500) ctx.app.emit('error', err, ctx);
    }
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
    purpose(purpose: string): Middleware {
      const decl = declarePurpose(kit, purpose);
      return function purposekitPurpose(ctx: Context, next: Next): Promise<void> {
        applyPurpose(kit, contextOf(ctx, 'purpose'), decl);
        return next();
      };
    },
  });
}
