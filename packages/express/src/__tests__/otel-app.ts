// The Express app of the OpenTelemetry scenario (tools/test-support/otel-driver.ts).
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AccessRequest, Purposekit } from '@purposekit/core';
import { createPrivacy } from '../index';

export async function build(kit: Purposekit): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const privacy = createPrivacy(kit);
  const app = express().use(privacy.middleware());
  const access = (request: AccessRequest) => (req: Request, res: Response, next: NextFunction): void => {
    req.privacy!.access(request).then((d) => res.json(d), next);
  };
  app.get('/ip', privacy.purpose('diagnostics'), access({ data: ['ip-address'], action: 'read' }));
  app.get('/email', privacy.purpose('diagnostics'), access({ data: ['email'], action: 'read', subject: 'u1' }));
  app.use(privacy.errorHandler());
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
