#!/usr/bin/env node
// Micro-benchmarks of IP redaction against the performance budget
// (../../../shared/ARCHITECTURE.md, "Performance budget"):
//   IP truncation ≤ 100 ns (IPv4) and ≤ 600 ns (IPv6), validation included;
//   HMAC pseudonym ≈ 1.7 µs, cache hit ≈ 15 ns;
//   free-text scrubbing ≤ 1.2 µs per clean 200-character line, ≤ 2.5 µs with addresses;
//   scrubbing in pino serializers/formatters ≈ +8 % per log call.
//
// Run:  npx tsc -b packages/core && node tools/bench/ip.bench.mjs
// Env:  BENCH_ROUNDS (default 15), BENCH_MS (target ms per case per round, default 40),
//       BENCH_JSON=1 prints the results as JSON as well.
//
// Method: every case runs in every round, cases interleaved round-robin (so drift and
// noise from other processes spread over all cases instead of landing on one); each
// round times a calibrated batch with process.hrtime.bigint() and yields ns/op. Inputs
// rotate through a small array so no call sees a constant. Reported: median ns/op over
// the rounds, and the spread (min–max) of the rounds.
import { createHmac, createSecretKey } from 'node:crypto';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { Writable } from 'node:stream';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let core;
try {
  core = { ...require(path.join(root, 'packages/core/dist/index.js')), ...require(path.join(root, 'packages/core/dist/adapter.js')) };
} catch (e) {
  console.error('Build the core first: npx tsc -b packages/core\n', e.message);
  process.exitCode = 1;
  throw e;
}
const proxyAddr = require(path.join(root, 'node_modules/proxy-addr'));
const pino = require(path.join(root, 'node_modules/pino'));

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const TARGET_MS = Number(process.env.BENCH_MS ?? 40);

// ── inputs ───────────────────────────────────────────────────────────────────
const V4 = ['192.0.2.33', '198.51.100.7', '203.0.113.255', '10.1.2.3', '172.16.254.1', '8.8.4.4', '100.64.0.1', '81.2.69.160'];
const V6 = [
  '2001:db8:85a3:8d3:1319:8a2e:370:7348',
  '2a02:1205:c6b4:c6e0:51b5:fd73:11a:b13',
  'fe80::1ff:fe23:4567:890a%eth0',
  '2001:db8::1',
  '2606:4700:4700::1111',
  '2001:0db8:0000:0000:0000:ff00:0042:8329',
  '2400:cb00:2048:1::c629:d7a2',
  '2a00:1450:4001:82b::200e',
];
const V6_EMBEDDED = ['::ffff:192.0.2.33', '64:ff9b::198.51.100.7', '2002:c058:6301::1', '2001:0:4136:e378:8000:63bf:3fff:fdd2'];
// 200-character log lines, like an access log: no address / two addresses.
const pad = (s) => (s.length >= 200 ? s.slice(0, 200) : s + ' '.repeat(200 - s.length));
const CLEAN_LINES = [
  pad('2025-06-02T10:00:00.123Z info GET /api/v1/users/42/orders?page=2&sort=desc HTTP/1.1 200 1534 bytes in 12.4ms user-agent="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91"'),
  pad('2025-06-02T10:00:01.456Z warn POST /api/v1/session HTTP/1.1 401 87 bytes in 3.1ms reason=expired-token request_id=8f14e45f-ceea-467f-a0e6-3b4f1d2c5a77 retry=false region=eu-west-1 build=2025.06.01'),
];
const DIRTY_LINES = [
  pad('2025-06-02T10:00:00.123Z info GET /api/v1/users/42 HTTP/1.1 200 from 203.0.113.77:51234 via [2001:db8:85a3::8a2e:370:7334]:443 in 12.4ms ua="Mozilla/5.0 (X11; Linux x86_64)"'),
  pad('2025-06-02T10:00:01.456Z warn POST /api/v1/session 401 x-forwarded-for="198.51.100.7, 10.1.2.3" request_id=8f14e45f-ceea-467f-a0e6-3b4f1d2c5a77 in 3.1ms'),
];

