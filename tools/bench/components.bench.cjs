// Component costs on the per-request path, in isolation (no HTTP): what purposekit's own
// code costs, separated from the framework and from AsyncLocalStorage's process-wide cost
// that middleware.bench.mjs measures over real HTTP.
//
// Method: each case warms up, then runs a fixed loop timed with hrtime; the median of
// ROUNDS (default 7) rounds is reported in ns (µs for access()).
// Run: npm run build && node tools/bench/components.bench.cjs
'use strict';
const path = require('node:path');
const root = path.resolve(__dirname, '../..');
const { AsyncLocalStorage } = require('node:async_hooks');
const { randomUUID } = require('node:crypto');
const express = require(path.join(root, 'node_modules/express'));
const { createPurposekit, openinfra } = require(path.join(root, 'packages/core/dist/index.js'));
const { begin, compileTrust } = require(path.join(root, 'packages/core/dist/adapter.js'));
const { createPrivacy } = require(path.join(root, 'packages/express/dist/index.js'));

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const noSink = { async append() {}, async flush() {}, async close() {} };
const kit = createPurposekit({ policy: openinfra, audit: noSink, subjectKey: { id: 'b', secret: 'x'.repeat(32) } });
const headers = { host: 'x', 'x-forwarded-for': '203.0.113.9', 'user-agent': 'bench', accept: '*/*' };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function time(name, fn, n = 200000) {
  for (let i = 0; i < 20000; i++) fn();
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    rounds.push(Number(process.hrtime.bigint() - t) / n);
  }
  console.log(`${name.padEnd(48)} ${median(rounds).toFixed(0).padStart(6)} ns`);
}

const trust = compileTrust('loopback');
const als = new AsyncLocalStorage();
const app = express();
app.set('trust proxy', 'loopback');
const mw = createPrivacy(kit).middleware();
const socket = { remoteAddress: '127.0.0.1' };
const next = () => undefined;

console.log(`node ${process.version}`);
time('crypto.randomUUID (the request id)', () => randomUUID());
time('AsyncLocalStorage.run alone', () => als.run({}, next));
time('kit.begin (trusted proxy + XFF, truncation)', () => begin(kit, { headers, remoteAddress: '127.0.0.1', trust }));
time('kit.begin (IPv4-mapped socket address)', () => begin(kit, { headers, remoteAddress: '::ffff:127.0.0.1', trust }));
time('express privacy.middleware() (new req each call)', () => mw({ app, headers, socket, method: 'GET', url: '/x' }, {}, next));

(async () => {
  await kit.runAs({ purpose: 'diagnostics', actor: 'bench' }, async () => {
    const N = 100000;
    for (let i = 0; i < 10000; i++) await kit.access({ data: ['ip-address'], action: 'read', subject: `u${i % 100}` });
    const c = process.cpuUsage();
    for (let i = 0; i < N; i++) await kit.access({ data: ['ip-address'], action: 'read', subject: `u${i % 100}` });
    const d = process.cpuUsage(c);
    console.log(`${'kit.access (decision + event, no-op sink)'.padEnd(48)} ${((d.user + d.system) / N).toFixed(2).padStart(6)} µs CPU`);
  });
})();
