import express from 'express';
import type { ErrorRequestHandler } from 'express';
import { pinoHttp } from 'pino-http'; // the named export: the same in CommonJS and ESM projects
import { createFileAuditSink, createPinoHttpOptions, createPurposekit, openKeyDirectory, openinfra } from '@purposekit/core';
import { createPrivacy } from '@purposekit/express';

async function start() {
  // 1. Keys: generated once (`npx @purposekit/cli keys generate --out-dir /etc/myapp/keys`),
  //    kept in your secret store, mounted read-only. A missing file fails here, at start-up.
  const keys = openKeyDirectory(process.env.KEYS_DIR ?? '/etc/myapp/keys');

  // 2. The audit trail: signed, hash-chained JSON lines on a local disk. An access is granted
  //    only once its record is durable (the policy's audit.durability, `sync` by default).
  const audit = await createFileAuditSink({ dir: process.env.AUDIT_DIR ?? '/var/lib/myapp/audit', signingKey: keys.signingKey });

  // 3. The engine: one per process, shared by the middleware, jobs and repositories.
  const kit = createPurposekit({ policy: openinfra, audit, subjectKey: keys.subjectKey, ageGate: { secret: keys.lockoutSecret } });

  // 4. Middleware: the privacy context first, then the request logger, then the body parser
  //    (before any age gate), then the routes, each declaring its purpose.
  const privacy = createPrivacy(kit, { skip: ['/healthz'] });
  const app = express();
  app.set('trust proxy', 1); // one reverse proxy in front: its X-Forwarded-For hop is believed, no other
  app.use(privacy.middleware());
  app.use(pinoHttp({ ...createPinoHttpOptions(kit, { skip: ['/healthz'] }), level: process.env.LOG_LEVEL ?? 'info' }));
  app.use(express.json({ limit: '16kb' }));
  app.get('/healthz', (_req, res) => void res.send('ok'));
  app.get('/status', privacy.purpose('diagnostics'), async (req, res, next) => {
    try {
      await req.privacy!.access({ data: ['ip-address'], action: 'read' });
      res.json({ ip: req.privacy!.clientIp }); // the redacted address, never the full one
    } catch (err) {
      next(err);
    }
  });
  app.post('/members', privacy.purpose('service.registration'), privacy.ageGate('registration'), (_req, res) => void res.status(201).json({ ok: true }));

  // 5. Error handlers, after the routes: purposekit errors become their status and
  //    `{ error: { code, message } }`; anything else is logged and answered 500, without details.
  app.use(privacy.errorHandler());
  const lastResort: ErrorRequestHandler = (err, req, res, _next) => {
    req.log.error({ err }, 'unhandled error');
    res.status(500).json({ error: { code: 'INTERNAL', message: 'Internal error.' } });
  };
  app.use(lastResort);

  const server = app.listen(Number(process.env.PORT ?? 3000));

  // 6. Graceful shutdown: stop accepting requests, let the running ones finish, then close
  //    the engine: kit.close() flushes the trail and ends it with a signed checkpoint, so
  //    `purposekit audit verify` finds no unsigned tail. Idempotent.
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> =>
    (stopping ??= new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))).then(() => kit.close()));
  process.once('SIGTERM', () => {
    shutdown().then(
      () => void (process.exitCode = 0),
      () => void (process.exitCode = 1),
    );
  });
  return { server, shutdown };
}

export const ready = start();
