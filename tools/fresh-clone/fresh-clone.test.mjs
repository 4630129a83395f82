// Fresh-clone test: what a new user pastes is what we run.
//
// Clones the repository (the committed HEAD) into a temporary directory, runs the root
// README's `npm install && npm start`, then every command the READMEs and the apps'
// start-up banners print, and checks each one's result. Run by CI (.ci/run) as
// `npm run test:fresh-clone` (node --test).
//
// What counts as a printed command (the markers):
// - README.md and apps/*/README.md: every line of a fenced block whose info string is
//   `sh`, except a block right after a `<!-- fresh-clone: skip (reason) -->` line (only
//   for what needs a service a fresh clone does not have, e.g. a PostgreSQL server; the
//   reason is printed). (Package READMEs address npm users installing from the registry; the packed-
//   tarball smoke test and the readme-example tests cover them.) Lines ending in `\`
//   continue onto the next line. Comment-only lines are not commands, but a comment that
//   starts with an HTTP status (`# 403 …`, `# → 400 …`), on the command's line or on the
//   comment lines right after it, is that command's expected status.
// - Banners: the lines after a line that starts with `Try` and ends with `:`, indented
//   by two spaces, up to the first line that is not.
//
// How each command runs:
// - Commands that start a server (`npm start`, `npm install && npm start`, `PORT=… npm
//   start`, `npm start -w apps/…`) run in the background with a free port in PORT (a
//   literal `PORT=…` is replaced by it); the test waits for the banner, runs the banner's
//   commands against that server (the first time for each app), then stops it as Ctrl-C
//   does (SIGINT to the process group) and checks the stop was clean: the app's audit
//   trail verifies and ends with a signed checkpoint (no unsigned tail).
// - Every other command of a README runs in one bash session per README (variables carry
//   from line to line, as in a terminal), in the repository root, against the README's
//   app freshly started on a free port: `localhost:<the README's port>` is rewritten to it,
//   the only edit made to any command. `set -e`: a command that exits non-zero fails
//   the test. Every `curl` goes through a shim that records the HTTP status: a command
//   with an expected status must get it; any other must get neither 404 nor >= 500.
// - `npm test` is not run here: CI runs the whole suite itself right before.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, chmodSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';

const source = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: source, encoding: 'utf8' }).trim();
const work = mkdtempSync(join(tmpdir(), 'purposekit-fresh-clone-'));
const repo = join(work, 'repo');
const realCurl = execFileSync('bash', ['-c', 'command -v curl'], { encoding: 'utf8' }).trim();

/** The READMEs whose `sh` blocks run, the app each talks to, and the port it prints. */
const READMES = [
  { file: 'README.md', app: 'openinfra-express', port: 3000 },
  { file: 'apps/openinfra-express/README.md', app: 'openinfra-express', port: 3000 },
  { file: 'apps/kubevirt-koa/README.md', app: 'kubevirt-koa', port: 3001 },
  { file: 'apps/bitnami-nest/README.md', app: 'bitnami-nest', port: 3002 },
  { file: 'apps/coreos-nest-fastify/README.md', app: 'coreos-nest-fastify', port: 3003 },
];
const SERVER = /^(?:PORT=\S+\s+)?(?:npm install && )?npm start\b/;
const NOT_RUN = new Map([['npm test', 'CI runs the whole suite itself']]);
const START_DEADLINE_MS = 240_000;

// ---- parsing --------------------------------------------------------------------------

