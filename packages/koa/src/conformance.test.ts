import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { runConformanceSuite } from '@purposekit/testing';
import type { AdapterHarness } from '@purposekit/testing';
import { createPrivacy, createRightsRouter } from './index';
import { jsonBody } from './__tests__/json-body';

const harness: AdapterHarness = {
  async start(spec) {
    const privacy = createPrivacy(spec.kit, { onWarning: spec.onWarning, onServerError: spec.onServerError });
    const app = new Koa();
    if (spec.trustProxy === 'loopback') {
      app.proxy = true;
      app.maxIpsCount = 1;
    }
    // Koa's default error handling writes to stderr; the suite's plain-Error case is expected.
    app.silent = true;
    app.use(async (ctx, next) => {
      ctx.res.on('finish', () => spec.logRequest(ctx.state.privacy, ctx.res.statusCode, (ctx.request as { body?: unknown }).body));
      await next();
    });
    app.use(jsonBody());
    app.use(privacy.middleware());
    if (spec.mountTwice) app.use(privacy.middleware());
    const rights = spec.rights;
    if (rights !== undefined) app.use(createRightsRouter(spec.kit, { ...rights.options, getSubject: (ctx) => rights.subjectFrom(ctx.headers) }));
    const router = new Router();
    for (const r of spec.routes) {
      const chain: Middleware[] = [
        ...(r.purpose !== undefined ? [privacy.purpose(r.purpose)] : []),
        ...(r.ageGate !== undefined ? [privacy.ageGate(r.ageGate)] : []),
      ];
      const handler: Middleware = async (ctx) => {
        const { status, body } = await r.handle({ privacy: ctx.state.privacy, body: (ctx.request as { body?: unknown }).body, url: ctx.originalUrl });
        ctx.status = status;
        ctx.body = body;
      };
      if (r.method === 'GET') router.get(r.path, ...chain, handler);
      else router.post(r.path, ...chain, handler);
    }
    app.use(router.routes());
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    return {
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
    };
  },
};

runConformanceSuite('koa', harness);
