import { ConfigurableModuleBuilder, Global, Module, RequestMethod } from '@nestjs/common';
import type { MiddlewareConsumer, NestModule, Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { PurposekitError, isPurposekit } from '@purposekit/core';
import { ADAPTER_OPTIONS_SPEC, resolveAdapterOptions, validateOptions } from '@purposekit/core/adapter';
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
  configure(consumer: MiddlewareConsumer): void {
    // Nest 11+ path syntax (path-to-regexp 8): '{*path}' matches every path, '/' included.
    consumer.apply(PrivacyMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
