/**
 * `npm start`: the OpenInfra reference app on PORT (default 3000), data and audit trail
 * under PURPOSEKIT_DATA_DIR (default apps/openinfra-express/.data). With DATABASE_URL,
 * the audit trail, consent and rights register are in PostgreSQL (this instance writes
 * the audit stream PURPOSEKIT_INSTANCE, default openinfra-1; instances share the key
 * directory PURPOSEKIT_KEYS_DIR; schema PURPOSEKIT_PG_SCHEMA, default purposekit).
 */
import { resolve } from 'node:path';
import pino from 'pino';
import { createIpRedactor, createPinoIpRedaction, openinfra } from '@purposekit/core';
import { createApp, listen } from './app';

async function main(): Promise<void> {
  // Every line scrubbed of client addresses (request paths included: `/lookup/198.51.100.42`
  // is logged as `/lookup/198.51.100.0`), with the policy's own truncation.
  const ip = createPinoIpRedaction({ redactor: createIpRedactor(openinfra.logs.ip) });
  const logger = pino({ base: { app: 'openinfra-express' }, serializers: ip.serializers, formatters: ip.formatters, hooks: ip.hooks });
  const port = Number(process.env['PORT'] ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got ${process.env['PORT']}`);
  const dataDir = resolve(process.env['PURPOSEKIT_DATA_DIR'] ?? resolve(__dirname, '../.data'));
  const databaseUrl = process.env['DATABASE_URL'];
  const instance = process.env['PURPOSEKIT_INSTANCE'];
  const keysDir = process.env['PURPOSEKIT_KEYS_DIR'];
  const databaseSchema = process.env['PURPOSEKIT_PG_SCHEMA'];
  const { app, close, auditDir, publicKeyPath } = await createApp({
    dataDir,
    logger,
    ...(databaseUrl === undefined || databaseUrl === '' ? {} : { databaseUrl }),
    ...(instance === undefined ? {} : { instance }),
    ...(databaseSchema === undefined ? {} : { databaseSchema }),
    ...(keysDir === undefined ? {} : { keysDir: resolve(keysDir) }),
  });
  const server = await listen(app, port, process.env['HOST'] ?? '127.0.0.1');
  const url = `http://localhost:${port}`;
  process.stdout.write(
    [
      '',
      `purposekit · OpenInfra reference app on ${url}  (policy openinfra, audit trail in ${auditDir})`,
      'Try (from the repository root; each line pastes as written):',
      `  curl ${url}/status                      # purpose diagnostics, basis legitimate-interests`,
      `  curl -X POST ${url}/members -H 'content-type: application/json' -d '{"name":"Ada","email":"ada@example.org","dateOfBirth":"1990-04-01","directory":true}'`,
      `  curl -X POST ${url}/members -H 'content-type: application/json' -d '{"name":"Kid","email":"k@example.org","dateOfBirth":"2012-01-01"}'   # refused, neutrally`,
      `  curl ${url}/members/directory           # only members who opted in`,
      `  curl -X POST ${url}/newsletter -H 'content-type: application/json' -d '{"name":"Bo","email":"bo@example.org","dateOfBirth":"2000-01-01"}'`,
      databaseUrl === undefined || databaseUrl === ''
        ? `  npm run --silent purposekit -- audit verify ${auditDir} --public-key ${publicKeyPath}`
        : `  PURPOSEKIT_PG_URL="$DATABASE_URL" npm run --silent purposekit -- audit verify${databaseSchema === undefined ? '' : ` --schema ${databaseSchema}`} --public-key ${publicKeyPath}   # every instance's stream`,
      'Each request logs one JSON line with its purpose, legal basis and a truncated IP. Ctrl-C stops.',
      '',
    ].join('\n'),
  );
  const stop = (): void => {
    server.close(() => {
      close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`openinfra-express failed to start: ${err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err)}\n`);
  process.exitCode = 1;
});
