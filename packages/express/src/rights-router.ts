import express from 'express';
import { PurposekitError, createRightsHandler, errorResponse } from '@purposekit/core';
import type { Purposekit, RightsHandlerOptions, RightsResponse } from '@purposekit/core';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response, Router } from 'express';

/** Options of {@link createRightsRouter}: the core rights handler's, with Express requests. */
export type RightsRouterOptions = RightsHandlerOptions<Request>;

// Rights bodies are a purpose and a state, or a few corrected fields: small on purpose.
const BODY_LIMIT = '16kb';

function send(res: Response, out: RightsResponse): void {
  res.status(out.status).set(out.headers).send(JSON.stringify(out.body));
}

/**
 * An Express router serving the data-subject rights endpoints of the core rights
 * handler (`createRightsHandler`) under `options.prefix` (default `/privacy`): the
 * subject's access log, export, erasure, restriction, objection, consent and
 * rectification. JSON bodies are parsed inside the router (16 kB limit); a malformed body
 * answers 400 `PURPOSEKIT_ERR_BAD_REQUEST`. Mount it after `privacy.middleware()` so each
 * rights request is recorded under its request's context, and after your authentication,
 * which `getSubject(req)` reads.
 *
 * @example
 * app.use(privacy.middleware());
 * app.use(authenticate);
 * app.use(createRightsRouter(kit, { getSubject: (req) => req.user?.id, exporter, eraser, accessLog }));
 *
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION at start-up (see `createRightsHandler`).
 */
export function createRightsRouter(kit: Purposekit, options: RightsRouterOptions): Router {
  const handler = createRightsHandler<Request>(kit, options);
  const router = express.Router();

  const rights: RequestHandler = function purposekitRights(req: Request, res: Response, next: NextFunction): void {
    handler
      .handle({ method: req.method, path: handler.prefix + req.path, body: req.body, request: req, ...(req.privacy !== undefined ? { context: req.privacy } : {}) })
      .then((out) => (out === undefined ? next() : send(res, out)), next);
  };
  // Only errors of the body parser reach here: the handler itself never rejects.
  const bodyErrors: ErrorRequestHandler = function purposekitRightsBodyError(err: unknown, _req: Request, res: Response, next: NextFunction): void {
    const type = (err as { type?: unknown } | undefined)?.type;
    if (res.headersSent || typeof type !== 'string' || !type.startsWith('entity.')) {
      next(err);
      return;
    }
    const { status, body } = errorResponse(new PurposekitError('PURPOSEKIT_ERR_BAD_REQUEST', 'The rights request body is not valid JSON (or too large).', { details: { field: 'body' } }));
    res.status(status).set('cache-control', 'no-store').json({ error: { ...body.error, field: 'body' } });
  };

  // Only the endpoints themselves: the app's own routes under the prefix keep their bodies.
  const ownRoute: RequestHandler = function purposekitRightsMatch(req: Request, _res: Response, next: NextFunction): void {
    next(handler.matches(req.method, handler.prefix + req.path) ? undefined : 'router');
  };
  router.use(handler.prefix, ownRoute, express.json({ limit: BODY_LIMIT }), rights, bodyErrors);
  return router;
}
