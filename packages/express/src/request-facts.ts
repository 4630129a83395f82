import type { RequestFacts, TrustFn } from '@purposekit/core';
import type { Request } from 'express';

/** Maps an Express request to the core's request facts, using Express's own `trust proxy` setting. */
export function toRequestFacts(req: Request): RequestFacts {
  const trust = req.app.get('trust proxy fn') as TrustFn | undefined;
  return {
    headers: req.headers,
    remoteAddress: req.socket.remoteAddress,
    ...(trust !== undefined ? { trust } : {}),
  };
}
