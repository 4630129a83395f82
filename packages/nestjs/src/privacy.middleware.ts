import type { ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { acceptInboundPurpose, begin, GPC_WELL_KNOWN_PATH, gpcWellKnownFor, isWellKnownRequest, runInContext, trustsEverything, warnTrustAllProxies } from '@purposekit/core/adapter';
import type { StaticResponse, TrustFn, TrustSetting } from '@purposekit/core/adapter';
import type { NestMiddleware } from '@nestjs/common';
import { RESOLVED_PRIVACY_OPTIONS } from './internal-types';
import type { ResolvedPrivacyModuleOptions } from './internal-types';
import { platformTrust, trustFromIps } from './request-facts';
import type { MiddlewareRequest } from './request-facts';

const warnedApps = new WeakSet<object>();

/** The Fastify request fields the `onRequest` hook reads (structural: no platform type leaks). */
interface FastifyHookRequest {
  raw: MiddlewareRequest;
  /** Fastify's own walk of the address chain; defined only under its `trustProxy` option. */
  readonly ips?: readonly string[];
}

/**
 * Starts the privacy context of every request. PrivacyModule runs it as a Nest middleware
 * applied to all routes, or, where that covers the same requests (no global prefix, no
 * URI versioning of unversioned routes), directly on the platform (see PrivacyModule):
 * an Express middleware registered before every Nest middleware, or on the Fastify
 * platform a Fastify `onRequest` hook when the app has no Nest middleware of its own.
 * It runs before guards, interceptors, pipes, the handler and exception filters, and
 * keeps the context active (AsyncLocalStorage) for all of them. Running twice (the
 * module imported twice) is harmless: the second run keeps the first context.
 * @internal
 */
@Injectable()
export class PrivacyMiddleware implements NestMiddleware {
  constructor(@Inject(RESOLVED_PRIVACY_OPTIONS) private readonly options: ResolvedPrivacyModuleOptions) {
    this.#gpc = gpcWellKnownFor(options.kit);
  }

  readonly #gpc: StaticResponse | undefined;
  /** The last Express app checked for a trust-everything setting (one per process, usually). */
  #lastApp: object | undefined;

  use(req: MiddlewareRequest, res: ServerResponse, next: (error?: unknown) => void): void {
    this.start(req, res, next, undefined);
  }

  /**
   * The same, as a Fastify `onRequest` hook. `trust` is Fastify's `trustProxy` decision
   * compiled once (core's `fastifyTrustOf`); undefined: read from each request's `ips`.
   */
  fastifyHook(trust: TrustFn | undefined): (request: FastifyHookRequest, reply: { raw: ServerResponse }, done: (error?: unknown) => void) => void {
    return (request, reply, done) => {
      const raw = request.raw;
      if (raw.privacy !== undefined) {
        done();
        return;
      }
      this.start(raw, reply.raw, done, trust ?? trustFromIps(request.ips));
    };
  }

  /** The same, as a plain Express middleware (registered by PrivacyModule on the Express app). */
  readonly expressMiddleware = (req: MiddlewareRequest, res: ServerResponse, next: (error?: unknown) => void): void => {
    // A throw becomes next(error), as Nest's middleware wrapper turns it into the
    // exception layer's answer: Nest's Express error handler sends it there too.
    try {
      this.start(req, res, next, undefined);
    } catch (error) {
      next(error);
    }
  };

  /**
   * @param trust the trust decision when called from the Fastify hook (the raw request then
   *   has no `ips`: @fastify/middie did not run), else undefined: the platform's, per request.
   */
  start(req: MiddlewareRequest, res: ServerResponse, next: (error?: unknown) => void, trust: TrustFn | undefined): void {
    const gpc = this.#gpc;
    const url = req.originalUrl ?? req.url;
    if (gpc !== undefined && isWellKnownRequest(req.method, url, GPC_WELL_KNOWN_PATH)) {
      res.writeHead(gpc.status, gpc.headers).end(req.method === 'HEAD' ? undefined : gpc.body);
      return;
    }
    const options = this.options;
    const skip = options.skip;
    if (req.privacy !== undefined || (skip !== undefined && skip(req.method ?? 'GET', url ?? '/'))) {
      next();
      return;
    }
    const app = req.app;
    if (app !== undefined && app !== this.#lastApp && typeof app.get === 'function') {
      this.#lastApp = app;
      if (!warnedApps.has(app)) {
        warnedApps.add(app);
        // Checked once per app, on its first request (when its settings are final).
        if (trustsEverything(app.get('trust proxy') as TrustSetting)) {
          warnTrustAllProxies(options, 'Express "trust proxy"');
        }
      }
    }
    const kit = options.kit;
    // Keep-alive requests on one socket reuse the client address while its inputs repeat
    // (only with a trust function the core compiled: Express's `trust proxy`, Fastify's
    // `trustProxy` compiled once; not one built from `ips`).
    const socket = req.socket;
    const ctx = begin(kit, { headers: req.headers, remoteAddress: socket.remoteAddress, trust: trust ?? platformTrust(req), connection: socket });
    req.privacy = ctx;
    // A purpose signed by a trusted upstream service (docs/cross-service.md).
    const inbound = acceptInboundPurpose(kit, ctx, { method: req.method ?? 'GET', url: url ?? '/', baggage: req.headers.baggage });
    if (inbound === null) runInContext(kit, ctx, next);
    else inbound.then(() => runInContext(kit, ctx, next), next);
  }
}
