import { compileTrust, trustsEverything } from '@purposekit/core/adapter';
import type { RequestFacts, TrustFn, TrustSetting } from '@purposekit/core/adapter';
import type { FastifyRequest } from 'fastify';

const NEVER_TRUST: TrustFn = () => false;

/**
 * How the client address is resolved for one app: Fastify's own `trustProxy` option, read
 * once at start-up (Fastify fixes it when the instance is created).
 * @internal
 */
export interface FastifyTrust {
  /** True when the setting lets every client choose its own address (`trustProxy: true`). */
  readonly trustsAll: boolean;
  /** The trust decision, or `undefined` when it must be read from each request's `ips`. */
  readonly fn: TrustFn | undefined;
}

/**
 * Fastify's `trustProxy` takes `true`, a comma-separated string or a list of addresses /
 * CIDR ranges / names (`loopback`…), a function or a hop count; all but the hop count mean
 * what Express's `trust proxy` means, so the core's matcher compiles them. A setting the core does not parse (it is stricter than
 * proxy-addr) is left to Fastify itself: the addresses Fastify walked for `request.ips`
 * tell which hops it trusted, so the decision always stays the framework's.
 * @internal
 */
export function fastifyTrust(setting: unknown): FastifyTrust {
  if (setting === undefined || setting === false || setting === null) return { trustsAll: false, fn: NEVER_TRUST };
  // Hop counts changed meaning within Fastify 5 (recent releases trust no hop-count
  // setting, since it cannot check the socket peer): follow whatever this Fastify does.
  if (typeof setting === 'number') return { trustsAll: false, fn: undefined };
  if (typeof setting === 'string') setting = setting.split(',').map((s) => s.trim());
  try {
    return { trustsAll: trustsEverything(setting as TrustSetting), fn: compileTrust(setting as TrustSetting) };
  } catch {
    return { trustsAll: false, fn: undefined };
  }
}

/** Hop k (0 = socket peer) is trusted when Fastify's own walk went past it. */
function trustFromIps(request: FastifyRequest): TrustFn {
  const ips = request.ips;
  if (Array.isArray(ips) && ips.length > 1) {
    const proxies = ips.length - 1;
    return (_address, hop) => hop < proxies;
  }
  return NEVER_TRUST;
}

/** Maps a Fastify request to the core's request facts, with Fastify's own `trustProxy` decision. @internal */
export function toRequestFacts(request: FastifyRequest, trust: FastifyTrust): RequestFacts {
  const socket = request.raw.socket;
  // Keep-alive requests on one socket reuse the client address while its inputs repeat
  // (only with a trust function the core compiled from `trustProxy`, not from `ips`).
  return { headers: request.headers, remoteAddress: socket.remoteAddress, trust: trust.fn ?? trustFromIps(request), connection: socket };
}
