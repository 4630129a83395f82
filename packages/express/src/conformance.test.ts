import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { runConformanceSuite } from '@purposekit/testing';
import type { AdapterHarness } from '@purposekit/testing';
import { createPrivacy, createRightsRouter } from './index';

const harness: AdapterHarness = {
  async start(spec) {
    const privacy = createPrivacy(spec.kit, { onWarning: spec.onWarning, onServerError: spec.onServerError });
    const app = express();
    if (spec.trustProxy === 'loopback') app.set('trust proxy', 'loopback');
    app.use(express.json());
    app.use(privacy.middleware());
    if (spec.mountTwice) app.use(privacy.middleware());
    app.use((req, res, next) => {
      res.on('finish', () => spec.logRequest(req.privacy, res.statusCode, req.body));
      next();
    });
    const rights = spec.rights;
    if (rights !== undefined) app.use(createRightsRouter(spec.kit, { ...rights.options, getSubject: (req) => rights.subjectFrom(req.headers) }));
    for (const r of spec.routes) {
      const chain = [
        ...(r.purpose !== undefined ? [privacy.purpose(r.purpose)] : []),
        ...(r.ageGate !== undefined ? [privacy.ageGate(r.ageGate)] : []),
      ];
      const handler = (req: Request, res: Response, next: NextFunction): void => {
        r.handle({ privacy: req.privacy, body: req.body, url: req.originalUrl }).then(({ status, body }) => {
          res.status(status).json(body);
        }, next);
      };
      if (r.method === 'GET') app.get(r.path, ...chain, handler);
      else app.post(r.path, ...chain, handler);
    }
    app.use(privacy.errorHandler());
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    return {
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
    };
  },
};

runConformanceSuite('express', harness);
