// The Fastify app of the OpenTelemetry scenario (tools/test-support/otel-driver.ts).
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import type { Purposekit } from '@purposekit/core';
import { privacyOf, purposekit } from '../index';

export async function build(kit: Purposekit): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const app = Fastify();
  await app.register(purposekit, { kit });
  app.get('/ip', { config: { purpose: 'diagnostics' } }, async (request) => privacyOf(request).access({ data: ['ip-address'], action: 'read' }));
  app.get('/email', { config: { purpose: 'diagnostics' } }, async (request) => privacyOf(request).access({ data: ['email'], action: 'read', subject: 'u1' }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { baseUrl: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
}
