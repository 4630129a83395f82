import type { FastifyTrust, RequestFacts, TrustFn } from '@purposekit/core/adapter';
import type { FastifyRequest } from 'fastify';

const NEVER_TRUST: TrustFn = () => false;

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
