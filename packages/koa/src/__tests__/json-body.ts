import type { Middleware } from 'koa';

const LIMIT = 64 * 1024;

/**
 * A tiny JSON body parser for the tests (apps use their body parser of choice, e.g.
 * `@koa/bodyparser`): sets `ctx.request.body` from an `application/json` request.
 */
export function jsonBody(): Middleware {
  return async function testJsonBody(ctx, next) {
    if (ctx.is('application/json')) {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > LIMIT) ctx.throw(413);
        chunks.push(chunk);
      }
      try {
        (ctx.request as { body?: unknown }).body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        ctx.throw(400, 'invalid JSON');
      }
    }
    await next();
  };
}
