// One server of the benchmark matrix: FRAMEWORK × VARIANT, listening on 127.0.0.1:0.
// The parent (run.mjs) asks for CPU readings over IPC, so only this process's CPU is
// counted, never the load generator's.
//
//   node server.cjs <framework> <variant>
//
// Every cell answers GET /x with a small JSON body. The load generator sends
// X-Forwarded-For from a loopback proxy that every framework is told to trust.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');
const { AsyncLocalStorage } = require('node:async_hooks');

const root = path.join(__dirname, '..', '..', '..');
const [framework, variant] = process.argv.slice(2);

/** The frameworks and variants this file knows; `available()` says which can run here. */
const FRAMEWORKS = ['node-http', 'fastify', 'express5', 'express4', 'koa', 'nest-express', 'nest-fastify', 'fastify-native'];
const VARIANTS = ['bare', 'helmet', 'pino-http', 'als', 'purposekit', 'purposekit+access', 'purposekit+durable', 'pino-http+recipe', 'purposekit+logger'];

function tryRequire(id) {
  try {
    return require(id);
  } catch {
    return undefined;
  }
}

/** A pino destination that costs the serialisation but no disk. */
function devNull() {
  return require('pino').destination({ dest: '/dev/null', sync: true });
}

const usesPurposekit = (v) => v.startsWith('purposekit');

/** The engine (and its sink) of a purposekit variant. */
async function makeKit(v) {
  const core = require('@purposekit/core');
  let audit;
  let trailDir;
  if (v === 'purposekit+durable') {
    const { generateKeyPairSync } = require('node:crypto');
    trailDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-matrix-trail-'));
    audit = await core.createFileAuditSink({ dir: trailDir, signingKey: generateKeyPairSync('ed25519').privateKey, durability: 'sync' });
  } else {
    audit = { async append() {}, async flush() {}, async close() {} }; // measures our code, not a disk
  }
  const kit = core.createPurposekit({ policy: core.openinfra, audit, subjectKey: { id: 'b', secret: 'x'.repeat(32) } });
  return { kit, audit, trailDir };
}

/**
 * The logger recipe options for pino-http: `createPinoHttpOptions(kit)` when the core has
 * it (issue: adoption), else the documented recipe (docs/ip-redaction.md: serializers,
 * formatters and hooks of createPinoIpRedaction).
 */
let recipeName;
function recipeOptions(kit) {
  const core = require('@purposekit/core');
  if (kit !== undefined && typeof core.createPinoHttpOptions === 'function') {
    recipeName = 'createPinoHttpOptions';
    return { options: core.createPinoHttpOptions(kit) };
  }
  recipeName = 'createPinoIpRedaction';
  const ip = core.createPinoIpRedaction({ redactor: core.createIpRedactor(core.openinfra.logs.ip) });
  return { options: { serializers: ip.serializers, formatters: ip.formatters, hooks: ip.hooks } };
}

/** pino-http middleware (req, res, next) for a variant, or undefined. */
function pinoHttpFor(v, kit) {
  const pinoHttp = require('pino-http');
  const pino = require('pino');
  if (v === 'pino-http') return pinoHttp({ logger: pino(devNull()) });
  if (v === 'pino-http+recipe' || v === 'purposekit+logger') {
    const { options } = recipeOptions(v === 'purposekit+logger' ? kit : undefined);
    const { serializers, formatters, hooks, mixin, ...httpOptions } = options;
    const logger = pino({ serializers, formatters, hooks, ...(mixin ? { mixin } : {}) }, devNull());
    return pinoHttp({ ...httpOptions, logger, serializers });
  }
  return undefined;
}

/** fastify's own logger options for a variant (Fastify logs through pino itself). */
function fastifyLoggerFor(v, kit) {
  const pino = require('pino');
  if (v === 'pino-http') return pino(devNull());
  if (v === 'pino-http+recipe' || v === 'purposekit+logger') {
    const { options } = recipeOptions(v === 'purposekit+logger' ? kit : undefined);
    const { serializers, formatters, hooks, mixin } = options;
    return pino({ serializers, formatters, hooks, ...(mixin ? { mixin } : {}) }, devNull());
  }
  return undefined;
}

const reply = { ok: true, p: 'diagnostics' };

let trailDir;

