'use strict';
// Express 4 and 5: the same app (Express 4 does not forward rejected promises, so the
// handlers pass errors to next() as Express 4 apps must).
const express = require('express');
const { createPrivacy } = require('@purposekit/express');
const { engine, scenarios, main, versionOf } = require('./common.cjs');

main(async () => {
  const e = await engine();
  const privacy = createPrivacy(e.kit, { skip: ['/healthz'] });
  const app = express();
  app.use(express.json());
  app.use(privacy.middleware());
  app.get('/healthz', (req, res) => res.json({ privacy: req.privacy !== undefined }));
  app.get('/status', privacy.purpose('diagnostics'), async (req, res, next) => {
    try {
      await req.privacy.access({ data: ['ip-address'], action: 'read' });
      res.json(req.privacy.logFields());
    } catch (err) {
      next(err);
    }
  });
  app.get('/sell', privacy.purpose('diagnostics'), async (req, res, next) => {
    try {
      await req.privacy.access({ data: ['email'], action: 'share', recipient: 'broker' });
      res.json({ sold: true });
    } catch (err) {
      next(err);
    }
  });
  app.post('/members', privacy.purpose('service.registration'), privacy.ageGate('registration'), (req, res) => res.status(201).json({ ok: true }));
  app.use(privacy.errorHandler());
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  process.stdout.write(`express ${versionOf('express')} on node ${process.version}\n`);
  await scenarios(`http://127.0.0.1:${server.address().port}`, e, () => new Promise((r) => server.close(r)));
});
