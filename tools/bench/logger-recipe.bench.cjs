#!/usr/bin/env node
// The logger recipe per request, without HTTP: what pino-http costs alone, with
// createPinoIpRedaction (docs/ip-redaction.md) and with createPinoHttpOptions, for one
// request that pino-http logs once (the completion line) plus one line logged inside the
// request (`req.log.info(...)`), and the same with a plain pino logger (Fastify's case:
// the serializers see the request, then one completion line).
//
// Run:  npm run build && node tools/bench/logger-recipe.bench.cjs
// Env:  BENCH_ROUNDS (default 15), BENCH_MS (target ms per case per round, default 40)
//
// Method (as ip.bench.mjs): every case in every round, interleaved, calibrated batches
// timed by process CPU time (process.cpuUsage); median CPU ns per request (spread = min–max of rounds) and the ratio to
// the case's baseline (pino-http alone, or pino alone) in the same round. The request and
// response are plain objects shaped like Express's (method, url, originalUrl, headers,
// socket, query, params; getHeaders, statusCode, headersSent, events): pino and pino-http
// see what they see over HTTP, and only the logger's work is timed (no sockets, no parser).
// The privacy context is begun once per request by the core's adapter API, as an adapter
// does, so the purposekit case includes `begin` and AsyncLocalStorage (the middleware's own
// cost, without its framework glue).
'use strict';
const path = require('node:path');
const { EventEmitter } = require('node:events');
const { Writable } = require('node:stream');

const root = path.join(__dirname, '..', '..');
const core = require(path.join(root, 'packages/core/dist/index.js'));
const adapter = require(path.join(root, 'packages/core/dist/adapter.js'));
const pino = require(path.join(root, 'node_modules/pino'));
const pinoHttp = require(path.join(root, 'node_modules/pino-http'));

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const TARGET_MS = Number(process.env.BENCH_MS ?? 40);

const devNull = new Writable({ write: (_c, _e, cb) => cb() });
devNull.write = () => true; // pino's fast path: a sync write that does nothing

const kit = core.createPurposekit({ policy: core.openinfra, audit: { async append() {}, async flush() {}, async close() {} }, subjectKey: { id: 'b', secret: 'x'.repeat(32) } });
const declaration = adapter.declarePurpose(kit, 'diagnostics');

const CLIENTS = ['203.0.113.9', '198.51.100.7', '2001:db8:85a3::7', '192.0.2.33'];
let seq = 0;
function request() {
  const client = CLIENTS[seq++ & 3];
  const headers = { host: '127.0.0.1:3000', connection: 'keep-alive', 'x-forwarded-for': client, 'user-agent': 'purposekit-bench/1', accept: 'application/json' };
  return {
    method: 'GET',
    url: '/x?page=2',
    originalUrl: '/x?page=2',
    headers,
    socket: { remoteAddress: '127.0.0.1', remotePort: 51234 },
    query: {},
    params: {},
  };
}
class Res extends EventEmitter {
  constructor() {
    super();
    this.statusCode = 200;
    this.headersSent = false;
    this.writableEnded = false;
    this.socket = {};
    this.h = { 'content-type': 'application/json; charset=utf-8', 'content-length': '27', etag: 'W/"1b-abc"' };
  }
  setHeader() {}
  getHeaders() {
    return { ...this.h };
  }
}

const options = core.createPinoHttpOptions(kit);
const ip = core.createPinoIpRedaction({ redactor: core.createIpRedactor(core.openinfra.logs.ip) });
function httpLogger(kind) {
  if (kind === 'alone') return pinoHttp({ logger: pino(devNull) });
  const o = kind === 'recipe' ? { serializers: ip.serializers, formatters: ip.formatters, hooks: ip.hooks } : options;
  const { serializers, formatters, hooks, mixin, ...http } = o;
  const logger = pino({ serializers, formatters, hooks, ...(mixin ? { mixin } : {}) }, devNull);
  return pinoHttp({ ...http, logger, serializers });
}
function plainLogger(kind) {
  if (kind === 'alone') return pino(devNull);
  const o = kind === 'recipe' ? { serializers: ip.serializers, formatters: ip.formatters, hooks: ip.hooks } : options;
  return pino({ serializers: o.serializers, formatters: o.formatters, hooks: o.hooks, ...(o.mixin ? { mixin: o.mixin } : {}) }, devNull);
}

const trustLoopback = adapter.compileTrust('loopback');

/** One request through pino-http: middleware, a line inside the request, the completion line. */
function viaPinoHttp(mw, withKit) {
  return () => {
    const req = request();
    const res = new Res();
    // Over HTTP the response's 'finish' runs in the async context of res.end() (the
    // request's, on Express), so it is emitted inside the handler's context here.
    const handle = () => {
      mw(req, res, () => req.log.info('handled'));
      res.headersSent = true;
      res.writableEnded = true;
      res.emit('finish');
    };
    if (withKit) {
      const ctx = adapter.begin(kit, { headers: req.headers, remoteAddress: req.socket.remoteAddress, trust: trustLoopback });
      req.privacy = ctx;
      adapter.applyPurpose(kit, ctx, declaration);
      adapter.runInContext(kit, ctx, handle);
    } else handle();
  };
}

