// One benchmark server process: the same Fastify 5 app, bare or with the purposekit plugin.
// The parent (middleware.bench.mjs with FRAMEWORK=fastify) asks for CPU readings over IPC,
// so only this process's CPU is counted.
'use strict';
const Fastify = require('fastify');
const variant = process.argv[2];
const app = Fastify({ trustProxy: '127.0.0.1' });

async function build() {
  if (variant === 'als-only') {
    // One AsyncLocalStorage.run per request and nothing else: what context propagation costs.
    const { AsyncLocalStorage } = require('node:async_hooks');
    const als = new AsyncLocalStorage();
    app.addHook('onRequest', function alsOnly(_req, _reply, done) { als.run({}, done); });
    app.get('/x', async () => ({ ok: true, p: 'diagnostics' }));
  } else if (variant === 'three-noop-hooks') {
    // The same number of hooks the plugin adds, doing nothing: the framework's own cost.
    for (const name of ['onRequest', 'preValidation', 'preHandler']) app.addHook(name, function noop(_req, _reply, done) { done(); });
    app.get('/x', async () => ({ ok: true, p: 'diagnostics' }));
  } else if (variant !== 'bare') {
    const { createPurposekit, openinfra } = require('@purposekit/core');
    const { purposekit } = require('@purposekit/fastify');
    const audit = { async append() {}, async flush() {}, async close() {} }; // measures our code, not a disk
    // purposekit-no-otel: the same with the engine's OpenTelemetry hooks off (the workspace has @opentelemetry/api installed).
    const kit = createPurposekit({ policy: openinfra, audit, subjectKey: { id: 'b', secret: 'x'.repeat(32) }, telemetry: variant !== 'purposekit-no-otel' });
    await app.register(purposekit, { kit });
    if (variant === 'purposekit' || variant === 'purposekit-no-otel') {
      app.get('/x', { config: { purpose: 'diagnostics' } }, async (request) => ({ ok: true, p: request.privacy.purpose }));
    } else {
      app.get('/x', { config: { purpose: 'diagnostics' } }, async (request) => {
        await request.privacy.access({ data: ['ip-address'], action: 'read' });
        return { ok: true };
      });
    }
  } else {
    app.get('/x', async () => ({ ok: true, p: 'diagnostics' }));
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  process.send({ port: app.server.address().port });
}

let mark;
process.on('message', (m) => {
  if (m === 'start') {
    mark = process.cpuUsage();
    process.send({ started: true });
  } else if (m === 'stop') {
    const d = process.cpuUsage(mark);
    process.send({ cpuMicros: d.user + d.system });
  } else if (m === 'exit') {
    app.close().then(() => process.exit(0));
  }
});
build().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
