// Packed-tarball smoke test: what users install is what we test.
// Packs every publishable package (after `npm run build`), installs the tarballs into
// fresh CommonJS, ESM and TypeScript projects outside the workspace, and runs a real
// Express app, a Koa app, a Fastify app and the core API from each.
//
// Run: npm run build && node tools/smoke/pack-smoke.mjs
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const work = mkdtempSync(join(tmpdir(), 'purposekit-smoke-'));
const packs = join(work, 'packs');
mkdirSync(packs);
const PACKAGES = ['core', 'testing', 'express', 'koa', 'fastify', 'nestjs', 'postgres', 'cli'];
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

for (const p of PACKAGES) run('npm', ['pack', '--silent', '--pack-destination', packs], join(root, 'packages', p));
const tarballs = readdirSync(packs).map((f) => join(packs, f));
console.log(`packed ${tarballs.length} packages into ${packs}`);

// The same check in each project: a real Express 5 app over HTTP, a Koa 3 app, a policy
// error branch on its code, and nothing but the public entry points.
const body = (imports) => `${imports}
const audit = new InMemoryAuditSink();
const kit = createPurposekit({ policy: openinfra, audit, subjectKey: { id: 'k', secret: 'x'.repeat(32) } });
let failures = 0;
const check = (name, ok) => { console.log((ok ? 'ok   ' : 'FAIL ') + name); if (!ok) failures++; };

const privacy = createPrivacy(kit);
const app = express().use(privacy.middleware());
app.get('/s', privacy.purpose('diagnostics'), async (req, res, next) => {
  try { await req.privacy.access({ data: ['ip-address'], action: 'read' }); res.json(req.privacy.logFields()); } catch (e) { next(e); }
});
app.use(privacy.errorHandler());
const server = await new Promise((r) => { const s = app.listen(0, '127.0.0.1', () => r(s)); });
const got = await (await fetch('http://127.0.0.1:' + server.address().port + '/s')).json();
server.close();
check('express: purpose and basis tagged', got.purpose === 'diagnostics' && got.basis === 'legitimate-interests');
check('express: IP truncated', got.ip === '127.0.0.0');
check('audit: the access was recorded', audit.getRecords().length === 1);

const koaPrivacy = createKoaPrivacy(kit);
const kapp = new Koa();
kapp.use(koaPrivacy.middleware());
kapp.use(async (ctx) => { ctx.body = { purpose: ctx.state.privacy.purpose }; });
const ks = await new Promise((r) => { const s = kapp.listen(0, '127.0.0.1', () => r(s)); });
const kgot = await (await fetch('http://127.0.0.1:' + ks.address().port + '/')).json();
ks.close();
check('koa: default purpose tagged', kgot.purpose === 'service.provision');

const fapp = Fastify();
await fapp.register(purposekit, { kit });
fapp.get('/f', { config: { purpose: 'diagnostics' } }, async (request) => request.privacy.logFields());
fapp.get('/deny', { config: { purpose: 'diagnostics' } }, async (request) => request.privacy.access({ data: ['email'], action: 'read' }));
await fapp.listen({ port: 0, host: '127.0.0.1' });
const fbase = 'http://127.0.0.1:' + fapp.server.address().port;
const fgot = await (await fetch(fbase + '/f')).json();
const fdeny = await fetch(fbase + '/deny');
const fdenyBody = await fdeny.json();
await fapp.close();
check('fastify: route config purpose tagged, IP truncated', fgot.purpose === 'diagnostics' && fgot.ip === '127.0.0.0');
check('fastify: a deny is 403 with the standard body', fdeny.status === 403 && fdenyBody.error.code === 'PURPOSEKIT_ERR_ACCESS_DENIED');

try { definePolicy({ id: 'x' }); check('policy error thrown', false); }
catch (e) { check('policy error recognised by code', isPurposekitError(e) && e.code === 'PURPOSEKIT_ERR_POLICY_INVALID'); }
if (failures) process.exitCode = 1;
`;

function project(name, type, file, source) {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `smoke-${name}`, private: true, type }, null, 2));
  // Peers come from the registry as a user would get them; our packages from the tarballs.
  run('npm', ['install', '--no-audit', '--no-fund', '--silent', ...tarballs, 'express@5', 'koa@3', 'fastify@5', 'pg@8', 'reflect-metadata', 'rxjs', '@nestjs/common@12', '@nestjs/core@12'], dir);
  writeFileSync(join(dir, file), source);
  return dir;
}