async function build() {
  const pk = usesPurposekit(variant) ? await makeKit(variant) : {};
  const kit = pk.kit;
  trailDir = pk.trailDir;
  const access = variant === 'purposekit+access' || variant === 'purposekit+durable';
  const als = new AsyncLocalStorage();

  switch (framework) {
    case 'node-http': {
      if (variant !== 'bare') return undefined;
      const http = require('node:http');
      const body = JSON.stringify(reply);
      return http.createServer((_req, res) => {
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.end(body);
      });
    }
    case 'express5':
    case 'express4': {
      const express = framework === 'express5' ? require('express') : loadExpress4();
      if (express === undefined) return undefined;
      const app = express();
      app.set('trust proxy', 'loopback');
      const pre = [];
      if (variant === 'helmet') pre.push(require('helmet')());
      if (variant === 'als') pre.push((_req, _res, next) => als.run({}, next));
      let privacy;
      if (kit) {
        privacy = require('@purposekit/express').createPrivacy(kit);
        pre.push(privacy.middleware());
      }
      const logger = pinoHttpFor(variant, kit);
      if (logger) pre.push(logger);
      for (const m of pre) app.use(m);
      const route = privacy ? [privacy.purpose('diagnostics')] : [];
      if (access) app.get('/x', ...route, (req, res, next) => void req.privacy.access({ data: ['ip-address'], action: 'read' }).then(() => res.json(reply), next));
      else app.get('/x', ...route, (_req, res) => res.json(reply));
      return require('node:http').createServer(app);
    }
    case 'koa': {
      const Koa = require('koa');
      const Router = require('@koa/router');
      const app = new Koa({ proxy: true, maxIpsCount: 1 });
      const router = new Router();
      if (variant === 'helmet') {
        const h = require('helmet')();
        app.use((ctx, next) => new Promise((resolve, reject) => h(ctx.req, ctx.res, (e) => (e ? reject(e) : resolve()))).then(next));
      }
      if (variant === 'als') app.use((ctx, next) => als.run({}, next));
      let privacy;
      if (kit) {
        privacy = require('@purposekit/koa').createPrivacy(kit);
        app.use(privacy.middleware());
      }
      const logger = pinoHttpFor(variant, kit);
      if (logger) {
        app.use((ctx, next) => {
          logger(ctx.req, ctx.res);
          return next();
        });
      }
      const route = privacy ? [privacy.purpose('diagnostics')] : [];
      router.get('/x', ...route, async (ctx) => {
        if (access) await ctx.state.privacy.access({ data: ['ip-address'], action: 'read' });
        ctx.body = reply;
      });
      app.use(router.routes());
      return require('node:http').createServer(app.callback());
    }
    case 'fastify':
    case 'fastify-native': {
      const Fastify = require('fastify');
      let plugin;
      if (framework === 'fastify-native') {
        plugin = tryRequire('@purposekit/fastify');
        if (plugin === undefined) return undefined;
      } else if (kit) return undefined; // the ceiling: no purposekit variants
      const loggerInstance = fastifyLoggerFor(variant, kit);
      const app = Fastify({ trustProxy: '127.0.0.1', ...(loggerInstance ? { loggerInstance } : {}) });
      if (variant === 'helmet') await app.register(require('@fastify/helmet'));
      if (variant === 'als') app.addHook('onRequest', (_req, _reply, done) => als.run({}, done));
      const routeOpts = {};
      if (kit) {
        const register = plugin.purposekit ?? plugin.default ?? plugin.fastifyPrivacy ?? plugin.privacyPlugin;
        if (typeof register !== 'function') throw new Error(`@purposekit/fastify: no plugin export found (${Object.keys(plugin).join(', ')})`);
        await app.register(register, { kit });
        routeOpts.config = { purpose: 'diagnostics' };
      }
      app.get('/x', routeOpts, async (req) => {
        if (access) await (req.privacy ?? req.raw.privacy).access({ data: ['ip-address'], action: 'read' });
        return reply;
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      app.server.listening$ = true;
      return app.server;
    }
    case 'nest-express':
    case 'nest-fastify':
      return buildNest(framework === 'nest-express' ? 'express' : 'fastify', kit, access, als);
    default:
      throw new Error(`unknown framework ${framework}`);
  }
}

/** Express 4 from MATRIX_EXPRESS4_DIR (a temp prefix with express@4 installed), if any. */
function loadExpress4() {
  const dir = process.env.MATRIX_EXPRESS4_DIR;
  if (!dir) return undefined;
  try {
    const express = require(path.join(dir, 'node_modules', 'express'));
    const version = require(path.join(dir, 'node_modules', 'express', 'package.json')).version;
    return version.startsWith('4.') ? express : undefined;
  } catch {
    return undefined;
  }
}

async function buildNest(platform, kit, access, als) {
  require('reflect-metadata');
  const { Controller, Get, Module } = require('@nestjs/common');
  const { NestFactory } = require('@nestjs/core');
  const decorate = (decorators, target, key) => {
    if (key === undefined) return Reflect.decorate(decorators, target);
    const desc = Object.getOwnPropertyDescriptor(target, key);
    Object.defineProperty(target, key, Reflect.decorate(decorators, target, key, desc));
    return undefined;
  };
  let Ctl = class BenchController {
    x() {
      return reply;
    }
  };
  const handlerDecorators = [Get('x')];
  const imports = [];
  if (kit) {
    const nest = require('@purposekit/nestjs');
    if (access) handlerDecorators.unshift(nest.Accesses({ data: ['ip-address'], action: 'read' }));
    decorate(handlerDecorators, Ctl.prototype, 'x');
    Ctl = decorate([nest.Purpose('diagnostics'), Controller()], Ctl);
    imports.push(nest.PrivacyModule.forRoot({ kit }));
  } else {
    decorate(handlerDecorators, Ctl.prototype, 'x');
    Ctl = decorate([Controller()], Ctl);
  }
  const logger = platform === 'express' ? pinoHttpFor(variant, kit) : undefined;
  class AppModuleClass {
    configure(consumer) {
      // As a module middleware: Nest runs it after the PrivacyModule's, inside the context.
      if (logger) consumer.apply(logger).forRoutes('{*path}');
    }
  }
  const AppModule = decorate([Module({ imports, controllers: [Ctl] })], AppModuleClass);
  let adapter;
  if (platform === 'express') {
    const { ExpressAdapter } = require('@nestjs/platform-express');
    adapter = new ExpressAdapter();
    adapter.getInstance().set('trust proxy', 'loopback');
  } else {
    const { FastifyAdapter } = require('@nestjs/platform-fastify');
    const loggerInstance = fastifyLoggerFor(variant, kit);
    adapter = new FastifyAdapter({ trustProxy: '127.0.0.1', ...(loggerInstance ? { loggerInstance } : {}) });
  }
  const app = await NestFactory.create(AppModule, adapter, { logger: false, abortOnError: false });
  if (platform === 'express') {
    if (variant === 'helmet') app.use(require('helmet')());
    if (variant === 'als') app.use((_req, _res, next) => als.run({}, next));
  } else {
    if (variant === 'helmet') await app.register(require('@fastify/helmet'));
    if (variant === 'als') adapter.getInstance().addHook('onRequest', (_req, _reply, done) => als.run({}, done));
  }
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer();
  server.listening$ = true;
  return server;
}

function cellAvailable() {
  return FRAMEWORKS.includes(framework) && VARIANTS.includes(variant);
}

async function main() {
  if (!cellAvailable()) {
    process.send({ unavailable: `unknown cell ${framework}/${variant}` });
    return;
  }
  let server;
  try {
    server = await build();
  } catch (error) {
    process.send({ unavailable: `${framework}/${variant} failed to start: ${error && error.message}` });
    return;
  }
  if (server === undefined) {
    process.send({ unavailable: `${framework}/${variant} not available here` });
    return;
  }
  server.keepAliveTimeout = 60_000;
  if (!server.listening$) await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.send({ port: server.address().port, recipe: recipeName });
}

// Profile mode (MATRIX_PROFILE_FILE): the V8 sampling profiler runs over the measured
// rounds only (not start-up or warm-up), sampling every 50 µs, and the profile is written
// to that file when the parent says `exit`.
const profileFile = process.env.MATRIX_PROFILE_FILE;
let session;
function startProfile() {
  const inspector = require('node:inspector');
  session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 50 });
  session.post('Profiler.start');
}
function stopProfile(done) {
  session.post('Profiler.stop', (err, result) => {
    if (!err) fs.writeFileSync(profileFile, JSON.stringify(result.profile));
    done();
  });
}

let mark;
process.on('message', (m) => {
  if (m === 'start') {
    if (profileFile && session === undefined) startProfile();
    mark = process.cpuUsage();
    process.send({ started: true });
  } else if (m === 'stop') {
    const d = process.cpuUsage(mark);
    process.send({ cpuMicros: d.user + d.system });
  } else if (m === 'exit') {
    if (trailDir) fs.rmSync(trailDir, { recursive: true, force: true });
    if (session !== undefined) stopProfile(() => process.exit(0));
    else process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));

main().catch((error) => {
  process.send({ unavailable: `${framework}/${variant}: ${error && error.stack}` });
});
