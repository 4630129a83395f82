import type { Middleware } from 'koa';

const LIMIT = 16 * 1024;

/**
 * A small JSON body parser (the app needs nothing more; `@koa/bodyparser` does the same
 * job in a larger app): sets `ctx.request.body` from an `application/json` request. A
 * malformed or oversized body is answered here, without echoing any of it.
 */
export function jsonBody(): Middleware {
  return async function kubevirtJsonBody(ctx, next) {
    if (ctx.is('application/json')) {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > LIMIT) {
          ctx.status = 413;
          ctx.body = { error: { code: 'APP_BODY_TOO_LARGE', message: 'The request body is too large.' } };
          return;
        }
        chunks.push(chunk);
      }
      try {
        (ctx.request as { body?: unknown }).body = size === 0 ? undefined : JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        ctx.status = 400;
        ctx.body = { error: { code: 'APP_INVALID_JSON', message: 'The request body is not valid JSON.' } };
        return;
      }
    }
    await next();
  };
}