const cjs = project('cjs', 'commonjs', 'index.js', `(async () => {${body(`
const { createPurposekit, openinfra, definePolicy, isPurposekitError } = require('@purposekit/core');
if (typeof require('@purposekit/core/adapter').begin !== 'function') throw new Error('@purposekit/core/adapter: begin missing');
const { createPrivacy } = require('@purposekit/express');
const { createPrivacy: createKoaPrivacy } = require('@purposekit/koa');
const { purposekit } = require('@purposekit/fastify');
const Fastify = require('fastify');
const { InMemoryAuditSink } = require('@purposekit/testing');
const express = require('express');
const Koa = require('koa');
require('@purposekit/nestjs');
if (typeof require('@purposekit/postgres').createPostgresAuditSink !== 'function') throw new Error('@purposekit/postgres: createPostgresAuditSink missing');`)}})();`);
console.log('-- CommonJS project');
process.stdout.write(run('node', ['index.js'], cjs));

const esm = project('esm', 'module', 'index.mjs', body(`
import { createPurposekit, openinfra, definePolicy, isPurposekitError } from '@purposekit/core';
import { begin as beginRequest } from '@purposekit/core/adapter';
import { createPrivacy } from '@purposekit/express';
import { createPrivacy as createKoaPrivacy } from '@purposekit/koa';
import { purposekit } from '@purposekit/fastify';
import Fastify from 'fastify';
import { InMemoryAuditSink } from '@purposekit/testing';
import { PrivacyModule } from '@purposekit/nestjs';
import express from 'express';
import Koa from 'koa';
if (typeof PrivacyModule.forRoot !== 'function') throw new Error('nestjs named export missing');
if (typeof beginRequest !== 'function') throw new Error('@purposekit/core/adapter named export missing');`));
console.log('-- ESM project');
process.stdout.write(run('node', ['index.mjs'], esm));

// TypeScript: the published .d.ts files type-check a user's code (nodenext resolution).
writeFileSync(join(cjs, 'check.ts'), `import { createPurposekit, openinfra, type AccessDecision } from '@purposekit/core';
import { begin, type RequestFacts } from '@purposekit/core/adapter';
import { createPrivacy } from '@purposekit/express';
import { InMemoryAuditSink } from '@purposekit/testing';
import express from 'express';
const kit = createPurposekit({ policy: openinfra, audit: new InMemoryAuditSink(), subjectKey: { id: 'k', secret: 'x'.repeat(32) } });
const app = express();
app.get('/', createPrivacy(kit).purpose('diagnostics'), async (req) => {
  const d: AccessDecision = await req.privacy!.access({ data: ['ip-address'], action: 'read' });
  const basis: 'legitimate-interests' | string = d.basis;
  return basis;
});
const facts: RequestFacts = { headers: {}, remoteAddress: undefined };
export const requestId: string = begin(kit, facts).requestId;
`);
// Fastify: request.privacy and the route config are typed by declaration merging.
writeFileSync(join(cjs, 'check-fastify.ts'), `import { createPurposekit, openinfra, type PrivacyContext } from '@purposekit/core';
import { purposekit, privacyOf } from '@purposekit/fastify';
import { InMemoryAuditSink } from '@purposekit/testing';
import Fastify from 'fastify';
const kit = createPurposekit({ policy: openinfra, audit: new InMemoryAuditSink(), subjectKey: { id: 'k', secret: 'x'.repeat(32) } });
export async function build() {
  const app = Fastify();
  await app.register(purposekit, { kit });
  app.get('/', { config: { purpose: 'diagnostics', ageGate: undefined } }, async (request) => {
    const maybe: PrivacyContext | undefined = request.privacy;
    const ctx: PrivacyContext = privacyOf(request);
    return { purpose: ctx.purpose, same: maybe === ctx };
  });
  return app;
}
`);
writeFileSync(join(cjs, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: false, types: ['node'] }, files: ['check.ts', 'check-fastify.ts'] }));
run('npm', ['install', '--no-audit', '--no-fund', '--silent', '@types/express@5', '@types/node@20'], cjs);
console.log('-- TypeScript project');
run(join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], cjs);
console.log('ok   the published types check a user project (strict, nodenext, skipLibCheck off)');

