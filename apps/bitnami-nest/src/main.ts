/**
 * `npm start -w apps/bitnami-nest`: the Bitnami reference app on PORT (default 3002),
 * data, consent records and audit trail under PURPOSEKIT_DATA_DIR (default
 * apps/bitnami-nest/.data).
 */
import 'reflect-metadata';
import { resolve } from 'node:path';
import pino from 'pino';
import { createIpRedactor, createPinoIpRedaction, bitnami } from '@purposekit/core';
import { createApp, listen } from './app';

async function main(): Promise<void> {
  // Every line scrubbed of client addresses (request paths included: `/lookup/198.51.100.42`
  // is logged as `/lookup/198.51.100.0`), with the policy's own truncation.
  const ip = createPinoIpRedaction({ redactor: createIpRedactor(bitnami.logs.ip) });
  const logger = pino({ base: { app: 'bitnami-nest' }, serializers: ip.serializers, formatters: ip.formatters, hooks: ip.hooks });
  const port = Number(process.env['PORT'] ?? 3002);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got ${process.env['PORT']}`);
  const dataDir = resolve(process.env['PURPOSEKIT_DATA_DIR'] ?? resolve(__dirname, '../.data'));
  const { app, close, auditDir, publicKeyPath } = await createApp({ dataDir, logger });
  await listen(app, port, process.env['HOST'] ?? '127.0.0.1');
  const url = `http://localhost:${port}`;
  const json = "-H 'content-type: application/json'";
  process.stdout.write(
    [
      '',
      `purposekit · Bitnami reference app (NestJS, Express platform) on ${url}  (policy bitnami, audit trail in ${auditDir})`,
      'Try (from the repository root; each line pastes as written; apps/bitnami-nest/README.md has every route):',
      `  ADA=$(curl -s -X POST ${url}/accounts ${json} -d '{"name":"Ada","email":"ada@example.org","username":"ada","dateOfBirth":"1990-04-01"}' | node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).id'); echo $ADA   # registers Ada; her id is the demo bearer token`,
      `  curl -X POST ${url}/accounts ${json} -d '{"name":"Kid","email":"kid@example.org","username":"kid","dateOfBirth":"2019-06-01"}'   # refused, neutrally`,
      `  curl -X POST ${url}/orders ${json} -H "authorization: Bearer $ADA" -d '{"product":"Stacksmith","quantity":1,"card":{"number":"4242 4242 4242 4242"},"dateOfBirth":"1990-04-01"}'`,
      `  curl -X POST ${url}/partners/share        # denied: "We do not sell, trade, or otherwise transfer to outside parties"`,
      `  curl -H 'DNT: 1' ${url}/privacy/dnt        # how the service treats Do Not Track (CalOPPA)`,
      `  npm run --silent purposekit -- audit verify ${auditDir} --public-key ${publicKeyPath}`,
      'Each request logs one JSON line with its purpose, legal basis and a truncated IP. Ctrl-C stops.',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    // Closes the server, then flushes the consent store and the audit trail (a final checkpoint).
    close().then(
      () => {
        process.exitCode = 0;
      },
      (err: unknown) => {
        process.stderr.write(`bitnami-nest did not close cleanly: ${err instanceof Error ? err.name : 'error'}\n`);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`bitnami-nest failed to start: ${err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err)}\n`);
  process.exitCode = 1;
});
