import { errorResponse, isPurposekitError, PurposekitError } from '@purposekit/core';
import type { PrivacyContext, Purposekit } from '@purposekit/core';
import {
  RouteRegistry,
  acceptInboundPurpose,
  applyPurpose,
  begin,
  checkAgeGate,
  compileAgeGate,
  currentContext,
  declarePurpose,
  discardSubmission,
  fastifyTrustOf,
  GPC_WELL_KNOWN_PATH,
  gpcWellKnownFor,
  pathOf,
  reportServerError,
  resolveAdapterOptions,
  runInContext,
  warnTrustAllProxies,
} from '@purposekit/core/adapter';
import type { FastifyTrust, ServerErrorInfo } from '@purposekit/core/adapter';
import type {
  FastifyError,
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  RouteOptions,
} from 'fastify';
import fp from 'fastify-plugin';
import type { CompiledRoute, ResolvedPrivacyAdapterOptions } from './internal-types';
import { toRequestFacts } from './request-facts';
import type { PrivacyRouteConfig, PurposekitPluginOptions } from './types';
import { recordRoute, resolveRouteData, ROUTE_TABLE } from './route-table';
import type { RouteTable } from './route-table';

// The compiled declaration a route carries in its `config` (symbol keys survive Fastify's
// shallow copy of the config), and the age gate of the current request.
const kCompiled = Symbol('purposekit.route');
const kGate = Symbol('purposekit.gate');
const kEngine = Symbol('purposekit.engine');

type RequestState = FastifyRequest & { [kGate]: CompiledRoute['gate'] | null };
type RouteConfig = PrivacyRouteConfig & { [kCompiled]?: CompiledRoute };
type ErrorHandler = NonNullable<RouteOptions['errorHandler']>;

const NO_DECLARATION: CompiledRoute = Object.freeze({ decl: undefined, gate: undefined });

/**
 * Sends a purposekit error as its catalog status and `{ error: { code, message } }`
 * (+ `reason` on an access deny). Server-side failures (>= 500) are logged through the
 * request's logger, code and message only.
 */
function sendError(resolved: ResolvedPrivacyAdapterOptions, request: FastifyRequest, reply: FastifyReply, err: PurposekitError): void {
  const { status, body } = errorResponse(err);
  reply.code(status).type('application/json; charset=utf-8').send(body);
  if (status >= 500) {
    const info: ServerErrorInfo = { status, requestId: request.privacy?.requestId, method: request.method, path: pathOf(request.url), adapter: 'fastify' };
    // Fastify's own channel: the request's logger, code and message only.
    reportServerError(resolved, err, info, (e, i) => request.log.error({ code: e.code, requestId: i.requestId }, e.message));
  }
}

function compileRoute(kit: Purposekit, config: PrivacyRouteConfig | undefined, route?: RouteOptions, table?: RouteTable): CompiledRoute {
  const purpose = config?.purpose;
  const ageGate = config?.ageGate;
  if (purpose === undefined && ageGate === undefined) return NO_DECLARATION;
  let decl = purpose === undefined ? undefined : declarePurpose(kit, purpose);
  if (purpose !== undefined && route !== undefined) {
    const data = resolveRouteData(kit, route.url, config?.data);
    // Listed in kit.describeRoutes() (the record of processing) and in describeRoutes(app);
    // Fastify's automatic HEAD twin of a GET route is not listed again.
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
      if (method === 'HEAD') continue;
      decl = declarePurpose(kit, purpose, { method, path: route.url, data });
      if (table !== undefined) recordRoute(table, { method, path: route.url, purpose, data });
    }
  }
  return Object.freeze({
    decl,
    gate: ageGate === undefined ? undefined : compileAgeGate<FastifyRequest>(kit, ageGate),
  });
}

function pluginImpl(fastify: FastifyInstance, options: PurposekitPluginOptions, done: (err?: Error) => void): void {
  try {
    setup(fastify, options, done);
  } catch (err) {
    done(err as Error);
  }
}

