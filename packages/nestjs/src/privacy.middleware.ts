import type { ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { acceptInboundPurpose, begin, GPC_WELL_KNOWN_PATH, gpcWellKnownFor, isWellKnownRequest, runInContext, trustsEverything, warnTrustAllProxies } from '@purposekit/core/adapter';
import type { StaticResponse, TrustSetting } from '@purposekit/core/adapter';
import type { NestMiddleware } from '@nestjs/common';
import { RESOLVED_PRIVACY_OPTIONS } from './internal-types';
import type { ResolvedPrivacyModuleOptions } from './internal-types';
import { toRequestFacts } from './request-facts';
import type { MiddlewareRequest } from './request-facts';

const warnedApps = new WeakSet<object>();

/**
 * Starts the privacy context of every request (PrivacyModule applies it to all routes).
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

  use(req: MiddlewareRequest, res: ServerResponse, next: (error?: unknown) => void): void {
    const gpc = this.#gpc;
    if (gpc !== undefined && isWellKnownRequest(req.method, req.originalUrl ?? req.url, GPC_WELL_KNOWN_PATH)) {
      res.writeHead(gpc.status, gpc.headers).end(req.method === 'HEAD' ? undefined : gpc.body);
      return;
    }
    const skip = this.options.skip;
    if (req.privacy !== undefined || (skip !== undefined && skip(req.method ?? 'GET', req.originalUrl ?? req.url ?? '/'))) {
      next();
      return;
    }
    const app = req.app;
    if (app !== undefined && typeof app.get === 'function' && !warnedApps.has(app)) {
      warnedApps.add(app);
      // Checked once per app, on its first request (when its settings are final).
      if (trustsEverything(app.get('trust proxy') as TrustSetting)) {
        warnTrustAllProxies(this.options, 'Express "trust proxy"');
      }
    }
    const kit = this.options.kit;
    const ctx = begin(kit, toRequestFacts(req));
    req.privacy = ctx;
    // A purpose signed by a trusted upstream service (docs/cross-service.md).
    const inbound = acceptInboundPurpose(kit, ctx, { method: req.method ?? 'GET', url: req.originalUrl ?? req.url ?? '/', baggage: req.headers.baggage });
    if (inbound === null) runInContext(kit, ctx, next);
    else inbound.then(() => runInContext(kit, ctx, next), next);
  }
}
