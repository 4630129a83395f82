import { ConfigurableModuleBuilder, Global, Module, RequestMethod } from '@nestjs/common';
import type { MiddlewareConsumer, NestModule, Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, DiscoveryModule, HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import { PurposekitError, isPurposekit } from '@purposekit/core';
import { ADAPTER_OPTIONS_SPEC, fastifyTrustOf, resolveAdapterOptions, validateOptions } from '@purposekit/core/adapter';
import { RESOLVED_PRIVACY_OPTIONS } from './internal-types';
import type { ResolvedPrivacyModuleOptions } from './internal-types';
import { PrivacyExceptionFilter } from './privacy-exception.filter';
import { PrivacyGuard } from './privacy.guard';
import { PrivacyLifecycle } from './privacy-lifecycle';
import { PrivacyMiddleware } from './privacy.middleware';
import { PrivacyService } from './privacy.service';
import { PrivacyRouteRegistry } from './route-registry';
import type { PrivacyModuleOptions } from './types';

/** Module-definition extras of {@link PrivacyModule.forRoot} (not part of the validated options). */
export interface PrivacyModuleExtras {
  /** A subclass of {@link PrivacyGuard} to install instead of it. Default: PrivacyGuard. */
  guard?: Type<PrivacyGuard>;
}

const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } = new ConfigurableModuleBuilder<PrivacyModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras<PrivacyModuleExtras>({ guard: PrivacyGuard }, (definition, extras) => ({
    ...definition,
    providers: [...(definition.providers ?? []), { provide: APP_GUARD, useClass: extras.guard ?? PrivacyGuard }],
  }))
  .build();

/** Injection token of the raw options given to `forRoot` / returned by `useFactory`. */
export const PRIVACY_MODULE_OPTIONS = MODULE_OPTIONS_TOKEN;

/**
 * Validates the module options once (sync and async alike), at start-up.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION
 * @internal
 */
