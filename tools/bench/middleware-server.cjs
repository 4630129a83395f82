// One benchmark server process: the same Express 5 app, bare or with purposekit.
// The parent asks for CPU readings over IPC, so only this process's CPU is counted.
'use strict';
const express = require('express');
const variant = process.argv[2];
const app = express();
app.set('trust proxy', 'loopback');

if (variant === 'als-only') {
  // One AsyncLocalStorage.run per request and nothing else: what context propagation costs.
  const { AsyncLocalStorage } = require('node:async_hooks');
  const als = new AsyncLocalStorage();
  app.use(function alsOnly(_req, _res, next) { als.run({}, next); });
  app.get('/x', function noopRoute(_req, _res, next) { next(); }, (_req, res) => res.json({ ok: true, p: 'diagnostics' }));
} else if (variant === 'two-noop-layers') {
  // The same number of middleware layers purposekit adds, doing nothing: the framework's own cost.
  app.use(function noop(_req, _res, next) { next(); });
  app.get('/x', function noopRoute(_req, _res, next) { next(); }, (_req, res) => res.json({ ok: true, p: 'diagnostics' }));
} else if (variant !== 'bare') {
  const { createPurposekit, openinfra } = require('@purposekit/core');
  const { createPrivacy } = require('@purposekit/express');
  const audit = { async append() {}, async flush() {}, async close() {} }; // measures our code, not a disk
  const kit = createPurposekit({ policy: openinfra, audit, subjectKey: { id: 'b', secret: 'x'.repeat(32) } });
  const privacy = createPrivacy(kit);
  app.use(privacy.middleware());
  if (variant === 'purposekit') {
    app.get('/x', privacy.purpose('diagnostics'), (req, res) => res.json({ ok: true, p: req.privacy.purpose }));
  } else {
    app.get('/x', privacy.purpose('diagnostics'), (req, res, next) => {
      req.privacy.access({ data: ['ip-address'], action: 'read' }).then(() => res.json({ ok: true }), next);
    });
  }
} else {
  app.get('/x', (_req, res) => res.json({ ok: true, p: 'diagnostics' }));
}

const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
let mark;
process.on('message', (m) => {
  if (m === 'start') {
    mark = process.cpuUsage();
    process.send({ started: true });
  } else if (m === 'stop') {
    const d = process.cpuUsage(mark);
    process.send({ cpuMicros: d.user + d.system });
  } else if (m === 'exit') {
    server.close(() => process.exit(0));
  }
});
