/**
 * Fastify's `trustProxy` option, read from an instance and compiled once: one reading for
 * every adapter that runs on Fastify (`@purposekit/fastify`, `@purposekit/nestjs` on the
 * Fastify platform), so the trust decision cannot drift between them.
 */
import { compileTrust, trustsEverything } from './trust-match';
import type { TrustFn, TrustSetting } from './trust-match';

const NEVER_TRUST: TrustFn = () => false;

/** Fastify's `trustProxy` setting, compiled: see {@link fastifyTrustOf}. */
export interface FastifyTrust {
  /** True when the setting lets every client choose its own address (`trustProxy: true`). */
  readonly trustsAll: boolean;
  /** The trust decision, or `undefined` when it must be read from each request's `ips` (Fastify's own walk). */
  readonly fn: TrustFn | undefined;
}

/**
 * Fastify keeps no public copy of its options: `trustProxy` is read from the instance
 * (the `fastify.options` symbol, on it or its prototypes). `true`, a comma-separated
 * string, a list of addresses / CIDR ranges / names (`loopback`…) or a function mean what
 * Express's `trust proxy` means, so the core's matcher compiles them. A hop count (whose
 * meaning changed within Fastify 5), a setting the core does not parse (it is stricter
 * than proxy-addr) or an instance where the option cannot be found give `fn: undefined`:
 * the adapter then follows Fastify's own walk (`request.ips`), so the decision always
 * stays the framework's. No setting (or `false`) trusts no proxy.
 */
export function fastifyTrustOf(instance: object): FastifyTrust {
  for (let o: object | null = instance; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    for (const s of Object.getOwnPropertySymbols(o)) {
      if (s.description !== 'fastify.options') continue;
      let setting = (o as Record<symbol, { trustProxy?: unknown } | undefined>)[s]?.trustProxy;
      if (setting === undefined || setting === false || setting === null) return { trustsAll: false, fn: NEVER_TRUST };
      if (typeof setting === 'number') return { trustsAll: false, fn: undefined };
      if (typeof setting === 'string') setting = setting.split(',').map((x) => x.trim());
      try {
        return { trustsAll: trustsEverything(setting as TrustSetting), fn: compileTrust(setting as TrustSetting) };
      } catch {
        return { trustsAll: false, fn: undefined };
      }
    }
  }
  return { trustsAll: false, fn: undefined };
}
