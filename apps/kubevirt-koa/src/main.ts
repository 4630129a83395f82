/**
 * `npm start -w apps/kubevirt-koa`: the KubeVirt reference app on PORT (default 3001),
 * data, consent store and audit trail under PURPOSEKIT_DATA_DIR (default
 * apps/kubevirt-koa/.data). PROXY_HOPS (default 0) is the number of reverse proxies in
 * front of it, i.e. how many X-Forwarded-For hops to trust.
 */
import { resolve } from 'node:path';
import pino from 'pino';
import { createIpRedactor, createPinoIpRedaction, kubevirt } from '@purposekit/core';
import { createApp, listen } from './app';

function intFromEnv(name: string, fallback: number, max: number): number {
  const raw = process.env[name];
  const n = Number(raw ?? fallback);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new Error(`${name} must be an integer from 0 to ${max}, got ${raw}`);
  return n;
}

async function main(): Promise<void> {
  // Every line scrubbed of client addresses (request paths included: `/lookup/198.51.100.42`
  // is logged as `/lookup/198.51.100.0`), with the policy's own truncation.
  const ip = createPinoIpRedaction({ redactor: createIpRedactor(kubevirt.logs.ip) });
  const logger = pino({ base: { app: 'kubevirt-koa' }, serializers: ip.serializers, formatters: ip.formatters, hooks: ip.hooks });
  const port = intFromEnv('PORT', 3001, 65535);
  const proxyHops = intFromEnv('PROXY_HOPS', 0, 16);
  const dataDir = resolve(process.env['PURPOSEKIT_DATA_DIR'] ?? resolve(__dirname, '../.data'));
  const { app, close, auditDir, publicKeyPath } = await createApp({ dataDir, logger, proxyHops });
  const server = await listen(app, port, process.env['HOST'] ?? '127.0.0.1');
  const url = `http://localhost:${port}`;
  const json = `-H 'content-type: application/json'`;
  process.stdout.write(
    [
      '',
      `purposekit · KubeVirt reference app on ${url}  (policy kubevirt, audit trail in ${auditDir})`,
      'Try (from the repository root; each line pastes as written):',
      `  curl ${url}/status                      # purpose diagnostics, basis legitimate-interests`,
      `  TOKEN=$(curl -s -X POST ${url}/accounts ${json} -d '{"name":"Ada Lovelace","email":"ada@example.org","githubHandle":"ada","dateOfBirth":"1990-04-01"}' | node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).token'); echo $TOKEN   # registers Ada; her id is the demo bearer token`,
      `  curl -X POST ${url}/accounts ${json} -d '{"name":"Kid","email":"kid@example.org","dateOfBirth":"2016-01-01"}'   # refused, neutrally`,
      `  curl ${url}/contributors                # the public record: name, email, GitHub handle`,
      `  curl -X POST ${url}/analytics/pageview -H "authorization: Bearer $TOKEN" ${json} -d '{"path":"/docs/"}'   # 403 consent-missing`,
      `  curl -X POST ${url}/analytics/consent -H "authorization: Bearer $TOKEN" ${json} -d '{"state":"given"}'`,
      `  npm run --silent purposekit -- audit verify ${auditDir} --public-key ${publicKeyPath}`,
      'The README lists every route (rights under /privacy). Each request logs one JSON line with its purpose, legal basis and a truncated IP. Ctrl-C stops.',
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
  process.stderr.write(`kubevirt-koa failed to start: ${err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err)}\n`);
  process.exitCode = 1;
});