/** Logical commands of the `sh` blocks of a markdown file: { text, expect }. */
export function commandsOf(markdown, skipped = []) {
  const out = [];
  let inSh = false;
  let inOther = false;
  let pending = '';
  let skipNext;
  for (const line of markdown.split('\n')) {
    const fence = /^```(\S*)\s*$/.exec(line);
    if (fence !== null) {
      if (inSh || inOther) {
        inSh = inOther = false;
      } else if (fence[1] === 'sh' && skipNext === undefined) inSh = true;
      else {
        if (skipNext !== undefined) skipped.push(skipNext);
        inOther = true;
      }
      skipNext = undefined;
      continue;
    }
    const skip = /^<!-- fresh-clone: skip \((.+)\) -->$/.exec(line);
    if (skip !== null && !inSh && !inOther) {
      skipNext = skip[1];
      continue;
    }
    if (!inSh) continue;
    addLine(out, line, pending, (p) => (pending = p));
  }
  return out;
}

function addLine(out, line, pending, setPending) {
  if (line.endsWith('\\')) {
    setPending(pending + line.slice(0, -1) + ' ');
    return;
  }
  const full = (pending + line).trim();
  setPending('');
  if (full === '') return;
  if (full.startsWith('#')) {
    const last = out[out.length - 1];
    if (last !== undefined && last.expect === undefined) last.expect = expectedStatus(full);
    return;
  }
  const hash = full.search(/\s#\s/);
  out.push({ text: full, expect: hash === -1 ? undefined : expectedStatus(full.slice(hash).trim()) });
}

function expectedStatus(comment) {
  const m = /^#\s*(?:→\s*)?([1-5]\d\d)\b/.exec(comment);
  return m === null ? undefined : Number(m[1]);
}

/** The commands of a start-up banner. */
export function bannerCommands(banner) {
  const out = [];
  let on = false;
  for (const line of banner.split('\n')) {
    if (/^Try\b.*:$/.test(line)) {
      on = true;
      continue;
    }
    if (!on) continue;
    if (!line.startsWith('  ')) break;
    addLine(out, line.trim(), '', () => undefined);
  }
  return out;
}

// ---- running --------------------------------------------------------------------------

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

const shimDir = join(work, 'shim');
const curlLog = join(work, 'curl.log');
function writeShim() {
  mkdirSync(shimDir, { recursive: true });
  const shim = join(shimDir, 'curl');
  writeFileSync(
    shim,
    `#!/usr/bin/env bash
hdr=$(mktemp)
${realCurl} -D "$hdr" "$@"; rc=$?
status=$(awk 'toupper($1) ~ /^HTTP\\// { s = $2 } END { print s }' "$hdr")
echo "\${PK_STEP:-0} \${status:-000}" >> "${curlLog}"
rm -f "$hdr"
exit $rc
`,
  );
  chmodSync(shim, 0o755);
}

const env = (extra) => ({ ...process.env, PATH: `${shimDir}:${process.env.PATH}`, FORCE_COLOR: '0', NO_COLOR: '1', ...extra });

/** Starts a server command; resolves with { banner, stop() } once the banner is complete. */
function startServer(command, port) {
  const child = spawn('bash', ['-c', command], { cwd: repo, env: env({ PORT: String(port) }), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
  const ready = new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`no banner within ${START_DEADLINE_MS} ms from: ${command}\n${out}\n${err}`)), START_DEADLINE_MS);
    const check = () => {
      if (/Ctrl-C stops\./.test(out)) {
        clearTimeout(timer);
        res();
      }
    };
    child.stdout.on('data', check);
    exited.then(({ code }) => {
      clearTimeout(timer);
      rej(new Error(`exited (${code}) before its banner: ${command}\n${out}\n${err}`));
    });
  });
  return ready.then(() => ({
    banner: out,
    logs: () => out,
    async stop() {
      process.kill(-child.pid, 'SIGINT');
      const { code, signal } = await exited;
      return { code, signal, stderr: err };
    },
  }));
}

/** Runs commands in one bash session; returns the failing step (or 0) and the curl statuses. */
function runSession(commands, rewrite) {
  writeFileSync(curlLog, '');
  const script = ['set -eo pipefail', "trap 'echo \"PK_FAILED_STEP $PK_STEP\" >&2' ERR"];
  commands.forEach((c, i) => script.push(`export PK_STEP=${i + 1}`, rewrite(c.text)));
  const file = join(work, 'session.sh');
  writeFileSync(file, script.join('\n') + '\n');
  let stdout = '';
  let stderr = '';
  let failed = 0;
  try {
    stdout = execFileSync('bash', [file], { cwd: repo, env: env({}), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  } catch (e) {
    stdout = String(e.stdout ?? '');
    stderr = String(e.stderr ?? '');
    failed = Number(/PK_FAILED_STEP (\d+)/.exec(stderr)?.[1] ?? -1);
  }
  const statuses = new Map();
  for (const line of readFileSync(curlLog, 'utf8').split('\n')) {
    const [step, status] = line.split(' ');
    if (step === undefined || status === undefined) continue;
    if (!statuses.has(Number(step))) statuses.set(Number(step), []);
    statuses.get(Number(step)).push(Number(status));
  }
  return { failed, statuses, stdout, stderr };
}

function checkSession(t, label, commands, result) {
  assert.equal(result.failed, 0, `${label}: command ${result.failed} failed: ${commands[result.failed - 1]?.text}\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-2000)}`);
  commands.forEach((c, i) => {
    const got = result.statuses.get(i + 1) ?? [];
    if (!/\bcurl\b/.test(c.text)) return;
    assert.ok(got.length > 0, `${label}: no HTTP answer for: ${c.text}`);
    for (const status of got) {
      if (c.expect !== undefined) assert.equal(status, c.expect, `${label}: expected ${c.expect}, got ${status}: ${c.text}`);
      else assert.ok(status !== 404 && status >= 200 && status < 500, `${label}: got ${status}: ${c.text}`);
    }
  });
  t.diagnostic(`${label}: ${commands.length} commands ok`);
}

async function checkCleanStop(app, label, stopped, { recorded = true } = {}) {
  // npm (and bash around it) end by SIGINT like the terminal they stand for; the app under
  // them must have closed its trail: verified, nothing after the last signed checkpoint.
  assert.ok(stopped.code === 0 || stopped.signal === 'SIGINT' || stopped.code === 130, `${label} stopped with ${stopped.code ?? stopped.signal}: ${stopped.stderr}`);
  const core = await import(join(repo, 'packages/core/dist/index.js'));
  const data = join(repo, 'apps', app, '.data');
  const publicKey = readFileSync(join(data, 'keys', 'audit-signing.pub.pem'), 'utf8');
  const { verifyAuditTrail } = core.default ?? core;
  const result = await verifyAuditTrail(join(data, 'audit'), { publicKeys: [publicKey] });
  // A start and stop with no request in between records nothing: no trail file at all.
  if (!recorded && result.problem?.kind === 'missing') return;
  assert.equal(result.ok, true, `${label}: the trail of ${app} verifies: ${JSON.stringify(result.problem)}`);
  assert.equal(result.unsignedTail, 0, `${label}: the trail of ${app} ends with a signed checkpoint`);
}

const wipe = (app) => rmSync(join(repo, 'apps', app, '.data'), { recursive: true, force: true });
const seenBanner = new Set();

async function serverCheck(t, command, app) {
  wipe(app);
  const port = await freePort();
  const server = await startServer(command.replace(/^PORT=\S+/, `PORT=${port}`), port);
  const firstStart = !seenBanner.has(app);
  try {
    assert.match(server.banner, new RegExp(`http://localhost:${port}`), `banner shows the port: ${command}`);
    assert.doesNotMatch(server.banner, /<[a-z][^>]*>/i, `no placeholder in the banner of ${app}`);
    assert.doesNotMatch(server.banner, /\bnpx purposekit\b/, `banner of ${app} prints no npx purposekit`);
    if (!seenBanner.has(app)) {
      seenBanner.add(app);
      const cmds = bannerCommands(server.banner);
      assert.ok(cmds.length >= 3, `banner of ${app} has commands`);
      checkSession(t, `banner of ${app}`, cmds, runSession(cmds, (s) => s));
      // Not a printed command: a request with an address in its path, which the app's
      // request log must write truncated (as every other address).
      execFileSync(realCurl, ['-s', '-o', '/dev/null', `http://localhost:${port}/lookup/198.51.100.42?peer=203.0.113.77`]);
      const deadline = Date.now() + 5000;
      while (!server.logs().includes('/lookup/') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.match(server.logs(), /\/lookup\/198\.51\.100\.0/, `${app} logs the request with the address in its path truncated`);
      assert.doesNotMatch(server.logs(), /\b127\.0\.0\.1\b|198\.51\.100\.42|203\.0\.113\.77/, `${app} logs no full IP`);
    }
  } finally {
    await checkCleanStop(app, command, await server.stop(), { recorded: firstStart });
  }
  t.diagnostic(`server ok: ${command}`);
}

