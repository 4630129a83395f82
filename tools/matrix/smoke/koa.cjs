'use strict';
// Koa 2 and 3 with @koa/router: the same app. The adapter parses no bodies, so a small
// JSON reader stands in for the body parser an app would mount.
const Koa = require('koa');
const Router = require('@koa/router');
const { createPrivacy } = require('@purposekit/koa');
const { engine, scenarios, main, versionOf } = require('./common.cjs');

async function json(ctx, next) {
  if (ctx.is('application/json')) {
    let raw = '';
    for await (const chunk of ctx.req) raw += chunk;
    ctx.request.body = JSON.parse(raw);
  }
  await next();
}

main(async () => {
  const e = await engine();
  const privacy = createPrivacy(e.kit, { skip: ['/healthz'] });
  const app = new Koa();
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { privacy: ctx.state.privacy !== undefined };
  });
  router.get('/status', privacy.purpose('diagnostics'), async (ctx) => {
    await ctx.state.privacy.access({ data: ['ip-address'], action: 'read' });
    ctx.body = ctx.state.privacy.logFields();
  });
  router.get('/sell', privacy.purpose('diagnostics'), async (ctx) => {
    await ctx.state.privacy.access({ data: ['email'], action: 'share', recipient: 'broker' });
    ctx.body = { sold: true };
  });
  router.post('/members', privacy.purpose('service.registration'), privacy.ageGate('registration'), (ctx) => {
    ctx.status = 201;
    ctx.body = { ok: true };
  });
  app.use(json).use(privacy.middleware()).use(router.routes());
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  process.stdout.write(`koa ${versionOf('koa')} on node ${process.version}\n`);
  await scenarios(`http://127.0.0.1:${server.address().port}`, e, () => new Promise((r) => server.close(r)));
});
