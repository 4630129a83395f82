import { PurposekitError, createRightsHandler, errorResponse } from '@purposekit/core';
import type { Purposekit, RightsHandlerOptions, RightsResponse } from '@purposekit/core';
import type { Context, Middleware, Next } from 'koa';
import type { RequestWithBody } from './internal-types';

/** Options of {@link createRightsRouter}: the core rights handler's, with Koa contexts as requests. */
export type RightsRouterOptions = RightsHandlerOptions<Context>;

// Rights bodies are a purpose and a state, or a few corrected fields: small on purpose.
const BODY_LIMIT = 16 * 1024;
const NOT_PARSED = Symbol('purposekit.rights.notParsed');

function send(ctx: Context, out: RightsResponse): void {
  ctx.status = out.status;
  ctx.set(out.headers as Record<string, string>);
  // Serialised here so that Koa sends exactly the handler's content type.
  ctx.body = JSON.stringify(out.body);
}

function badBody(ctx: Context): void {
  const { status, body } = errorResponse(new PurposekitError('PURPOSEKIT_ERR_BAD_REQUEST', 'The rights request body is not valid JSON (or too large).', { details: { field: 'body' } }));
  ctx.status = status;
  ctx.set('cache-control', 'no-store');
  ctx.body = { error: { ...body.error, field: 'body' } };
}

/**
 * The request's JSON body: what an upstream body parser left in `ctx.request.body`, else
 * the stream read here (JSON only, 16 kB limit). {@link NOT_PARSED} for a malformed or
 * oversized body.
 */
async function bodyOf(ctx: Context): Promise<unknown> {
  const parsed = (ctx.request as RequestWithBody).body;
  if (parsed !== undefined || ctx.req.readableEnded || !ctx.is('application/json')) return parsed;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT) return NOT_PARSED;
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  try {
    const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    (ctx.request as RequestWithBody).body = body;
    return body;
  } catch {
    return NOT_PARSED;
  }
}

/**
 * Koa middleware serving the data-subject rights endpoints of the core rights handler
 * (`createRightsHandler`) under `options.prefix` (default `/privacy`): the subject's
 * access log, export, erasure, restriction, objection, consent and rectification. It
 * answers only its own method + path pairs and passes every other request on. It uses
 * the body an upstream parser left in `ctx.request.body`, else reads the JSON body itself
 * (16 kB limit); a malformed body answers 400 `PURPOSEKIT_ERR_BAD_REQUEST`. Mount it
 * after `privacy.middleware()` so each rights request is recorded under its request's
 * context, and after your authentication, which `getSubject(ctx)` reads.
 *
 * @example
 * app.use(privacy.middleware());
 * app.use(authenticate);
 * app.use(createRightsRouter(kit, { getSubject: (ctx) => ctx.state.user?.id, exporter, eraser, accessLog }));
 *
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION at start-up (see `createRightsHandler`).
 */
export function createRightsRouter(kit: Purposekit, options: RightsRouterOptions): Middleware {
  const handler = createRightsHandler<Context>(kit, options);
  const prefixSlash = `${handler.prefix}/`;

  return async function purposekitRights(ctx: Context, next: Next): Promise<void> {
    // Everything outside the prefix passes at the cost of one string comparison.
    // Only the endpoints themselves: the app's own routes under the prefix keep their bodies.
    if (!ctx.path.startsWith(prefixSlash) || !handler.matches(ctx.method, ctx.path)) {
      await next();
      return;
    }
    const body = await bodyOf(ctx);
    if (body === NOT_PARSED) {
      badBody(ctx);
      return;
    }
    const privacy = ctx.state.privacy;
    const out = await handler.handle({ method: ctx.method, path: ctx.path, body, request: ctx, ...(privacy !== undefined ? { context: privacy } : {}) });
    if (out === undefined) {
      await next();
      return;
    }
    send(ctx, out);
  };
}