export function resolvePrivacyModuleOptions(options: PrivacyModuleOptions): ResolvedPrivacyModuleOptions {
  const where = 'PrivacyModule.forRoot() / forRootAsync()';
  if (isPurposekit(options)) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${where}: got the engine itself; the options are { kit, onWarning?, skip? }: forRoot({ kit }), or return { kit } from forRootAsync's useFactory.`);
  }
  if (typeof options !== 'object' || options === null) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${where}: the options (forRoot's argument, or what forRootAsync's useFactory returned) must be an object { kit, onWarning?, skip? }, got ${options === null ? 'null' : typeof options}.`);
  }
  if ((options as { kit?: unknown }).kit === undefined) {
    const keys = Object.keys(options);
    throw new PurposekitError(
      'PURPOSEKIT_ERR_INVALID_OPTION',
      `${where}: "kit" is required: the engine from createPurposekit(). The options (or what useFactory returned) had ${keys.length === 0 ? 'no keys' : `the keys ${keys.map((k) => `"${k}"`).join(', ')}`}; return { kit } with the engine.`,
    );
  }
  const valid = validateOptions<PrivacyModuleOptions>(
    'PrivacyModule.forRoot()',
    options,
    { kit: { required: true, check: isPurposekit, expected: 'the engine from createPurposekit()' }, ...ADAPTER_OPTIONS_SPEC },
    { optional: false, usage: '{ kit, onWarning?, onServerError?, skip? }' },
  );
  const { kit, ...adapterOptions } = valid;
  const resolved = resolveAdapterOptions(kit, adapterOptions, 'PrivacyModule.forRoot');
  return Object.freeze({ kit, onWarning: resolved.onWarning, onServerError: resolved.onServerError, skip: resolved.skip });
}

/**
 * The purposekit module: starts the privacy context of every request (middleware),
 * applies `@Purpose` / `@AgeGate` / `@Accesses` (global guard), maps purposekit errors
 * (global filter) and provides {@link PrivacyService}. Global: import it once, in the
 * root module. On application shutdown (`app.close()`, or a signal after
 * `app.enableShutdownHooks()`) it closes the engine: `kit.close()` writes the trail's final
 * signed checkpoint and closes the consent store.
 *
 * @example
 * \@Module({ imports: [PrivacyModule.forRoot({ kit })], controllers: [MembersController] })
 * export class AppModule {}
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION (bad options), PURPOSEKIT_ERR_UNKNOWN_PURPOSE /
 *   PURPOSEKIT_ERR_UNKNOWN_AGE_GATE (bad declarations), from `app.init()` / `app.listen()`.
 */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [
    { provide: RESOLVED_PRIVACY_OPTIONS, inject: [MODULE_OPTIONS_TOKEN], useFactory: resolvePrivacyModuleOptions },
    PrivacyRouteRegistry,
    PrivacyService,
    PrivacyMiddleware,
    PrivacyLifecycle,
    { provide: APP_FILTER, useClass: PrivacyExceptionFilter },
  ],
  exports: [PrivacyService],
})
export class PrivacyModule extends ConfigurableModuleClass implements NestModule {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly modules: ModulesContainer,
    private readonly middleware: PrivacyMiddleware,
  ) {
    super();
  }

  configure(consumer: MiddlewareConsumer): void | Promise<void> {
    const where = startOnPlatform(consumer, this.adapterHost, this.modules);
    if (where === 'fastify-if-no-middleware') {
      // Nest calls every module's configure() at once and records what each applied when
      // it returns: one macrotask later, the other modules' (non-global, synchronous)
      // configure() have recorded theirs. Non-global modules' middleware run after ours
      // whenever ours is applied, so waiting does not change the order.
      return new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#start(consumer, otherMiddleware(this.modules) ? undefined : 'fastify'));
    }
    this.#start(consumer, where);
    return undefined;
  }

  #start(consumer: MiddlewareConsumer, where: 'express' | 'fastify' | undefined): void {
    const instance = where === undefined ? undefined : (this.adapterHost.httpAdapter.getInstance() as PlatformInstance);
    if (where === 'express' && typeof instance?.use === 'function') {
      // Registered now, while the modules configure their middleware and before Nest
      // registers any of them: it runs before all of them, as the Nest middleware did.
      instance.use(this.middleware.expressMiddleware);
      return;
    }
    if (where === 'fastify' && typeof instance?.addHook === 'function') {
      // No @fastify/middie run (and its per-request copies of ip, ips, hostname…) when the
      // app has no Nest middleware: the hook covers the same requests.
      instance.addHook('onRequest', this.middleware.fastifyHook(fastifyTrustOf(instance).fn));
      return;
    }
    // Nest 11+ path syntax (path-to-regexp 8): '{*path}' matches every path, '/' included.
    consumer.apply(PrivacyMiddleware).forRoutes({ path: WILDCARD, method: RequestMethod.ALL });
  }
}

const WILDCARD = '{*path}';

/** What PrivacyModule uses of the platform's instance (Express app or Fastify instance). */
interface PlatformInstance {
  use?(fn: unknown): unknown;
  addHook?(name: 'onRequest', fn: unknown): unknown;
}

/** The parts of Nest's module reference (ModulesContainer's values) read here, in Nest 11 and 12. */
interface ModuleRefLike {
  metatype?: unknown;
  isGlobal?: boolean;
  middlewares?: { size: number };
}

/** The other modules that declare configure(): they may apply Nest middleware. */
function configuringModules(modules: ModulesContainer): ModuleRefLike[] {
  const found: ModuleRefLike[] = [];
  for (const moduleRef of modules.values() as Iterable<ModuleRefLike>) {
    const metatype = moduleRef.metatype as { prototype?: { configure?: unknown } } | undefined;
    if (typeof metatype?.prototype?.configure !== 'function') continue;
    if (metatype === PrivacyModule || metatype.prototype instanceof PrivacyModule) continue;
    found.push(moduleRef);
  }
  return found;
}

/** Whether another module has applied Nest middleware (what Nest recorded of its configure()). */
function otherMiddleware(modules: ModulesContainer): boolean {
  return configuringModules(modules).some((m) => m.middlewares === undefined || m.middlewares.size > 0);
}

/**
 * Where the request context can start without a Nest middleware, covering exactly the
 * requests the Nest middleware on '{*path}' covers:
 * - only when Nest mounts that middleware on '/{*path}' alone, i.e. every path (no global
 *   prefix, no default version of URI versioning). Nest's own path mapping says so (the
 *   consumer's route-info path extractor, in Nest 11 and 12); anything else keeps the
 *   Nest middleware;
 * - 'express': an Express middleware on the app, added while the modules configure their
 *   middleware, so before every Nest middleware;
 * - a Fastify onRequest hook runs after @fastify/middie's hook, so only when no other
 *   module applies Nest middleware (which middie would run first): 'fastify' when no
 *   other module declares configure(), 'fastify-if-no-middleware' when only non-global
 *   modules with a synchronous configure() do (decided once they have run). A global one,
 *   or an async configure(), keeps the Nest middleware.
 * @internal
 */
export function startOnPlatform(consumer: MiddlewareConsumer, adapterHost: HttpAdapterHost, modules: ModulesContainer): 'express' | 'fastify' | 'fastify-if-no-middleware' | undefined {
  const adapter = adapterHost.httpAdapter as { getType?(): string } | undefined;
  const type = typeof adapter?.getType === 'function' ? adapter.getType() : undefined;
  if (type !== 'express' && type !== 'fastify') return undefined;
  const extractor = (consumer as { routeInfoPathExtractor?: { extractPathsFrom?(route: { path: string; method: RequestMethod }): unknown } }).routeInfoPathExtractor;
  if (typeof extractor?.extractPathsFrom !== 'function') return undefined;
  let paths: unknown;
  try {
    paths = extractor.extractPathsFrom({ path: WILDCARD, method: RequestMethod.ALL });
  } catch {
    return undefined;
  }
  if (!Array.isArray(paths) || paths.length !== 1 || paths[0] !== `/${WILDCARD}`) return undefined;
  if (type === 'express') return 'express';
  const others = configuringModules(modules);
  if (others.length === 0) return 'fastify';
  for (const m of others) {
    const configure = (m.metatype as { prototype: { configure: { constructor?: { name?: string } } } }).prototype.configure;
    if (m.isGlobal !== false || m.middlewares === undefined || configure.constructor?.name !== 'Function') return undefined;
  }
  return 'fastify-if-no-middleware';
}
