import 'reflect-metadata';
import { Controller, Get, Module, Post, Req, Res } from '@nestjs/common';
import type { DynamicModule, INestApplication, MiddlewareConsumer, NestModule, Type } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { PrivacyContext } from '@purposekit/core';
import { runConformanceSuite } from '@purposekit/testing';
import type { AdapterHarness, ConformanceAppSpec } from '@purposekit/testing';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AgeGate, PrivacyModule, PrivacyRightsModule, Purpose } from './index';

type AnyRequest = { privacy?: PrivacyContext; raw?: { privacy?: PrivacyContext }; body?: unknown; originalUrl?: string; url: string };

/** One controller per spec: each conformance route becomes a decorated handler. */
function buildController(spec: ConformanceAppSpec): Type<unknown> {
  class ConformanceController {
    constructor(readonly adapterHost: HttpAdapterHost) {}
  }
  Reflect.defineMetadata('design:paramtypes', [HttpAdapterHost], ConformanceController);
  spec.routes.forEach((r, i) => {
    const name = `route${i}`;
    async function handler(this: ConformanceController, req: AnyRequest, res: unknown): Promise<unknown> {
      const url = req.originalUrl ?? req.url;
      const { status, body } = await r.handle({ privacy: req.privacy ?? req.raw?.privacy, body: req.body, url });
      this.adapterHost.httpAdapter.status(res, status);
      return body;
    }
    Object.defineProperty(ConformanceController.prototype, name, { value: handler, writable: true, configurable: true });
    const decorators: MethodDecorator[] = [r.method === 'GET' ? Get(r.path) : Post(r.path)];
    if (r.purpose !== undefined) decorators.push(Purpose(r.purpose));
    if (r.ageGate !== undefined) decorators.push(AgeGate(r.ageGate));
    const descriptor = Reflect.decorate(decorators, ConformanceController.prototype, name, Object.getOwnPropertyDescriptor(ConformanceController.prototype, name)) as PropertyDescriptor;
    Object.defineProperty(ConformanceController.prototype, name, descriptor);
    Req()(ConformanceController.prototype, name, 0);
    Res({ passthrough: true })(ConformanceController.prototype, name, 1);
  });
  return Reflect.decorate([Controller()], ConformanceController) as Type<unknown>;
}

function harnessFor(platform: 'express' | 'fastify'): AdapterHarness {
  return {
    async start(spec) {
      const privacy = (): DynamicModule => PrivacyModule.forRoot({ kit: spec.kit, onWarning: spec.onWarning, onServerError: spec.onServerError });
      @Module({ imports: [privacy()] })
      class SecondMount {}

      const rights = spec.rights;
      const rightsModules = rights === undefined ? [] : [PrivacyRightsModule.forRoot({ ...rights.options, getSubject: (req: { headers: Record<string, string | string[] | undefined> }) => rights.subjectFrom(req.headers) })];
      @Module({ imports: [privacy(), ...(spec.mountTwice ? [SecondMount] : []), ...rightsModules], controllers: [buildController(spec)] })
      class ConformanceModule implements NestModule {
        configure(consumer: MiddlewareConsumer): void {
          // The app's request logger: a Nest middleware, so it sees what the privacy middleware set.
          // On Fastify the body is parsed after Nest middleware: log from Fastify's own
          // onResponse hook instead (registered below), where request.body is the real one.
          if (platform === 'fastify') return;
          consumer
            .apply((req: IncomingMessage & { body?: unknown }, res: ServerResponse, next: () => void) => {
              res.on('finish', () => spec.logRequest(req.privacy, res.statusCode, req.body));
              next();
            })
            .forRoutes('{*path}');
        }
      }

      const loopback = spec.trustProxy === 'loopback';
      const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(loopback ? { trustProxy: '127.0.0.1' } : {});
      if (platform === 'express' && loopback) (adapter.getInstance() as { set(k: string, v: unknown): void }).set('trust proxy', 'loopback');
      const app: INestApplication = await NestFactory.create(ConformanceModule, adapter, { logger: false, abortOnError: false });
      if (platform === 'fastify') {
        type Hooked = { addHook(name: 'onResponse', hook: (request: { raw: IncomingMessage; body?: unknown }, reply: { statusCode: number }, done: () => void) => void): void };
        (adapter.getInstance() as unknown as Hooked).addHook('onResponse', (request, reply, done) => {
          spec.logRequest(request.raw.privacy, reply.statusCode, request.body);
          done();
        });
      }
      try {
        await app.listen(0, '127.0.0.1');
      } catch (error) {
        await app.close().catch(() => undefined);
        throw error;
      }
      const port = (app.getHttpServer().address() as { port: number }).port;
      return { baseUrl: `http://127.0.0.1:${port}`, close: () => app.close() };
    },
  };
}

runConformanceSuite('nestjs (express)', harnessFor('express'));
runConformanceSuite('nestjs (fastify)', harnessFor('fastify'));
