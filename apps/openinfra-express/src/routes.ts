/**
 * `npm run --silent routes -w apps/openinfra-express` (after `npm run build`): builds the app as
 * `npm start` does, without listening, on a throw-away data directory; prints its route table
 * (`{ method, path, purpose, categories }[]`, JSON) to stdout for
 * `purposekit ropa openinfra --routes <file>`; closes everything and exits 0.
 */
import { createPrivacy } from '@purposekit/express';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createIpRedactor, createPinoIpRedaction, openinfra } from '@purposekit/core';
import type { RouteDescription } from '@purposekit/core';
import { createApp } from './app';

/** The app's route table, from a freshly built app (closed again before this returns). */
export async function routeTable(): Promise<RouteDescription[]> {
  const ip = createPinoIpRedaction({ redactor: createIpRedactor(openinfra.logs.ip) });
  // As main.ts's logger, but on stderr: stdout carries only the JSON.
  const logger = pino({ base: { app: 'openinfra-express' }, serializers: ip.serializers, formatters: ip.formatters, hooks: ip.hooks }, pino.destination(2));
  const dataDir = mkdtempSync(join(tmpdir(), 'purposekit-openinfra-express-routes-'));
  try {
    const { app, kit, close } = await createApp({ dataDir, logger });
    try {
      // A second adapter on the same engine reads the app's router stack: the same walk as
      // the app's own `privacy.describeRoutes(app)` (it keeps no state of its own).
      return createPrivacy(kit, { onWarning: (message, code) => logger.warn({ code }, message) }).describeRoutes(app);
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
    process.stderr.write(`openinfra-express routes failed: ${err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err)}\n`);
    process.exitCode = 1;
  },
);
