/**
 * `npm run --silent routes -w apps/coreos-nest-fastify` (after `npm run build`): builds the app as
 * `npm start` does, without listening, on a throw-away data directory; prints its route table
 * (`{ method, path, purpose, categories }[]`, JSON) to stdout for
 * `purposekit ropa coreos --routes <file>`; closes everything and exits 0.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createIpRedactor, createPinoIpRedaction, coreos } from '@purposekit/core';
import type { RouteDescription } from '@purposekit/core';
import { createApp } from './app';

/** The app's route table, from a freshly built app (closed again before this returns). */
export async function routeTable(): Promise<RouteDescription[]> {
  const ip = createPinoIpRedaction({ redactor: createIpRedactor(coreos.logs.ip) });
  // As main.ts's logger, but on stderr: stdout carries only the JSON.
  const logger = pino({ base: { app: 'coreos-nest-fastify' }, serializers: ip.serializers, formatters: ip.formatters, hooks: ip.hooks }, pino.destination(2));
  const dataDir = mkdtempSync(join(tmpdir(), 'purposekit-coreos-nest-fastify-routes-'));
  try {
    const { app, kit, close } = await createApp({ dataDir, logger, trustProxy: 'loopback' });
    try {
      // What listen() does first, without listening: controllers resolved, routes recorded.
      await app.init();
      return kit.describeRoutes();
    } finally {
      await close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

routeTable().then(
  (routes) => {
    process.stdout.write(`${JSON.stringify(routes, null, 2)}\n`);
  },
  (err: unknown) => {
    process.stderr.write(`coreos-nest-fastify routes failed: ${err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err)}\n`);
    process.exitCode = 1;
  },
);
