import { Module } from '@nestjs/common';
import type { DynamicModule, InjectionToken, ModuleMetadata, OptionalFactoryDependency } from '@nestjs/common';
import { PurposekitError, createRightsHandler } from '@purposekit/core';
import type { RightsHandler, RightsHandlerOptions } from '@purposekit/core';
import { PrivacyService } from './privacy.service';
import { RIGHTS_HANDLER, createRightsController } from './rights.controller';

/**
 * Options of {@link PrivacyRightsModule.forRoot}: those of the core's
 * `createRightsHandler`, with the platform's request (Express `Request` or
 * `FastifyRequest`, what `@Req()` gives) handed to `getSubject`.
 */
export type PrivacyRightsModuleOptions<TRequest = any> = RightsHandlerOptions<TRequest>;

/** Options of {@link PrivacyRightsModule.forRootAsync}. */
export interface PrivacyRightsModuleAsyncOptions<TRequest = any> extends Pick<ModuleMetadata, 'imports'> {
  /**
   * Path prefix of the endpoints. Default `/privacy`. Given here, not by the factory:
   * Nest fixes a controller's path when the module is defined.
   */
  prefix?: string;
  /** Providers handed to `useFactory`. */
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  /** Returns the handler's options (all but `prefix`), e.g. callbacks built from your repositories. */
  useFactory(...args: any[]): Omit<PrivacyRightsModuleOptions<TRequest>, 'prefix'> | Promise<Omit<PrivacyRightsModuleOptions<TRequest>, 'prefix'>>;
}

const RIGHTS_OPTIONS = Symbol('purposekit.nestjs.rights-options');
const DEFAULT_PREFIX = '/privacy';

function handlerFactory(service: PrivacyService | undefined, options: PrivacyRightsModuleOptions): RightsHandler<unknown> {
  if (service === undefined) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'PrivacyRightsModule needs PrivacyModule: import PrivacyModule.forRoot({ kit }) in the root module.');
  }
  return createRightsHandler(service.kit, options);
}

function define(prefix: string, optionsProvider: DynamicModule['providers'], imports: ModuleMetadata['imports'] = []): DynamicModule {
  return {
    module: PrivacyRightsModule,
    imports,
    controllers: [createRightsController(prefix)],
    providers: [
      ...(optionsProvider ?? []),
      // The engine comes from PrivacyModule (global), so rights requests share its trail and consent store.
      { provide: RIGHTS_HANDLER, inject: [{ token: PrivacyService, optional: true }, RIGHTS_OPTIONS], useFactory: handlerFactory },
    ],
  };
}

function notAnObject(where: string, value: unknown): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${where}: options must be an object { getSubject, exporter?, eraser?, accessLog?, ... }, got ${value === null ? 'null' : typeof value}.`);
}

/**
 * Serves the data-subject rights endpoints of the core's `createRightsHandler` (the
 * subject's access log, export, erasure, restriction, objection, consent, rectification)
 * under a prefix (default `/privacy`), on Nest's Express and Fastify platforms alike.
 * Import it after `PrivacyModule.forRoot({ kit })`: each rights request is recorded under
 * its request's privacy context, in the engine's trail. The subject is always the one
 * `getSubject(req)` returns (your authentication); the endpoints never take it from the
 * path or the body. Bodies are parsed by the platform's own JSON parser.
 *
 * @example
 * \@Module({
 *   imports: [
 *     PrivacyModule.forRoot({ kit }),
 *     PrivacyRightsModule.forRoot({ getSubject: (req) => req.user?.id, exporter, eraser, accessLog }),
 *   ],
 * })
 * export class AppModule {}
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION when the app is created (`NestFactory.create()`): a
 *   bad option (see `createRightsHandler`), a callback the policy's rights require, or
 *   PrivacyModule not imported.
 */
@Module({})
export class PrivacyRightsModule {
  /** The rights endpoints with options known when the module is defined. */
  static forRoot<TRequest = any>(options: PrivacyRightsModuleOptions<TRequest>): DynamicModule {
    if (typeof options !== 'object' || options === null) throw notAnObject('PrivacyRightsModule.forRoot()', options);
    const prefix = typeof options.prefix === 'string' ? options.prefix : DEFAULT_PREFIX;
    // The handler validates everything (prefix included) when the app initialises.
    return define(prefix, [{ provide: RIGHTS_OPTIONS, useValue: options }]);
  }

  /**
   * The rights endpoints with callbacks built from other providers.
   * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION at once for a missing `useFactory`;
   *   when the app is created for a bad factory result (one carrying `prefix` included).
   */
  static forRootAsync<TRequest = any>(options: PrivacyRightsModuleAsyncOptions<TRequest>): DynamicModule {
    if (typeof options !== 'object' || options === null) throw notAnObject('PrivacyRightsModule.forRootAsync()', options);
    if (typeof options.useFactory !== 'function') {
      throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'PrivacyRightsModule.forRootAsync(): "useFactory" must be a function returning the rights options.');
    }
    const prefix = options.prefix ?? DEFAULT_PREFIX;
    const useFactory = options.useFactory;
    return define(
      typeof prefix === 'string' ? prefix : DEFAULT_PREFIX,
      [
        {
          provide: RIGHTS_OPTIONS,
          inject: options.inject ?? [],
          useFactory: async (...args: unknown[]): Promise<PrivacyRightsModuleOptions> => {
            const resolved = (await useFactory(...args)) as PrivacyRightsModuleOptions | null;
            if (typeof resolved !== 'object' || resolved === null) throw notAnObject('PrivacyRightsModule.forRootAsync() useFactory result', resolved);
            if ('prefix' in resolved) {
              throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'PrivacyRightsModule.forRootAsync(): give "prefix" next to useFactory, not in its result (Nest fixes route paths when the module is defined).');
            }
            // A copy: the caller's object is never modified.
            return { ...resolved, prefix };
          },
        },
      ],
      options.imports,
    );
  }
}