test('a fresh clone: npm install && npm start, then every printed command', { timeout: 600_000 }, async (t) => {
  execFileSync('git', ['clone', '--quiet', '--no-checkout', source, repo]);
  execFileSync('git', ['checkout', '--quiet', '--detach', head], { cwd: repo });
  writeShim();
  t.diagnostic(`cloned ${head} into ${repo}`);

  for (const { file, app, port } of READMES) {
    const skipped = [];
    const commands = commandsOf(readFileSync(join(repo, file), 'utf8'), skipped);
    for (const reason of skipped) t.diagnostic(`${file}: one block not run: ${reason}`);
    assert.ok(commands.length > 0, `${file} has sh commands`);
    const session = [];
    for (const c of commands) {
      if (NOT_RUN.has(c.text.replace(/\s+#.*$/, ''))) continue;
      if (SERVER.test(c.text)) await serverCheck(t, c.text.replace(/\s+#.*$/, ''), app);
      else session.push(c);
    }
    if (session.length === 0) continue;
    wipe(app);
    const free = await freePort();
    const server = await startServer(`npm start -w apps/${app}`, free);
    try {
      const result = runSession(session, (s) => s.replaceAll(`localhost:${port}`, `localhost:${free}`));
      checkSession(t, file, session, result);
    } finally {
      await checkCleanStop(app, `npm start -w apps/${app}`, await server.stop());
    }
  }
  for (const { app } of READMES) assert.ok(seenBanner.has(app), `the banner of ${app} was checked`);
  if (!existsSync(join(repo, 'packages/cli/dist/bin.js'))) assert.fail('the CLI was not built by npm start');
  rmSync(work, { recursive: true, force: true });
});
