import { Inject, Injectable, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import type { ExecutionContext, OnModuleInit, Type } from '@nestjs/common';
import { ApplicationConfig, DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { ACTIONS, PurposekitError } from '@purposekit/core';
import { compileAgeGate, declarePurpose } from '@purposekit/core/adapter';
import type { RouteLabel } from '@purposekit/core/adapter';
import { ACCESSES_METADATA, AGE_GATE_METADATA, PURPOSE_METADATA, RESOLVED_PRIVACY_OPTIONS } from './internal-types';
import type { ResolvedPrivacyModuleOptions } from './internal-types';
import type { AccessesOptions, CompiledRoute } from './types';

/** A route handler as Nest hands it out (`ExecutionContext.getHandler()`). */
type RouteHandler = ReturnType<ExecutionContext['getHandler']>;

const NOTHING: CompiledRoute = Object.freeze({ purpose: undefined, ageGate: undefined, accesses: Object.freeze([]) });

/**
 * Compiles every route's declarations when the module initialises (before the server
 * listens), so an unknown purpose or gate stops start-up instead of failing a request.
 * Exported for PrivacyGuard subclasses that declare their own constructor.
 */
@Injectable()
export class PrivacyRouteRegistry implements OnModuleInit {
  /** Per handler: the route compiled for the first class it was reached through, then any others. */
  /** The app's global prefix rule, read once (its settings are final when routes compile). */
  #prefixFor: ((path: string, method: RequestMethod) => string) | undefined;
  readonly #routes = new WeakMap<RouteHandler, { cls: Type<unknown>; route: CompiledRoute; others: WeakMap<Type<unknown>, CompiledRoute> | undefined }>();

  constructor(
    @Inject(RESOLVED_PRIVACY_OPTIONS) private readonly options: ResolvedPrivacyModuleOptions,
    private readonly reflector: Reflector,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly appConfig: ApplicationConfig,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getControllers()) {
      const cls = wrapper.metatype as Type<unknown> | null | undefined;
      if (typeof cls !== 'function' || cls.prototype === undefined) continue;
      for (const name of this.scanner.getAllMethodNames(cls.prototype)) {
        const handler = (cls.prototype as Record<string, unknown>)[name];
        if (typeof handler === 'function') this.get(cls, handler);
      }
    }
  }

  /**
   * The compiled declarations of one route (cached).
   * @throws PurposekitError PURPOSEKIT_ERR_UNKNOWN_PURPOSE, PURPOSEKIT_ERR_UNKNOWN_AGE_GATE,
   *   PURPOSEKIT_ERR_INVALID_OPTION
   */
  get(cls: Type<unknown>, handler: RouteHandler): CompiledRoute {
    // One lookup per request: a handler is almost always reached through one controller
    // class (an inherited method reached through several gets the other classes' map).
    const entry = this.#routes.get(handler);
    if (entry !== undefined) {
      if (entry.cls === cls) return entry.route;
      const other = entry.others?.get(cls);
      if (other !== undefined) return other;
    }
    const route = this.#compile(cls, handler);
    if (entry === undefined) this.#routes.set(handler, { cls, route, others: undefined });
    else (entry.others ??= new WeakMap()).set(cls, route);
    return route;
  }

  #compile(cls: Type<unknown>, handler: RouteHandler): CompiledRoute {
    const kit = this.options.kit;
    const purpose = this.reflector.getAllAndOverride<string | undefined>(PURPOSE_METADATA, [handler, cls]);
    const gate = this.reflector.getAllAndOverride<string | undefined>(AGE_GATE_METADATA, [handler, cls]);
    const accesses = this.reflector.get<AccessesOptions[] | undefined>(ACCESSES_METADATA, handler) ?? [];
    if (purpose === undefined && gate === undefined && accesses.length === 0) return NOTHING;
    const where = `${cls.name}.${handler.name}`;
    for (const a of accesses) validateAccesses(a, where);
    return Object.freeze({
      purpose: purpose === undefined ? undefined : declareWithRoutes(kit, purpose, cls, handler, accesses, (this.#prefixFor ??= globalPrefixOf(this.appConfig))),
      ageGate: gate === undefined ? undefined : compileAgeGate<unknown>(kit, gate),
      accesses: Object.freeze([...accesses]),
    });
  }
}

const CATEGORY = /^[a-z0-9][a-z0-9._-]{0,63}$/;

const pathsOf = (p: unknown): string[] => (typeof p === 'string' ? [p] : Array.isArray(p) ? p.filter((x): x is string => typeof x === 'string') : []);

function joinPath(...parts: string[]): string {
  const joined = parts.map((x) => x.replace(/^\/+|\/+$/g, '')).filter((x) => x !== '').join('/');
  return `/${joined}`;
}

/** An excluded route of `setGlobalPrefix(prefix, { exclude })`, as Nest keeps it. */
interface ExcludedRoute {
  readonly requestMethod?: RequestMethod;
  readonly pathRegex?: RegExp;
}

/**
 * The app's global prefix (`app.setGlobalPrefix()`, set before `init()` as Nest requires)
 * and which paths it skips: a function from a route's path and method to the prefix it
 * gets ('' when none or excluded, as Nest's router decides with the same `exclude` list).
 */
function globalPrefixOf(config: ApplicationConfig | undefined): (path: string, method: RequestMethod) => string {
  const prefix = config?.getGlobalPrefix?.() ?? '';
  if (typeof prefix !== 'string' || prefix.replace(/\//g, '') === '') return () => '';
  const exclude = ((config?.getGlobalPrefixOptions?.() as { exclude?: unknown } | undefined)?.exclude ?? []) as readonly ExcludedRoute[];
  return (path, method) => {
    for (const r of Array.isArray(exclude) ? exclude : []) {
      const methodMatches = r.requestMethod === undefined || r.requestMethod === RequestMethod.ALL || (r.requestMethod as number) === -1 || r.requestMethod === method;
      if (methodMatches && r.pathRegex instanceof RegExp && r.pathRegex.test(path)) return '';
    }
    return prefix;
  };
}

/**
 * Declares the route's purpose with a route label for each of its paths (the app's global
 * prefix unless its `exclude` names the route, + controller path + handler path), and the
 * data categories its `@Accesses` name, so `kit.describeRoutes()` lists what the
 * controllers declare. (A RouterModule's module paths and URI versions are not included.)
 */
function declareWithRoutes(
  kit: ResolvedPrivacyModuleOptions['kit'],
  purpose: string,
  cls: Type<unknown>,
  handler: RouteHandler,
  accesses: readonly AccessesOptions[],
  prefixFor: (path: string, method: RequestMethod) => string,
) {
  const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
  const handlerPaths = pathsOf(Reflect.getMetadata(PATH_METADATA, handler));
  if (method === undefined || handlerPaths.length === 0) return declarePurpose(kit, purpose);
  const controllerPaths = pathsOf(Reflect.getMetadata(PATH_METADATA, cls));
  const data = [...new Set(accesses.flatMap((a) => a.data).filter((d) => CATEGORY.test(d)))];
  const name = RequestMethod[method] ?? 'ALL';
  let decl = declarePurpose(kit, purpose);
  for (const c of controllerPaths.length === 0 ? [''] : controllerPaths) {
    for (const h of handlerPaths) {
      const path = joinPath(c, h);
      const label: RouteLabel = { method: name, path: joinPath(prefixFor(path, method), path), data };
      decl = declarePurpose(kit, purpose, label);
    }
  }
  return decl;
}

function validateAccesses(a: AccessesOptions, where: string): void {
  const bad = (what: string): never => {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `@Accesses() on ${where}: ${what}`);
  };
  if (typeof a !== 'object' || a === null) bad('takes { data, action, subject? }.');
  if (!Array.isArray(a.data) || a.data.length === 0 || a.data.some((d) => typeof d !== 'string' || d === '')) bad('"data" must be a non-empty list of data categories.');
  if (!(ACTIONS as readonly string[]).includes(a.action)) bad(`"action" must be one of ${ACTIONS.join(', ')}, got ${JSON.stringify(a.action)}.`);
  if (a.subject !== undefined && typeof a.subject !== 'function') bad('"subject" must be a function of the request.');
  if (a.recipient !== undefined && typeof a.recipient !== 'string') bad('"recipient" must be a string.');
}