// ── subjects ─────────────────────────────────────────────────────────────────
const policyTruncate = { mode: 'truncate', ipv4Prefix: 24, ipv6Prefix: 48, keyId: undefined, truncateFirst: false };
const redactor = core.createIpRedactor(policyTruncate);
const keyring = core.createIpKeyring({ id: 'bench', secret: Buffer.alloc(32, 7) });
const pseudoMiss = core.createIpPseudonymizer(keyring, { cacheSize: 0 });
const pseudoHit = core.createIpPseudonymizer(keyring);
const rawKey = createSecretKey(Buffer.alloc(32, 7));
const scrub = core.createIpScrubber();
const trustCidr = core.compileTrust('10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16');
const trustCidrProxyAddr = proxyAddr.compile(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']);
const resolver = core.createClientIpResolver({ trust: 'loopback, 10.0.0.0/8' });
const XFF = [
  { 'x-forwarded-for': '198.51.100.7' },
  { 'x-forwarded-for': '6.6.6.6, 203.0.113.77, 10.0.0.2' },
  { 'x-forwarded-for': '2001:db8::1' },
];

const devNull = new Writable({ write: (_c, _e, cb) => cb() });
devNull.write = () => true; // pino's fast path: a sync write that does nothing
const pinoPlain = pino({ base: undefined }, devNull);
const ipPino = core.createPinoIpRedaction({ redactor });
const pinoScrubbed = pino({ base: undefined, serializers: ipPino.serializers, formatters: ipPino.formatters, hooks: ipPino.hooks }, devNull);
const LOG_OBJ = [{ userId: 42, action: 'order.create', items: 3 }, { userId: 7, action: 'login', ok: true }];

let sink = 0;
const take = (s) => {
  sink = (sink + (typeof s === 'string' ? s.length : s ? 1 : 0)) | 0;
};

const cases = [
  { name: 'isIP (node:net), IPv4 — baseline', budget: null, inputs: V4, fn: (x) => take(isIP(x)) },
  { name: 'isIP (node:net), IPv6 — baseline', budget: null, inputs: V6, fn: (x) => take(isIP(x)) },
  { name: 'redactor (policy, truncate), IPv4', budget: 100, inputs: V4, fn: (x) => take(redactor(x)) },
  { name: 'redactIp(ip) convenience, IPv4', budget: 100, inputs: V4, fn: (x) => take(core.redactIp(x)) },
  { name: 'redactor (policy, truncate), IPv6', budget: 600, inputs: V6, fn: (x) => take(redactor(x)) },
  { name: 'redactor, IPv6 embedding IPv4 (mapped/NAT64/6to4/Teredo)', budget: 600, inputs: V6_EMBEDDED, fn: (x) => take(redactor(x)) },
  { name: 'redactor, invalid input (→ token)', budget: 100, inputs: ['unknown', '127.1', '1.2.3.4:80', ''], fn: (x) => take(redactor(x)) },
  { name: 'createHmac(KeyObject) sha256 hex — baseline', budget: null, inputs: V4, fn: (x) => take(createHmac('sha256', rawKey).update(x).digest('hex')) },
  { name: 'pseudonymizeIp, HMAC (cache miss), IPv4', budget: 1700, inputs: V4, fn: (x) => take(pseudoMiss(x)) },
  { name: 'pseudonymizeIp, HMAC (cache miss), IPv6', budget: 1700, inputs: V6, fn: (x) => take(pseudoMiss(x)) },
  { name: 'pseudonymizeIp, cache hit', budget: 15, inputs: V4, fn: (x) => take(pseudoHit(x)) },
  { name: 'scrubIps, clean 200-char line', budget: 1200, inputs: CLEAN_LINES, fn: (x) => take(scrub(x)) },
  { name: 'scrubIps, 200-char line with 2 addresses', budget: 2500, inputs: DIRTY_LINES, fn: (x) => take(scrub(x)) },
  { name: 'compileTrust(CIDR list) match', budget: null, inputs: V4, fn: (x) => take(trustCidr(x, 0)) },
  { name: 'proxy-addr compiled trust match — comparison', budget: null, inputs: V4, fn: (x) => take(trustCidrProxyAddr(x, 0)) },
  { name: 'resolve client (trusted proxy + XFF)', budget: null, inputs: XFF, fn: (h) => take(resolver('10.0.0.1', h)) },
  { name: 'pino logger.info(obj, msg) — baseline', budget: null, inputs: LOG_OBJ, fn: (o) => pinoPlain.info(o, 'order placed') },
  { name: 'pino logger.info(obj, msg) with IP scrubbing', budget: null, inputs: LOG_OBJ, fn: (o) => pinoScrubbed.info(o, 'order placed') },
];

function runBatch(c, n) {
  const { inputs, fn } = c;
  const len = inputs.length;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(inputs[i % len]);
  return Number(process.hrtime.bigint() - t0) / n;
}

// Calibrate a batch size per case (≈ TARGET_MS per round) and warm up (JIT).
for (const c of cases) {
  let n = 1000;
  for (;;) {
    const t0 = process.hrtime.bigint();
    runBatch(c, n);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms >= TARGET_MS / 4 || n > 5e7) {
      c.n = Math.max(1000, Math.round((n * TARGET_MS) / Math.max(ms, 0.01)));
      break;
    }
    n *= 4;
  }
  c.samples = [];
}
for (let r = 0; r < ROUNDS; r++) {
  for (const c of cases) c.samples.push(runBatch(c, c.n));
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (ns) => (ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(1)} ns`);

const results = cases.map((c) => {
  const med = median(c.samples);
  return {
    name: c.name,
    medianNs: Number(med.toFixed(1)),
    minNs: Number(Math.min(...c.samples).toFixed(1)),
    maxNs: Number(Math.max(...c.samples).toFixed(1)),
    budgetNs: c.budget,
    verdict: c.budget === null ? '' : med <= c.budget ? 'within budget' : 'OVER budget',
  };
});

console.log(`node ${process.version}, ${ROUNDS} interleaved rounds, ≈${TARGET_MS} ms per case per round\n`);
const w = Math.max(...results.map((r) => r.name.length));
console.log(`${'case'.padEnd(w)}  ${'median'.padStart(10)}  ${'spread (min–max)'.padStart(22)}  ${'budget'.padStart(9)}  verdict`);
for (const r of results) {
  console.log(
    `${r.name.padEnd(w)}  ${fmt(r.medianNs).padStart(10)}  ${`${fmt(r.minNs)} – ${fmt(r.maxNs)}`.padStart(22)}  ${(r.budgetNs === null ? '' : fmt(r.budgetNs)).padStart(9)}  ${r.verdict}`,
  );
}
const base = results.find((r) => r.name.startsWith('pino logger.info(obj, msg) — baseline'));
const scrubbed = results.find((r) => r.name.startsWith('pino logger.info(obj, msg) with'));
console.log(`\npino overhead of IP scrubbing hooks: +${(((scrubbed.medianNs - base.medianNs) / base.medianNs) * 100).toFixed(1)} % per log call (budget ≈ +8 %)`);
if (process.env.BENCH_JSON) console.log(JSON.stringify(results, null, 2));
if (sink === 42) console.log(''); // keep results observable
