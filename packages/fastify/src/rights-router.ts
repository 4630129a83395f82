import { createRightsHandler, errorResponse, PurposekitError } from '@purposekit/core';
import type { Purposekit, RightsHandlerOptions, RightsResponse } from '@purposekit/core';
import type { FastifyError, FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';

/** Options of {@link createRightsRouter}: the core rights handler's, with Fastify requests. */
export type RightsRouterOptions = RightsHandlerOptions<FastifyRequest>;

// Rights bodies are a purpose and a state, or a few corrected fields: small on purpose.
const BODY_LIMIT = 16 * 1024;

// Every endpoint of the core handler (it answers 404 PURPOSEKIT_ERR_RIGHT_NOT_OFFERED for
// a right the policy does not offer); `matches` below keeps the list honest.
const ENDPOINTS: ReadonlyArray<readonly ['GET' | 'POST' | 'DELETE', string]> = [
  ['GET', 'access-log'],
  ['GET', 'export'],
  ['POST', 'erasure'],
  ['POST', 'restriction'],
  ['DELETE', 'restriction'],
  ['POST', 'objection'],
  ['DELETE', 'objection'],
  ['POST', 'consent'],
  ['POST', 'rectification'],
];

function send(reply: FastifyReply, out: RightsResponse): void {
  // Serialised here so that Fastify sends exactly the handler's content type.
  reply.code(out.status).headers(out.headers).send(JSON.stringify(out.body));
}

/**
 * A Fastify plugin (encapsulated) serving the data-subject rights endpoints of the core
 * rights handler (`createRightsHandler`) under `options.prefix` (default `/privacy`): the
 * subject's access log, export, erasure, restriction, objection, consent and rectification,
 * each as its own Fastify route (so your other routes under the prefix stay yours, and a
 * clash is Fastify's duplicate-route error at start-up). JSON bodies up to 16 kB; a
 * malformed or oversized body answers 400 `PURPOSEKIT_ERR_BAD_REQUEST` with `field: "body"`.
 * Register it after the `purposekit` plugin, so each rights request is recorded under its
 * request's context, and after your authentication, which `getSubject(request)` reads.
 *
 * @example
 * await app.register(purposekit, { kit });
 * await app.register(createRightsRouter(kit, { getSubject: (request) => request.user?.id, exporter, eraser, accessLog }));
 *
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION at start-up (see `createRightsHandler`).
 */
export function createRightsRouter(kit: Purposekit, options: RightsRouterOptions): FastifyPluginCallback {
  const handler = createRightsHandler<FastifyRequest>(kit, options);

  async function purposekitRights(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const privacy = request.privacy;
    const out = await handler.handle({ method: request.method, path: request.url, body: request.body, request, ...(privacy !== undefined ? { context: privacy } : {}) });
    if (out === undefined) {
      reply.callNotFound();
      return;
    }
    send(reply, out);
  }

  // Only body-parser failures reach here (the handler itself never rejects).
  function purposekitRightsBodyError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
    if (typeof error.code !== 'string' || !error.code.startsWith('FST_ERR_CTP_')) throw error;
    const { status, body } = errorResponse(new PurposekitError('PURPOSEKIT_ERR_BAD_REQUEST', 'The rights request body is not valid JSON (or too large).', { details: { field: 'body' } }));
    reply.code(status).header('cache-control', 'no-store').type('application/json; charset=utf-8').send({ error: { ...body.error, field: 'body' } });
  }

  return function purposekitRightsRoutes(instance: FastifyInstance, _opts: unknown, done: (err?: Error) => void): void {
    for (const [method, endpoint] of ENDPOINTS) {
      const url = `${handler.prefix}/${endpoint}`;
      if (!handler.matches(method, url)) continue;
      instance.route({ method, url, bodyLimit: BODY_LIMIT, exposeHeadRoute: false, errorHandler: purposekitRightsBodyError, handler: purposekitRights });
    }
    done();
  };
}
