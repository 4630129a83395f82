'use strict';
// NestJS 11 and 12, on the Express and the Fastify platform: the same module, written
// without TypeScript decorators syntax (the decorators are applied as functions).
require('reflect-metadata');
const { Controller, Get, Post, HttpCode, Module, Req } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { PrivacyModule, Purpose, AgeGate, Accesses, PrivacyService } = require('@purposekit/nestjs');
const { getPrivacyContext } = require('@purposekit/core');
const { engine, check, scenarios, main, versionOf } = require('./common.cjs');

const platform = process.argv[2] === 'fastify' ? 'fastify' : 'express';
// "middleware": the app also has a Nest middleware of its own, which must see the request's
// context (PrivacyModule starts it before Nest middleware; on Fastify without such
// middleware it starts from a Fastify hook instead, the other run).
const withMiddleware = process.argv[3] === 'middleware';

class AppController {
  constructor(privacy) {
    this.privacy = privacy;
  }
  healthz(req) {
    return { privacy: (req.raw ?? req).privacy !== undefined };
  }
  async status() {
    await this.privacy.access({ data: ['ip-address'], action: 'read' });
    return this.privacy.requireContext().logFields();
  }
  sell() {
    return { sold: true };
  }
  members() {
    return { ok: true };
  }
}
const d = (decorators, target, key) => Reflect.decorate(decorators, target, key, Object.getOwnPropertyDescriptor(target, key));
Reflect.decorate([Controller()], AppController);
Reflect.defineMetadata('design:paramtypes', [PrivacyService], AppController);
d([Get('healthz'), (t, k, desc) => Req()(t, k, 0)], AppController.prototype, 'healthz');
d([Get('status'), Purpose('diagnostics')], AppController.prototype, 'status');
d([Get('sell'), Purpose('diagnostics'), Accesses({ data: ['email'], action: 'share', recipient: 'broker' })], AppController.prototype, 'sell');
d([Post('members'), HttpCode(201), Purpose('service.registration'), AgeGate('registration')], AppController.prototype, 'members');

main(async () => {
  const e = await engine();
  class AppModule {
    configure(consumer) {
      if (!withMiddleware) return;
      consumer
        .apply(async (req, res, next) => {
          const first = getPrivacyContext()?.requestId ?? 'none';
          await new Promise((resolve) => setImmediate(resolve));
          res.setHeader('x-smoke-middleware', `${first} ${getPrivacyContext()?.requestId ?? 'none'}`);
          next();
        })
        .forRoutes('{*path}');
    }
  }
  Reflect.decorate([Module({ imports: [PrivacyModule.forRoot({ kit: e.kit, skip: ['/healthz'] })], controllers: [AppController] })], AppModule);
  let app;
  if (platform === 'fastify') {
    const { FastifyAdapter } = require('@nestjs/platform-fastify');
    app = await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false });
  } else {
    app = await NestFactory.create(AppModule, { logger: false });
  }
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer();
  process.stdout.write(`nestjs ${versionOf('@nestjs/core')} (${platform}${withMiddleware ? ', with an app middleware' : ''}) on node ${process.version}\n`);
  if (withMiddleware) {
    const res = await fetch(`http://127.0.0.1:${server.address().port}/status`);
    const body = await res.json();
    check("the app's own Nest middleware sees the request's context, before and after awaiting", () => {
      if (typeof body.requestId !== 'string') throw new Error(`no request id: ${JSON.stringify(body)}`);
      if (res.headers.get('x-smoke-middleware') !== `${body.requestId} ${body.requestId}`) throw new Error(`middleware saw ${res.headers.get('x-smoke-middleware')}, handler ${body.requestId}`);
    });
  }
  // app.close() runs the module's shutdown hook, which closes the engine (sinks and stores).
  await scenarios(`http://127.0.0.1:${server.address().port}`, e, () => app.close(), { closesKit: true });
});
