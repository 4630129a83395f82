/**
 * `npm start -w apps/coreos-nest-fastify`: the CoreOS reference app on PORT (default
 * 3003), data, consent store and audit trail under PURPOSEKIT_DATA_DIR (default
 * apps/coreos-nest-fastify/.data). TRUST_PROXY (default `loopback`) is Fastify's
 * `trustProxy`: the addresses or ranges of the reverse proxies whose X-Forwarded-For is
 * believed (comma-separated), or `false` for none.
 */
import { join, resolve } from 'node:path';
import pino from 'pino';
import { createIpRedactor, createPinoIpRedaction, coreos } from '@purposekit/core';
import { createApp, listen } from './app';

async function main(): Promise<void> {
  // Every line scrubbed of client addresses (request paths included: `/lookup/198.51.100.42`
  // is logged as `/lookup/198.51.100.0`), with the policy's own truncation.
  const ip = createPinoIpRedaction({ redactor: createIpRedactor(coreos.logs.ip) });
  const logger = pino({ base: { app: 'coreos-nest-fastify' }, serializers: ip.serializers, formatters: ip.formatters, hooks: ip.hooks });
  const rawPort = process.env['PORT'];
  const port = Number(rawPort ?? 3003);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got ${rawPort}`);
  const rawTrust = process.env['TRUST_PROXY'] ?? 'loopback';
  const trustProxy = rawTrust === 'false' ? false : rawTrust;
  const dataDir = resolve(process.env['PURPOSEKIT_DATA_DIR'] ?? resolve(__dirname, '../.data'));
  const h = await createApp({ dataDir, logger, trustProxy });
  await listen(h.app, port, process.env['HOST'] ?? '127.0.0.1');
  const url = `http://localhost:${port}`;
  const json = `-H 'content-type: application/json'`;
  process.stdout.write(
    [
      '',
      `purposekit · CoreOS reference app (NestJS + Fastify) on ${url}  (policy coreos, audit trail in ${h.auditDir})`,
      'Try (from the repository root; each line pastes as written):',
      `  curl -X POST ${url}/signup ${json} -d '{"name":"Ada Lovelace","email":"ada@example.org"}'   # no age gate: CoreOS states none`,
      `  curl -i -X POST ${url}/analytics/events ${json} -d '{"page":"/docs/"}'   # sets the coreos_vid analytics cookie`,
      `  curl -X POST ${url}/email/promotions -H "authorization: Bearer $(cat ${join(dataDir, 'operator-token')})"   # the operator's mailing; then GET /inbox with the token, POST /email/opt-out, and again`,
      `  npm run --silent purposekit -- audit verify ${h.auditDir} --public-key ${h.publicKeyPath}`,
      'The README lists every route. Each request logs one JSON line with its purpose, legal basis and a truncated IP. Ctrl-C stops.',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    // Closes the server, then flushes the audit trail and the consent store.
    h.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`coreos-nest-fastify failed to start: ${err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err)}\n`);
  process.exitCode = 1;
});
