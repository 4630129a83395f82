import { trustForApp } from '@purposekit/core/adapter';
import type { TrustFn } from '@purposekit/core/adapter';
import type { IncomingMessage } from 'node:http';

/**
 * The request Nest middleware sees: the Express request on the Express platform, the
 * raw Node request (which @fastify/middie decorates with `ip` / `ips`) on Fastify.
 * @internal
 */
export type MiddlewareRequest = IncomingMessage & {
  app?: { get(name: string): unknown };
  ips?: readonly string[];
  /** Express sets it; on Fastify (middie) the raw url is the full path. */
  originalUrl?: string;
};

const NEVER_TRUST: TrustFn = () => false;

/**
 * The trust decision of the platform, never our own:
 * - Express: the app's `trust proxy` setting (what `req.ip` uses), compiled once by
 *   the core's faster matcher (`trustForApp`).
 * - Fastify: the addresses Fastify itself walked for `request.ips` under its
 *   `trustProxy` option (@fastify/middie copies them onto the raw request before
 *   Nest middleware runs). Every hop before the last one of that list is a proxy
 *   Fastify trusted, so the core resolves exactly `request.ip`. Without `trustProxy`
 *   Fastify sets no `ips` and no proxy is trusted.
 * @internal
 */
export function platformTrust(req: MiddlewareRequest): TrustFn {
  const app = req.app;
  if (app !== undefined && typeof app.get === 'function') {
    return trustForApp(app, app.get('trust proxy'), () => {
      const fn = app.get('trust proxy fn');
      return typeof fn === 'function' ? (fn as TrustFn) : undefined;
    });
  }
  return trustFromIps(req.ips);
}

/**
 * Fastify's decision from the chain it walked for `request.ips` (under its `trustProxy`
 * option; undefined without it): every hop before the last one listed was trusted.
 * @internal
 */
export function trustFromIps(ips: readonly string[] | undefined): TrustFn {
  if (Array.isArray(ips) && ips.length > 1) {
    const proxies = ips.length - 1;
    return (_address, hop) => hop < proxies;
  }
  return NEVER_TRUST;
}

