/**
 * `npm run --silent routes -w apps/kubevirt-koa` (after `npm run build`): builds the app as
 * `npm start` does, without listening, on a throw-away data directory; prints its route table
 * (`{ method, path, purpose, categories }[]`, JSON) to stdout for
 * `purposekit ropa kubevirt --routes <file>`; closes everything and exits 0.
 */
import { createPrivacy } from '@purposekit/koa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createIpRedactor, createPinoIpRedaction, kubevirt } from '@purposekit/core';
import type { RouteDescription } from '@purposekit/core';
import { createApp } from './app';

/** The app's route table, from a freshly built app (closed again before this returns). */
export async function routeTable(): Promise<RouteDescription[]> {
  const ip = createPinoIpRedaction({ redactor: createIpRedactor(kubevirt.logs.ip) });
  // As main.ts's logger, but on stderr: stdout carries only the JSON.
  const logger = pino({ base: { app: 'kubevirt-koa' }, serializers: ip.serializers, formatters: ip.formatters, hooks: ip.hooks }, pino.destination(2));
  const dataDir = mkdtempSync(join(tmpdir(), 'purposekit-kubevirt-koa-routes-'));
  try {
    const { app, kit, close } = await createApp({ dataDir, logger, proxyHops: 0 });
    try {
      // The app mounts its @koa/router with `app.use(router.routes())`; that middleware
      // carries its router (`dispatch.router`, @koa/router's own reference).
      const routers = app.middleware.map((fn) => (fn as { router?: object }).router).filter((r): r is object => r !== undefined);
      if (routers.length === 0) throw new Error('the app mounts no @koa/router router');
      const privacy = createPrivacy(kit, { onWarning: (message, code) => logger.warn({ code }, message) });
      for (const router of routers) privacy.describeRoutes(router);
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
    process.stderr.write(`kubevirt-koa routes failed: ${err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err)}\n`);
    process.exitCode = 1;
  },
);
