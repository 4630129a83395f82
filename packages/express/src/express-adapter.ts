import { errorResponse, isPurposekitError, PurposekitError } from '@purposekit/core';
import type { Purposekit, RouteDescription } from '@purposekit/core';
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
  trustsEverything,
  warnTrustAllProxies,
} from '@purposekit/core/adapter';
import type { ServerErrorInfo, TrustSetting } from '@purposekit/core/adapter';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import type { ResolvedPrivacyAdapterOptions } from './internal-types';
import { toRequestFacts } from './request-facts';
import { ROUTE_DECLARATION, describeExpressRoutes, resolvePurposeOptions } from './route-table';
import type { PrivacyAdapterOptions } from './types';

/** What {@link createPrivacy} returns: the middleware and route helpers of one app. */
export interface ExpressPrivacy {
  /** Starts the privacy context of every request. Mount it before your routes. Mounting it twice is harmless. */
  middleware(): RequestHandler;
  /**
   * Declares a route's purpose. Validated now (start-up). `options.data` names the data
   * categories the route's handler touches; {@link describeRoutes} lists them, and the
   * record of processing flags those the purpose does not allow.
   * @throws PurposekitError PURPOSEKIT_ERR_UNKNOWN_PURPOSE; PURPOSEKIT_ERR_INVALID_OPTION for bad options
   */
  purpose(purpose: string, options?: { data?: readonly string[] }): RequestHandler;
  /**
   * The route table of `app` (an Express app or Router, after its routes are set up): each
   * route that declares a purpose, with its method, full path and declared data categories.
   * The routes are recorded in the engine too, so this returns `kit.describeRoutes()`; write
   * it as JSON for `purposekit ropa --routes`.
   * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION when `app` is not an Express app or Router
   */
  describeRoutes(app: object): RouteDescription[];
  /**
   * Route middleware running the policy's age gate `name` on the request body's date of
   * birth (parse the body first, e.g. `express.json()`). A refusal answers 403 (or 400 for
   * a bad date) with a lockout cookie; the body is dropped and the handler never runs.
   * @throws PurposekitError PURPOSEKIT_ERR_UNKNOWN_AGE_GATE at start-up
   */
  ageGate(name: string): RequestHandler;
  /** Maps purposekit errors to `{ error: { code, message } }` with the right status; passes other errors on. */
  errorHandler(): ErrorRequestHandler;
  /** The engine. */
  readonly kit: Purposekit;
}

const warnedApps = new WeakSet<object>();

/**
 * Express's own channel for an error it handles is its final handler, which prints the
 * error to stderr unless the app's env is `test`: the default `onServerError` does the same
 * (code, message and request id; never a request value).
 */
function stderrReport(req: Request, error: { code: string; message: string }, info: ServerErrorInfo): void {
  if (req.app.get('env') === 'test') return;
  process.stderr.write(`purposekit: ${error.code}: ${error.message} (${info.status} on ${info.method} ${info.path}${info.requestId !== undefined ? `, request ${info.requestId}` : ''})\n`);
}

/**
 * Creates the Express adapter for one purposekit engine.
 *
 * @example
 * const privacy = createPrivacy(kit);
 * app.use(privacy.middleware());
 * app.post('/members', privacy.purpose('service.registration'), handler);
 * app.use(privacy.errorHandler());
 */
export function createPrivacy(kit: Purposekit, options: PrivacyAdapterOptions = {}): ExpressPrivacy {
  const resolved: ResolvedPrivacyAdapterOptions = resolveAdapterOptions(kit, options, 'createPrivacy');

  const gpc = gpcWellKnownFor(kit);
  const skip = resolved.skip;

  const middleware: RequestHandler = function purposekitMiddleware(req: Request, res: Response, next: NextFunction): void {
    if (gpc !== undefined && isWellKnownRequest(req.method, req.url, GPC_WELL_KNOWN_PATH)) {
      res.writeHead(gpc.status, gpc.headers).end(req.method === 'HEAD' ? undefined : gpc.body);
      return;
    }
    if (req.privacy !== undefined || (skip !== undefined && skip(req.method, req.url))) {
      next();
      return;
    }
    if (!warnedApps.has(req.app)) {
      warnedApps.add(req.app);
      // Checked once per app, on its first request (when its settings are final).
      if (trustsEverything(req.app.get('trust proxy') as TrustSetting)) {
        warnTrustAllProxies(resolved, 'Express "trust proxy"');
      }
    }
    const ctx = begin(kit, toRequestFacts(req));
    req.privacy = ctx;
    // A purpose signed by a trusted upstream service (docs/cross-service.md): checked and
    // recorded before the route runs; null when the request carries none (always so
    // without a baggage header, so most requests skip the call).
    const baggage = req.headers.baggage;
    const inbound = baggage === undefined ? null : acceptInboundPurpose(kit, ctx, { method: req.method, url: req.originalUrl, baggage });
    if (inbound === null) runInContext(kit, ctx, next);
    else inbound.then(() => runInContext(kit, ctx, next), next);
  };

  const errorHandler: ErrorRequestHandler = function purposekitErrorHandler(err: unknown, req: Request, res: Response, next: NextFunction): void {
    if (!isPurposekitError(err) || res.headersSent) {
      next(err);
      return;
    }
    const { status, body } = errorResponse(err);
    res.status(status).json(body);
    if (status >= 500) {
      const info: ServerErrorInfo = { status, requestId: req.privacy?.requestId, method: req.method, path: pathOf(req.originalUrl), adapter: 'express' };
      reportServerError(resolved, err, info, (e, i) => stderrReport(req, e, i));
    }
  };

  return Object.freeze({
    kit,
    middleware: () => middleware,
    errorHandler: () => errorHandler,
    ageGate(name: string): RequestHandler {
      const gate = compileAgeGate<Request>(kit, name);
      return function purposekitAgeGate(req: Request, res: Response, next: NextFunction): void {
        const ctx = req.privacy;
        if (ctx === undefined) {
          next(new PurposekitError('PURPOSEKIT_ERR_NO_CONTEXT', 'privacy.ageGate() ran before privacy.middleware(): mount the middleware first.'));
          return;
        }
        const unparsed = bodyNotParsed(req, req.body, `mount express.json() (or express.urlencoded()) before privacy.ageGate('${name}').`);
        if (unparsed !== undefined) {
          next(unparsed);
          return;
        }
        const refused = checkAgeGate(kit, ctx, gate, { body: req.body, cookieHeader: req.headers.cookie, request: req });
        if (refused === null) {
          next();
          return;
        }
        // Nothing of a refused submission may travel further, not even to error handlers.
        discardSubmission(req);
        refused.then(
          ({ error, setCookie }) => {
            if (setCookie !== undefined) res.append('Set-Cookie', setCookie);
            next(error);
          },
          next,
        );
      };
    },
    describeRoutes: (app: object) => describeExpressRoutes(kit, app),
    purpose(purpose: string, options?: { data?: readonly string[] }): RequestHandler {
      const decl = declarePurpose(kit, purpose);
      const data = resolvePurposeOptions(kit, purpose, options);
      const handler = function purposekitPurpose(req: Request, _res: Response, next: NextFunction): void {
        const ctx = req.privacy;
        if (ctx === undefined) {
          next(new PurposekitError('PURPOSEKIT_ERR_NO_CONTEXT', 'privacy.purpose() ran before privacy.middleware(): mount the middleware first.'));
          return;
        }
        applyPurpose(kit, ctx, decl);
        next();
      };
      Object.defineProperty(handler, ROUTE_DECLARATION, { value: Object.freeze({ purpose: decl.purpose, data }) });
      return handler;
    },
  });
}
