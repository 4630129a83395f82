import { compileTrust, trustForApp } from '@purposekit/core/adapter';
import type { TrustFn, TrustSetting } from '@purposekit/core/adapter';
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

/**
 * Fastify's `trustProxy` option compiled once, for the `onRequest` hook (which runs
 * without @fastify/middie, so without its per-request copies of `request.ips`): the same
 * reading as @purposekit/fastify's. Fastify keeps no public copy of the option; it is
 * read from the instance. `true`, a comma-separated string, a list of addresses / CIDR
 * ranges / names or a function mean what Express's `trust proxy` means, so the core's
 * matcher compiles them; a hop count (whose meaning changed within Fastify 5), a setting
 * the core does not parse, or an instance where the option cannot be found: undefined,
 * and the hook reads Fastify's own walk (`request.ips`) on each request.
 * @internal
 */
export function fastifyTrustOf(instance: object): TrustFn | undefined {
  for (let o: object | null = instance; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    for (const s of Object.getOwnPropertySymbols(o)) {
      if (s.description !== 'fastify.options') continue;
      let setting = (o as Record<symbol, { trustProxy?: unknown } | undefined>)[s]?.trustProxy;
      if (setting === undefined || setting === false || setting === null) return NEVER_TRUST;
      if (typeof setting === 'number') return undefined;
      if (typeof setting === 'string') setting = setting.split(',').map((x) => x.trim());
      try {
        return compileTrust(setting as TrustSetting);
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
