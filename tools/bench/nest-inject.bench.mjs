// What @purposekit/nestjs adds to a Nest request, in CPU µs, without sockets or a load
// generator: every variant is a Nest app in this one process, driven by light-my-request
// (Fastify's inject for Nest-Fastify; the Express app's request handler for Nest-Express),
// in interleaved batches, so the machine's load hits every variant alike. The matrix
// (tools/bench/matrix) measures over real HTTP; this harness resolves differences of a few
// µs that its spreads cannot on a shared machine.
//
//   npm run build && node tools/bench/nest-inject.bench.mjs
//   node tools/bench/nest-inject.bench.mjs --before /path/to/an/older/packages/nestjs/dist
//     (adds a variant with that build of @purposekit/nestjs, e.g. the one before a change)
//   BENCH_BATCHES=15 BENCH_BATCH=2000 BENCH_PLATFORMS=express,fastify
//   BENCH_VARIANTS=purposekit (only these, e.g. one per process under --cpu-prof)
//
// Variants: bare (no purposekit), purposekit (PrivacyModule + a route @Purpose, as in the
// matrix's `purposekit` cell), and with --before, purposekit-before. Each request is a GET
// with an X-Forwarded-For from a trusted loopback proxy (as in the matrix).
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const require = createRequire(import.meta.url);
require('reflect-metadata');
const inject = require('light-my-request');
const { Controller, Get, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { ExpressAdapter } = require('@nestjs/platform-express');
const { FastifyAdapter } = require('@nestjs/platform-fastify');
const core = require('@purposekit/core');

const argBefore = process.argv.indexOf('--before');
const beforeDir = argBefore === -1 ? undefined : resolve(process.argv[argBefore + 1]);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 15);
const BATCH = Number(process.env.BENCH_BATCH ?? 2000);
const PLATFORMS = (process.env.BENCH_PLATFORMS ?? 'express,fastify').split(',');

const decorate = (decorators, target, key) => {
  if (key === undefined) return Reflect.decorate(decorators, target);
  Object.defineProperty(target, key, Reflect.decorate(decorators, target, key, Object.getOwnPropertyDescriptor(target, key)));
  return undefined;
};

// A no-op audit sink, as the matrix's `purposekit` cell: measures our code, not a disk.
const NOOP_SINK = {
  async append() {
    // nothing to write
  },
  async flush() {
    // nothing buffered
  },
  async close() {
    // nothing open
  },
};

async function buildApp(platform, nest) {
  let Ctl = class BenchController {
    x() {
      return { ok: true };
    }
  };
  decorate([Get('x')], Ctl.prototype, 'x');
  const imports = [];
  if (nest) {
    const kit = core.createPurposekit({ policy: core.openinfra, audit: NOOP_SINK, subjectKey: { id: 'b', secret: 'x'.repeat(32) } });
    Ctl = decorate([nest.Purpose('diagnostics'), Controller()], Ctl);
    imports.push(nest.PrivacyModule.forRoot({ kit }));
  } else {
    Ctl = decorate([Controller()], Ctl);
  }
  // As the matrix's app module: it declares configure() (a logger in some variants).
  class AppModule {
    configure() {
      // applies no middleware (the matrix's app module applies a logger in some variants)
    }
  }
  decorate([Module({ imports, controllers: [Ctl] })], AppModule);
  let adapter;
  if (platform === 'express') {
    adapter = new ExpressAdapter();
    adapter.getInstance().set('trust proxy', 'loopback');
  } else {
    adapter = new FastifyAdapter({ trustProxy: '127.0.0.1' });
  }
  const app = await NestFactory.create(AppModule, adapter, { logger: false });
  await app.init();
  const instance = app.getHttpAdapter().getInstance();
  if (platform === 'fastify') await instance.ready();
  const dispatch = platform === 'express' ? instance : (req, res) => instance.routing(req, res);
  return { app, dispatch };
}

const REQUEST = { method: 'GET', url: '/x', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.9', 'user-agent': 'purposekit-bench/1', accept: 'application/json' } };

async function batch(dispatch, n) {
  const t = process.cpuUsage();
  for (let i = 0; i < n; i += 16) {
    const rounds = [];
    for (let j = 0; j < 16 && i + j < n; j++) rounds.push(inject(dispatch, REQUEST));
    const res = await Promise.all(rounds);
    if (res[0].statusCode !== 200) throw new Error(`status ${res[0].statusCode}: ${res[0].payload}`);
  }
  const d = process.cpuUsage(t);
  return (d.user + d.system) / n;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const variants = [['bare', undefined], ['purposekit', require('@purposekit/nestjs')]];
if (beforeDir !== undefined) variants.push(['purposekit-before', require(resolve(beforeDir, 'index.js'))]);
const only = process.env.BENCH_VARIANTS?.split(',');
if (only !== undefined) variants.splice(0, variants.length, ...variants.filter(([name]) => only.includes(name)));

console.log(`node ${process.version}, ${BATCHES} interleaved batches × ${BATCH} requests per variant (CPU µs per request: median, min–max of batches; added: median of per-batch differences to bare)`);
for (const platform of PLATFORMS) {
  const apps = [];
  for (const [name, nest] of variants) apps.push({ name, ...(await buildApp(platform, nest)), cpu: [] });
  for (const a of apps) await batch(a.dispatch, BATCH); // warm-up
  for (let b = 0; b < BATCHES; b++) {
    const order = b % 2 === 0 ? apps : [...apps].reverse();
    for (const a of order) a.cpu.push(await batch(a.dispatch, BATCH));
  }
  console.log(`\nnest-${platform}`);
  const bare = apps.find((a) => a.name === 'bare')?.cpu ?? apps[0].cpu;
  for (const a of apps) {
    const added = a.cpu.map((c, i) => c - bare[i]);
    console.log(`  ${a.name.padEnd(18)} ${median(a.cpu).toFixed(2).padStart(7)} µs (${Math.min(...a.cpu).toFixed(1)}–${Math.max(...a.cpu).toFixed(1)})${a.cpu === bare ? '' : `   added ${median(added).toFixed(2)} µs (${Math.min(...added).toFixed(1)} to ${Math.max(...added).toFixed(1)})`}`);
  }
  for (const a of apps) await a.app.close();
}
