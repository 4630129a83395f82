import { trustForApp } from '@purposekit/core/adapter';
import type { RequestFacts, TrustFn } from '@purposekit/core/adapter';
import type { Request } from 'express';

/** Maps an Express request to the core's request facts, using Express's own `trust proxy` setting. */
export function toRequestFacts(req: Request): RequestFacts {
  const app = req.app;
  const socket = req.socket;
  return {
    headers: req.headers,
    remoteAddress: socket.remoteAddress,
    trust: trustForApp(app, app.get('trust proxy'), () => app.get('trust proxy fn') as TrustFn | undefined),
    // Keep-alive requests on one socket reuse the client address while its inputs repeat.
    connection: socket,
  };
}
