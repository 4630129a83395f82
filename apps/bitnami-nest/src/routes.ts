/**
 * `npm run --silent routes -w apps/bitnami-nest` (after `npm run build`): builds the app as
 * `npm start` does, without listening, on a throw-away data directory; prints its route table
 * (`{ method, path, purpose, categories }[]`, JSON) to stdout for
 * `purposekit ropa bitnami --routes <file>`; closes everything and exits 0.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createIpRedactor, createPinoIpRedaction, bitnami } from '@purposekit/core';
import type { RouteDescription } from '@purposekit/core';
import { createApp } from './app';

/** The app's route table, from a freshly built app (closed again before this returns). */
export async function routeTable(): Promise<RouteDescription[]> {
  const ip = createPinoIpRedaction({ redactor: createIpRedactor(bitnami.logs.ip) });
  // As main.ts's logger, but on stderr: stdout carries only the JSON.
  const logger = pino({ base: { app: 'bitnami-nest' }, serializers: ip.serializers, formatters: ip.formatters, hooks: ip.hooks }, pino.destination(2));
  const dataDir = mkdtempSync(join(tmpdir(), 'purposekit-bitnami-nest-routes-'));
  try {
    const { kit, close } = await createApp({ dataDir, logger });
    try {
      // Initialised by createApp: every controller route's @Purpose / @Accesses is recorded.
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
    process.stderr.write(`bitnami-nest routes failed: ${err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err)}\n`);
    process.exitCode = 1;
  },
);
