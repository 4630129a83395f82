/**
 * The NestJS form of a cross-service test service (service.ts), on the Express or the
 * Fastify platform. Compiled with legacy decorators (processes.ts sets
 * PURPOSEKIT_TS_DECORATORS=1 for the nestjs-* frameworks).
 *
 * Each route becomes a GET handler with `@Purpose(route.purpose)`; PrivacyModule's
 * middleware checks the inbound purpose before the guard applies the declaration.
 */
import 'reflect-metadata';
import { Controller, Get, Module, Req } from '@nestjs/common';
import type { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { PrivacyContext, Purposekit } from '@purposekit/core';
import { PrivacyModule, Purpose } from '@purposekit/nestjs';

export interface NestRoute {
  path: string;
  purpose: string;
  handle(privacy: PrivacyContext, url: URL): Promise<unknown>;
}

/** The request as a handler sees it on either platform (Fastify keeps the context on `raw`). */
interface AnyRequest {
  privacy?: PrivacyContext;
  raw?: { privacy?: PrivacyContext };
  originalUrl?: string;
  url: string;
}

function controllerFor(routes: readonly NestRoute[], trail: () => unknown): Type<unknown> {
  class CrossServiceController {
    trail(): unknown {
      return trail();
    }
  }
  Reflect.decorate([Get('trail')], CrossServiceController.prototype, 'trail', Object.getOwnPropertyDescriptor(CrossServiceController.prototype, 'trail'));
  routes.forEach((route, i) => {
    const name = `route${i}`;
    const handler = (req: AnyRequest): Promise<unknown> => route.handle((req.privacy ?? req.raw?.privacy)!, new URL(req.originalUrl ?? req.url, 'http://x'));
    Object.defineProperty(CrossServiceController.prototype, name, { value: handler, writable: true, configurable: true });
    const descriptor = Reflect.decorate([Get(route.path.slice(1)), Purpose(route.purpose)], CrossServiceController.prototype, name, Object.getOwnPropertyDescriptor(CrossServiceController.prototype, name)) as PropertyDescriptor;
    Object.defineProperty(CrossServiceController.prototype, name, descriptor);
    Req()(CrossServiceController.prototype, name, 0);
  });
  return Reflect.decorate([Controller()], CrossServiceController) as Type<unknown>;
}

/** Starts the Nest app on 127.0.0.1, port 0. */
export async function serveNest(platform: 'express' | 'fastify', kit: Purposekit, routes: readonly NestRoute[], trail: () => unknown): Promise<{ port: number; close(): Promise<void> }> {
  @Module({ imports: [PrivacyModule.forRoot({ kit })], controllers: [controllerFor(routes, trail)] })
  class CrossServiceModule {}

  let app: INestApplication;
  if (platform === 'fastify') {
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    app = await NestFactory.create(CrossServiceModule, new FastifyAdapter(), { logger: false });
  } else {
    const { ExpressAdapter } = await import('@nestjs/platform-express');
    app = await NestFactory.create(CrossServiceModule, new ExpressAdapter(), { logger: false });
  }
  if (app.getHttpAdapter().getType() !== platform) throw new Error(`expected the ${platform} platform, got ${app.getHttpAdapter().getType()}`);
  await app.listen(0, '127.0.0.1');
  return { port: (app.getHttpServer().address() as { port: number }).port, close: () => app.close() };
}
