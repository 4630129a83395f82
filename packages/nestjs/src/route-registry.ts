import { Inject, Injectable, RequestMethod, VERSION_NEUTRAL, VersioningType } from '@nestjs/common';
import { METHOD_METADATA, MODULE_PATH, PATH_METADATA, VERSION_METADATA } from '@nestjs/common/constants';
import type { ExecutionContext, OnModuleInit, Type } from '@nestjs/common';
import { ApplicationConfig, DiscoveryService, MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import { ACTIONS, PurposekitError } from '@purposekit/core';
import { compileAgeGate, declarePurpose } from '@purposekit/core/adapter';
import type { RouteLabel } from '@purposekit/core/adapter';
import { ACCESSES_METADATA, AGE_GATE_METADATA, PURPOSE_METADATA, RESOLVED_PRIVACY_OPTIONS } from './internal-types';
import type { ResolvedPrivacyModuleOptions } from './internal-types';
import type { AccessesOptions, CompiledRoute } from './types';

/** A route handler as Nest hands it out (`ExecutionContext.getHandler()`). */
type RouteHandler = ReturnType<ExecutionContext['getHandler']>;

/** A route's version(s) as `@Version()` / `@Controller({ version })` store them (VERSION_NEUTRAL is a symbol). */
type VersionValue = string | symbol | ReadonlyArray<string | symbol>;

const NOTHING: CompiledRoute = Object.freeze({ purpose: undefined, ageGate: undefined, accesses: Object.freeze([]) });

/**
 * Compiles every route's declarations when the module initialises (before the server
 * listens), so an unknown purpose or gate stops start-up instead of failing a request.
 * Exported for PrivacyGuard subclasses that declare their own constructor.
 */
@Injectable()
export class PrivacyRouteRegistry implements OnModuleInit {
  /** The app's routing settings (global prefix, URI versioning), read once: final when routes compile. */
  #paths: RoutePaths | undefined;
  /** Per controller class: its module's RouterModule path, if any. */
  readonly #modulePaths = new WeakMap<Type<unknown>, string>();
  /** Per handler: the route compiled for the first class it was reached through, then any others. */
  readonly #routes = new WeakMap<RouteHandler, { cls: Type<unknown>; route: CompiledRoute; others: WeakMap<Type<unknown>, CompiledRoute> | undefined }>();

  constructor(
    @Inject(RESOLVED_PRIVACY_OPTIONS) private readonly options: ResolvedPrivacyModuleOptions,
    private readonly reflector: Reflector,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly appConfig: ApplicationConfig,
    private readonly modules: ModulesContainer,
  ) {}

  onModuleInit(): void {
    // RouterModule paths, read as Nest's router reads them (per application, then global).
    const appKey = MODULE_PATH + String((this.modules as unknown as { applicationId?: unknown }).applicationId ?? '');
    for (const wrapper of this.discovery.getControllers()) {
      const cls = wrapper.metatype as Type<unknown> | null | undefined;
      if (typeof cls !== 'function' || cls.prototype === undefined) continue;
      const mod = (wrapper as unknown as { host?: { metatype?: unknown } }).host?.metatype;
      const modulePath: unknown = typeof mod === 'function' ? (Reflect.getMetadata(appKey, mod) ?? Reflect.getMetadata(MODULE_PATH, mod)) : undefined;
      if (typeof modulePath === 'string' && modulePath !== '') this.#modulePaths.set(cls, modulePath);
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
      purpose: purpose === undefined ? undefined : declareWithRoutes(kit, purpose, cls, handler, accesses, this.#modulePaths.get(cls) ?? '', (this.#paths ??= routePathsOf(this.appConfig))),
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

/** The app's routing settings that shape a route's paths. */
interface RoutePaths {
  /** The global prefix a path gets ('' when none, or when `exclude` names the route). */
  readonly prefixFor: (path: string, method: RequestMethod) => string;
  /** With URI versioning, the segment's prefix (`v` by default); undefined without it. */
  readonly versionPrefix: string | undefined;
  /** The version of a controller that names none (`enableVersioning({ defaultVersion })`). */
  readonly defaultVersion: VersionValue | undefined;
}

/**
 * The app's global prefix (`app.setGlobalPrefix()`, set before `init()` as Nest requires)
 * with its `exclude` list, and its versioning (`app.enableVersioning()`), as Nest's router
 * applies them.
 */
function routePathsOf(config: ApplicationConfig | undefined): RoutePaths {
  const prefix = config?.getGlobalPrefix?.() ?? '';
  const exclude = ((config?.getGlobalPrefixOptions?.() as { exclude?: unknown } | undefined)?.exclude ?? []) as readonly ExcludedRoute[];
  const prefixFor =
    typeof prefix !== 'string' || prefix.replace(/\//g, '') === ''
      ? (): string => ''
      : (path: string, method: RequestMethod): string => {
          for (const r of Array.isArray(exclude) ? exclude : []) {
            const methodMatches = r.requestMethod === undefined || r.requestMethod === RequestMethod.ALL || (r.requestMethod as number) === -1 || r.requestMethod === method;
            if (methodMatches && r.pathRegex instanceof RegExp && r.pathRegex.test(path)) return '';
          }
          return prefix;
        };
  const versioning = config?.getVersioning?.() as { type?: unknown; prefix?: unknown; defaultVersion?: VersionValue } | undefined;
  const versionPrefix = versioning?.type !== VersioningType.URI ? undefined : versioning.prefix === false ? '' : typeof versioning.prefix === 'string' ? versioning.prefix : 'v';
  return { prefixFor, versionPrefix, defaultVersion: versioning?.defaultVersion };
}

/**
 * Every path Nest serves a handler at: for each URI version (none, or the neutral one: no
 * version segment), the version segment, then the RouterModule path, the controller path
 * and the handler path; the global prefix goes in front unless `exclude` names the path
 * (tested without the version segment, as Nest does).
 */
function servedPaths(paths: RoutePaths, method: RequestMethod, modulePath: string, controllerPath: string, handlerPath: string, versions: VersionValue | undefined): string[] {
  const route = joinPath(modulePath, controllerPath, handlerPath);
  const segments: string[] = [];
  const prefix = paths.versionPrefix;
  if (prefix === undefined || versions === undefined) segments.push('');
  else for (const v of Array.isArray(versions) ? versions : [versions]) segments.push(v === VERSION_NEUTRAL ? '' : `${prefix}${String(v)}`);
  return [...new Set(segments)].map((segment) => joinPath(paths.prefixFor(route, method), segment, route));
}

/**
 * Declares the route's purpose with a route label for each path it is served at (see
 * {@link servedPaths}), and the data categories its `@Accesses` name, so
 * `kit.describeRoutes()` lists what the controllers declare where the router serves it.
 */
function declareWithRoutes(
  kit: ResolvedPrivacyModuleOptions['kit'],
  purpose: string,
  cls: Type<unknown>,
  handler: RouteHandler,
  accesses: readonly AccessesOptions[],
  modulePath: string,
  paths: RoutePaths,
) {
  const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
  const handlerPaths = pathsOf(Reflect.getMetadata(PATH_METADATA, handler));
  if (method === undefined || handlerPaths.length === 0) return declarePurpose(kit, purpose);
  const controllerPaths = pathsOf(Reflect.getMetadata(PATH_METADATA, cls));
  // The handler's version, else the controller's, else the default one.
  const versions =
    (Reflect.getMetadata(VERSION_METADATA, handler) as VersionValue | undefined) ?? (Reflect.getMetadata(VERSION_METADATA, cls) as VersionValue | undefined) ?? paths.defaultVersion;
  const data = [...new Set(accesses.flatMap((a) => a.data).filter((d) => CATEGORY.test(d)))];
  const name = RequestMethod[method] ?? 'ALL';
  let decl = declarePurpose(kit, purpose);
  for (const c of controllerPaths.length === 0 ? [''] : controllerPaths) {
    for (const h of handlerPaths) {
      for (const path of servedPaths(paths, method, modulePath, c, h, versions)) {
        const label: RouteLabel = { method: name, path, data };
        decl = declarePurpose(kit, purpose, label);
      }
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
