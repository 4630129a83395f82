import { compileTrust } from '@purposekit/core/adapter';
import type { RequestFacts, TrustFn } from '@purposekit/core/adapter';
import type { Context } from 'koa';

const DEFAULT_PROXY_IP_HEADER = 'x-forwarded-for';
// The core's own compiled functions (not closures of ours): the engine knows them to be
// pure and may reuse a keep-alive connection's client address while its inputs repeat.
const TRUST_NONE: TrustFn = compileTrust(false);
const TRUST_ALL: TrustFn = compileTrust(true);
// One TrustFn per hop count: apps set maxIpsCount once, so this stays tiny.
const trustHops = new Map<number, TrustFn>();

/**
 * Koa's proxy settings as the core's {@link TrustFn}. Koa reads the proxy header only when
 * `app.proxy` is true; `maxIpsCount` N keeps the last N entries and takes the first of
 * them, which is the same as trusting the socket peer and the N-1 hops after it
 * (hop 0 = socket peer, hop k = k-th entry from the right). `maxIpsCount` 0 trusts every
 * entry (Koa's default), i.e. the client can pick its own address.
 */
export function koaTrust(proxy: boolean, maxIpsCount: number): TrustFn {
  if (!proxy) return TRUST_NONE;
  if (!(maxIpsCount > 0)) return TRUST_ALL;
  let fn = trustHops.get(maxIpsCount);
  if (fn === undefined) {
    // compileTrust(n) is `hop < n` for a whole count; Koa also takes a fraction.
    fn = Number.isInteger(maxIpsCount) ? compileTrust(maxIpsCount) : (_address, hop) => hop < maxIpsCount;
    trustHops.set(maxIpsCount, fn);
  }
  return fn;
}

// Koa's default `proxyIpHeader` is 'X-Forwarded-For': lower-cased once, not on every request.
let lastHeader = 'X-Forwarded-For';
let lastLower = DEFAULT_PROXY_IP_HEADER;
function lowerCase(name: string): string {
  if (name !== lastHeader) {
    lastLower = name.toLowerCase();
    lastHeader = name;
  }
  return lastLower;
}

/**
 * Maps a Koa context to the core's request facts with Koa's own `app.proxy`,
 * `app.maxIpsCount` and `app.proxyIpHeader` semantics.
 */
export function toRequestFacts(ctx: Context): RequestFacts {
  const app = ctx.app;
  const trust = koaTrust(app.proxy === true, app.maxIpsCount);
  let headers = ctx.req.headers;
  const header = typeof app.proxyIpHeader === 'string' ? lowerCase(app.proxyIpHeader) : DEFAULT_PROXY_IP_HEADER;
  if (app.proxy === true && header !== DEFAULT_PROXY_IP_HEADER) {
    // The core reads X-Forwarded-For; present the app's chosen header under that name
    // (and only it: a client-sent X-Forwarded-For must not count when the app uses another header).
    const { [DEFAULT_PROXY_IP_HEADER]: _ignored, ...rest } = headers;
    headers = { ...rest, [DEFAULT_PROXY_IP_HEADER]: headers[header] } as typeof headers;
  }
  const socket = ctx.req.socket;
  return { headers, remoteAddress: socket.remoteAddress, trust, connection: socket };
}