// What the tarballs ship: no build state, and every source map points at a file that is
// in the tarball (stack traces and "go to definition" land in the shipped src/).
let shipped = 0;
for (const p of PACKAGES) {
  const dir = join(cjs, 'node_modules/@purposekit', p);
  const walk = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
  const files = walk(dir);
  if (files.some((f) => f.endsWith('.tsbuildinfo'))) throw new Error(`@purposekit/${p} ships a .tsbuildinfo`);
  if (files.some((f) => /\.test\.|__tests__/.test(f))) throw new Error(`@purposekit/${p} ships tests`);
  for (const map of files.filter((f) => f.endsWith('.map'))) {
    for (const src of JSON.parse(readFileSync(map, 'utf8')).sources) {
      if (!existsSync(resolve(dirname(map), src))) throw new Error(`${map} points at ${src}, which the tarball does not ship`);
      shipped++;
    }
  }
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  if (pkg.repository?.directory !== `packages/${p}` || !pkg.homepage || !pkg.bugs) throw new Error(`@purposekit/${p}: repository/homepage/bugs missing`);
  if (/\]\((?!https?:|#)/.test(readFileSync(join(dir, 'README.md'), 'utf8'))) throw new Error(`@purposekit/${p}: README has a relative link (broken on npm)`);
}
console.log(`ok   no .tsbuildinfo or tests in the tarballs; ${shipped} source-map sources all shipped; absolute README links; repository fields`);

// Each package README's "## Example" (from the tarball, as npm shows it) compiles in a
// CommonJS and in an ESM TypeScript project, and against Express 4, Koa 2 and NestJS 11.
const example = (p) => {
  const readme = readFileSync(join(cjs, 'node_modules/@purposekit', p, 'README.md'), 'utf8');
  const block = /## Example\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  if (block === undefined) throw new Error(`@purposekit/${p} README has no "## Example" ts block`);
  if (/^await /m.test(block)) throw new Error(`@purposekit/${p} README example uses top-level await (rejected in CommonJS)`);
  return block;
};
const EXAMPLES = ['core', 'express', 'koa', 'nestjs', 'testing'];
const tsconfigFor = (files) => JSON.stringify({
  compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: true, types: ['node'], experimentalDecorators: true, emitDecoratorMetadata: true },
  files,
});
for (const [name, dir] of [['CommonJS', cjs], ['ESM', esm]]) {
  run('npm', ['install', '--no-audit', '--no-fund', '--silent', '@koa/router@15', '@types/koa@3', '@types/express@5', '@types/node@20', 'pino-http@11'], dir);
  const files = EXAMPLES.map((p) => {
    writeFileSync(join(dir, `readme-${p}.ts`), example(p));
    return `readme-${p}.ts`;
  });
  // docs/production.md's whole program, too.
  const guide = /## The whole program\n\n```ts\n([\s\S]*?)```/.exec(readFileSync(join(root, 'docs/production.md'), 'utf8'))?.[1];
  if (guide === undefined) throw new Error('docs/production.md has no "## The whole program" ts block');
  writeFileSync(join(dir, 'production.ts'), guide);
  files.push('production.ts');
  writeFileSync(join(dir, 'tsconfig.readme.json'), tsconfigFor(files));
  run(join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.readme.json'], dir);
  console.log(`ok   the README examples of ${EXAMPLES.join(', ')} and docs/production.md compile in a ${name} TypeScript project`);
}

// Apps on the previous majors: Express 4, Koa 2, NestJS 11 (installed without flags: the
// peer ranges accept them), each building its adapter's README example.
const OLDER = [
  ['express4', 'express', ['express@4.21', '@types/express@4']],
  ['koa2', 'koa', ['koa@2.15', '@types/koa@2', '@koa/router@15']],
  ['nest11', 'nestjs', ['@nestjs/common@11', '@nestjs/core@11', '@nestjs/platform-express@11', 'reflect-metadata', 'rxjs']],
];
for (const [dirName, p, peers] of OLDER) {
  const dir = join(work, dirName);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `smoke-${dirName}`, private: true, type: 'commonjs' }));
  run('npm', ['install', '--no-audit', '--no-fund', '--silent', ...tarballs, ...peers, '@types/node@20'], dir);
  writeFileSync(join(dir, 'app.ts'), example(p));
  writeFileSync(join(dir, 'tsconfig.json'), tsconfigFor(['app.ts']));
  run(join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], dir);
  const version = JSON.parse(readFileSync(join(dir, 'node_modules', p === 'nestjs' ? '@nestjs/core' : p, 'package.json'), 'utf8')).version;
  console.log(`ok   an ${p} ${version} app installs the tarballs without flags and builds the README example`);
}
console.log(`smoke test passed (${work})`);
