// The Koa app of the OpenTelemetry scenario (tools/test-support/otel-driver.ts).
import Koa from 'koa';
import Router from '@koa/router';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AccessRequest, Purposekit } from '@purposekit/core';
import { createPrivacy } from '../index';

export async function build(kit: Purposekit): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const privacy = createPrivacy(kit);
  const app = new Koa();
  const router = new Router();
  const access = (request: AccessRequest): Koa.Middleware => async (ctx) => {
    ctx.body = await ctx.state.privacy!.access(request);
  };
  router.get('/ip', privacy.purpose('diagnostics'), access({ data: ['ip-address'], action: 'read' }));
  router.get('/email', privacy.purpose('diagnostics'), access({ data: ['email'], action: 'read', subject: 'u1' }));
  app.use(privacy.middleware()).use(router.routes());
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