function setup(fastify: FastifyInstance, options: PurposekitPluginOptions, done: (err?: Error) => void): void {
  const { kit, ...adapterOptions } = (options ?? {}) as PurposekitPluginOptions;
  const resolved: ResolvedPrivacyAdapterOptions = resolveAdapterOptions(kit, adapterOptions, 'purposekit plugin');

  if (fastify.hasRequestDecorator('privacy')) {
    // Registered twice: the first registration owns the context; a second engine would
    // mean two policies for one request.
    const first = (fastify as unknown as Record<symbol, Purposekit | undefined>)[kEngine];
    if (first !== undefined && first !== kit) {
      done(new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'The purposekit plugin is already registered on this instance with another engine: register it once, with one engine.'));
      return;
    }
    done();
    return;
  }

  const trust: FastifyTrust = fastifyTrustOf(fastify);
  if (trust.trustsAll) warnTrustAllProxies(resolved, 'Fastify "trustProxy"');

  // Routes added before the plugin finished loading carry no compiled declaration: compile
  // theirs on first use (an unknown purpose then fails that request instead of start-up).
  const late = new WeakMap<object, CompiledRoute>();
  function routeOf(request: FastifyRequest): CompiledRoute {
    const config = request.routeOptions.config as RouteConfig;
    const compiled = config[kCompiled];
    if (compiled !== undefined) return compiled;
    let hit = late.get(config);
    if (hit === undefined) {
      hit = compileRoute(kit, config);
      late.set(config, hit);
    }
    return hit;
  }

  function purposekitErrors(own: ErrorHandler | undefined): ErrorHandler {
    return function purposekitErrorHandler(this: FastifyInstance, error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
      if (isPurposekitError(error) && !reply.sent) {
        sendError(resolved, request, reply, error);
        return;
      }
      if (own !== undefined) return own.call(this, error, request, reply);
      // Not ours: Fastify hands a rethrown error to the instance's own error handler.
      throw error;
    } as ErrorHandler;
  }

  fastify.decorate(kEngine as unknown as string, kit);
  const table: RouteTable = { kit, routes: new RouteRegistry() };
  fastify.decorate(ROUTE_TABLE as unknown as string, table);
  fastify.decorateRequest('privacy', undefined);
  fastify.decorateRequest(kGate as unknown as string, null);

  // Start-up: every route's declaration is checked against the policy when it is added.
  fastify.addHook('onRoute', function purposekitRoute(route: RouteOptions) {
    const config = (route.config ?? {}) as RouteConfig;
    route.config = { ...config, [kCompiled]: compileRoute(kit, config, route, table) } as RouteOptions['config'];
    route.errorHandler = purposekitErrors(route.errorHandler);
  });

  fastify.addHook('onRequest', function purposekitBegin(request: FastifyRequest, reply: FastifyReply, next: HookHandlerDoneFunction): void {
    if (request.privacy !== undefined) {
      next();
      return;
    }
    const ctx = begin(kit, toRequestFacts(request, trust));
    request.privacy = ctx;
    let route: CompiledRoute;
    try {
      route = routeOf(request);
    } catch (err) {
      // Only a route added before the plugin loaded can get here (an unknown purpose or
      // gate): fail that request closed, answered here since such a route has none of the
      // plugin's error mapping.
      (request as RequestState)[kGate] = null;
      if (isPurposekitError(err)) sendError(resolved, request, reply, err);
      else next(err as Error);
      return;
    }
    if (route.decl !== undefined) applyPurpose(kit, ctx, route.decl);
    (request as RequestState)[kGate] = route.gate ?? null;
    // A purpose signed by a trusted upstream service (docs/cross-service.md): checked and
    // recorded before the route runs; null when the request carries none.
    const inbound = acceptInboundPurpose(kit, ctx, { method: request.method, url: request.url, baggage: request.headers.baggage });
    if (inbound === null) runInContext(kit, ctx, next);
    else inbound.then(() => runInContext(kit, ctx, next), (err: unknown) => next(err as Error));
  });

  // The age gate runs once the body is parsed and before validation and the handler: a
  // refused submission is dropped here and reaches no handler, log or trail.
  fastify.addHook('preValidation', function purposekitAgeGate(request: FastifyRequest, reply: FastifyReply, next: HookHandlerDoneFunction): void {
    const gate = (request as RequestState)[kGate];
    if (gate === null || gate === undefined) {
      next();
      return;
    }
    const ctx = request.privacy as PrivacyContext;
    const refused = checkAgeGate(kit, ctx, gate, { body: request.body, cookieHeader: request.headers.cookie, request });
    if (refused === null) {
      next();
      return;
    }
    discardSubmission(request);
    refused.then(
      ({ error, setCookie }) => {
        if (setCookie !== undefined) reply.header('set-cookie', setCookie);
        sendError(resolved, request, reply, error);
      },
      (err: unknown) => next(err as Error),
    );
  });

  // Body parsing runs in the socket's async context, not the request's: enter the
  // request's context again right before the handler.
  fastify.addHook('preHandler', function purposekitContext(request: FastifyRequest, _reply: FastifyReply, next: HookHandlerDoneFunction): void {
    const ctx = request.privacy;
    if (ctx === undefined || currentContext(kit) === ctx) {
      next();
      return;
    }
    runInContext(kit, ctx, next);
  });

  const gpc = gpcWellKnownFor(kit);
  if (gpc !== undefined) {
    fastify.get(GPC_WELL_KNOWN_PATH, function purposekitGpcJson(_request: FastifyRequest, reply: FastifyReply): void {
      reply.code(gpc.status).headers(gpc.headers).send(gpc.body);
    });
  }
  done();
}

/**
 * The purposekit plugin for Fastify 5 (wrapped with fastify-plugin, so its hooks and
 * `request.privacy` apply to the whole app). Register it, and await it, before your routes:
 * each route's `config.purpose` / `config.ageGate` is checked against the policy when the
 * route is added.
 *
 * Per request it starts the privacy context (`request.privacy`, also found through
 * `getPrivacyContext()` in any async code of the request), applies the route's purpose,
 * runs its age gate after body parsing and before validation and the handler, and answers
 * purposekit errors with their status and `{ error: { code, message } }`. Other errors go
 * on to your error handler (or Fastify's). When the policy sets `signals.serveGpcJson` it
 * serves `GET /.well-known/gpc.json`.
 *
 * @example
 * await app.register(purposekit, { kit });
 * app.post('/members', { config: { purpose: 'service.registration', ageGate: 'registration' } }, handler);
 *
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION (bad engine or option),
 *   PURPOSEKIT_ERR_UNKNOWN_PURPOSE / PURPOSEKIT_ERR_UNKNOWN_AGE_GATE (a route's declaration)
 *   at start-up.
 */
export const purposekit: FastifyPluginCallback<PurposekitPluginOptions> = fp(pluginImpl, { fastify: '5.x', name: '@purposekit/fastify' });