/** Fastify's pattern: a child logger per request bound to the request, one completion line. */
function viaPino(logger, withKit) {
  return () => {
    const req = request();
    const res = new Res();
    const handle = () => {
      const log = logger.child({ reqId: 'req-1' });
      log.info({ req }, 'incoming request');
      log.info({ res, responseTime: 1.2 }, 'request completed');
    };
    if (withKit) {
      const ctx = adapter.begin(kit, { headers: req.headers, remoteAddress: req.socket.remoteAddress, trust: trustLoopback });
      req.privacy = ctx;
      adapter.applyPurpose(kit, ctx, declaration);
      adapter.runInContext(kit, ctx, handle);
    } else handle();
  };
}

const CASES = [
  { name: 'pino-http alone', group: 'pino-http', base: true, fn: viaPinoHttp(httpLogger('alone'), false) },
  { name: 'pino-http + createPinoIpRedaction', group: 'pino-http', fn: viaPinoHttp(httpLogger('recipe'), false) },
  { name: 'pino-http + createPinoHttpOptions (no context)', group: 'pino-http', fn: viaPinoHttp(httpLogger('options'), false) },
  { name: 'purposekit context + pino-http + createPinoHttpOptions', group: 'pino-http', fn: viaPinoHttp(httpLogger('options'), true) },
  { name: 'purposekit context + pino-http alone', group: 'pino-http', fn: viaPinoHttp(httpLogger('alone'), true) },
  { name: 'pino alone (Fastify pattern)', group: 'pino', base: true, fn: viaPino(plainLogger('alone'), false) },
  { name: 'pino + createPinoIpRedaction', group: 'pino', fn: viaPino(plainLogger('recipe'), false) },
  { name: 'purposekit context + pino + createPinoHttpOptions parts', group: 'pino', fn: viaPino(plainLogger('options'), true) },
  { name: 'purposekit context + pino + createPinoIpRedaction', group: 'pino', fn: viaPino(plainLogger('recipe'), true) },
  // What the privacy fields on every line cost pino itself, with no redaction at all.
  { name: 'purposekit context + pino + a mixin of the privacy fields only', group: 'pino', fn: viaPino(pino({ mixin: () => core.getPrivacyContext()?.logFields() ?? {} }, devNull), true) },
  { name: 'purposekit context + pino alone', group: 'pino', fn: viaPino(plainLogger('alone'), true) },
];

if (process.env.BENCH_ONLY !== undefined) {
  // Profiling aid: one case in a loop (node --cpu-prof tools/bench/logger-recipe.bench.cjs).
  const c = CASES[Number(process.env.BENCH_ONLY)];
  const end = Date.now() + TARGET_MS * ROUNDS;
  let n = 0;
  while (Date.now() < end) {
    for (let i = 0; i < 1000; i++) c.fn();
    n += 1000;
  }
  console.log(`${c.name}: ${n} requests`);
  process.exit(0);
}

// CPU time of this process (user + system), not wall time: on a shared machine the wall
// clock of a batch counts the time other processes held the core.
function timeBatch(fn, n) {
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const d = process.cpuUsage(t0);
  return ((d.user + d.system) * 1000) / n;
}

for (const c of CASES) {
  let n = 64;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) c.fn();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms >= TARGET_MS / 4) {
      c.n = Math.max(64, Math.round((n * TARGET_MS) / ms));
      break;
    }
    n *= 2;
  }
  c.rounds = [];
  c.ratios = [];
}
for (let r = 0; r < ROUNDS; r++) {
  const order = CASES.map((_, i) => CASES[(i + r) % CASES.length]);
  const perRound = new Map();
  for (const c of order) {
    const ns = timeBatch(c.fn, c.n);
    c.rounds.push(ns);
    perRound.set(c, ns);
  }
  for (const c of CASES) {
    const base = CASES.find((b) => b.base && b.group === c.group);
    c.ratios.push(perRound.get(c) / perRound.get(base));
  }
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
console.log(`node ${process.version}, ${ROUNDS} rounds, ≈ ${TARGET_MS} ms per case per round`);
console.log('| case | ns per request (spread) | vs baseline, same round (spread) |');
console.log('|---|---|---|');
for (const c of CASES) {
  const pct = (x) => `${x >= 1 ? '+' : ''}${((x - 1) * 100).toFixed(1)} %`;
  console.log(`| ${c.name} | ${median(c.rounds).toFixed(0)} (${Math.min(...c.rounds).toFixed(0)}–${Math.max(...c.rounds).toFixed(0)}) | ${c.base ? '—' : `${pct(median(c.ratios))} (${pct(Math.min(...c.ratios))} to ${pct(Math.max(...c.ratios))})`} |`);
}
