// purposekit's own per-request path, in process (no HTTP, no framework request parsing),
// for the cuts of issue 18 that are ours to make: what each fast path saves against the
// plain path it replaces, and what the Express and Koa middleware cost per request.
//
// - request id: the default generator against the formula it replaced
//   (`prefix + counter.toString(16).padStart(12, '0')`, written out here);
// - client address: `begin` with `connection` (keep-alive repeat: the memo answers)
//   against `begin` without it (full resolution), for an IPv4 and an IPv4-mapped peer,
//   and with a new connection object per request (the memo's worst case);
// - the Express middleware + `privacy.purpose()` and the Koa middleware + `purpose()`,
//   one new request object per call on one socket, as a keep-alive connection sends them.
//
// Method: each case warms up, then ROUNDS (default 7) timed loops; the median ns per call.
// Run: npm run build && node tools/bench/hotpath.bench.cjs
'use strict';
const path = require('node:path');
const { randomUUID } = require('node:crypto');
// BENCH_ROOT: another checkout's built packages (e.g. main, to compare before and after).
const root = process.env.BENCH_ROOT ?? path.resolve(__dirname, '../..');
const express = require(path.join(root, 'node_modules/express'));
const Koa = require(path.join(root, 'node_modules/koa'));
const { createPurposekit, openinfra } = require(path.join(root, 'packages/core/dist/index.js'));
const { begin, compileTrust } = require(path.join(root, 'packages/core/dist/adapter.js'));
const { nextRequestId } = require(path.join(root, 'packages/core/dist/request-id.js'));
const expressAdapter = require(path.join(root, 'packages/express/dist/index.js'));
const koaAdapter = require(path.join(root, 'packages/koa/dist/index.js'));

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
let sink = 0;

function timeSync(name, fn, n = 300_000) {
  for (let i = 0; i < 30_000; i++) fn();
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    rounds.push(Number(process.hrtime.bigint() - t) / n);
  }
  console.log(`${name.padEnd(64)} ${median(rounds).toFixed(0).padStart(6)} ns`);
}

async function timeAsync(name, fn, n = 200_000) {
  for (let i = 0; i < 20_000; i++) await fn();
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await fn();
    rounds.push(Number(process.hrtime.bigint() - t) / n);
  }
  console.log(`${name.padEnd(64)} ${median(rounds).toFixed(0).padStart(6)} ns`);
}

const noSink = { async append() {}, async flush() {}, async close() {} };
const kit = createPurposekit({ policy: openinfra, audit: noSink, subjectKey: { id: 'b', secret: 'x'.repeat(32) } });
const headers = () => ({ host: 'x', 'x-forwarded-for': '203.0.113.9', 'user-agent': 'bench', accept: '*/*' });

console.log(`node ${process.version}`);

// Request ids. Each id is read once (charCodeAt) so that both forms pay their flattening.
let prefix = randomUUID().slice(0, 24);
let counter = 0;
const padStartId = () => prefix + (++counter).toString(16).padStart(12, '0');
timeSync('request id: toString(16) + padStart (before)', () => (sink += padStartId().charCodeAt(35)));
timeSync('request id: nextRequestId (cached head + byte table)', () => (sink += nextRequestId().charCodeAt(35)));

// Client address: full resolution vs the per-connection memo, same engine.
const trust = compileTrust('loopback');
for (const peer of ['127.0.0.1', '::ffff:127.0.0.1']) {
  const socket = {};
  timeSync(`begin, peer ${peer} + XFF: full resolution (no connection)`, () => begin(kit, { headers: headers(), remoteAddress: peer, trust }));
  timeSync(`begin, peer ${peer} + XFF: keep-alive repeat (connection)`, () => begin(kit, { headers: headers(), remoteAddress: peer, trust, connection: socket }));
}
// The memo's worst case: a new connection for every request (Connection: close).
timeSync('begin, peer 127.0.0.1 + XFF: a new connection each request', () => begin(kit, { headers: headers(), remoteAddress: '127.0.0.1', trust, connection: {} }));

// Express: middleware + route purpose, a new request object per call on one socket.
{
  const app = express();
  app.set('trust proxy', 'loopback');
  const privacy = expressAdapter.createPrivacy(kit);
  const mw = privacy.middleware();
  const purpose = privacy.purpose('diagnostics');
  const socket = { remoteAddress: '127.0.0.1' };
  const done = () => undefined;
  timeSync('express: middleware() + purpose(), one socket', () => {
    const req = { app, headers: headers(), socket, method: 'GET', url: '/x', originalUrl: '/x' };
    mw(req, {}, () => purpose(req, {}, done));
  });
}

// Koa: middleware + route purpose, a new context per call on one socket.
(async () => {
  const app = new Koa({ proxy: true, maxIpsCount: 1 });
  const privacy = koaAdapter.createPrivacy(kit);
  const mw = privacy.middleware();
  const purpose = privacy.purpose('diagnostics');
  const socket = { remoteAddress: '127.0.0.1' };
  const done = () => Promise.resolve();
  await timeAsync('koa: middleware() + purpose(), one socket (awaited)', () => {
    const ctx = { app, method: 'GET', url: '/x', originalUrl: '/x', state: {}, req: { headers: headers(), socket } };
    return mw(ctx, () => purpose(ctx, done));
  });
  if (sink === 0.5) console.log(sink);
})();
