// Purposekit's own self time per request in each case of logger-recipe.bench.cjs, in two
// builds of the repository (before and after a change), profiled alternately with the V8
// sampling profiler; prints a table of medians.
//
//   BEFORE_ROOT=/path/to/old/checkout AFTER_ROOT=. node tools/bench/logger-recipe-profiles.mjs
//   (each root needs packages/core/dist built and tools/bench/logger-recipe.bench.cjs)
// Env: CASES (comma list of case indexes, default all), REPS (default 3), NODE_BIN.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
const node = process.env.NODE_BIN ?? process.execPath;
if (!process.env.BEFORE_ROOT) throw new Error('BEFORE_ROOT: the checkout to compare against');
const trees = { before: process.env.BEFORE_ROOT, after: process.env.AFTER_ROOT ?? '.' };
const cases = (process.env.CASES ?? '0,1,2,3,4,5,6,7,8,9,10').split(',').map(Number);
const reps = Number(process.env.REPS ?? 3);
const out = {};
for (let rep = 0; rep < reps; rep++) for (const c of cases) for (const [name, root] of Object.entries(trees)) {
  const dir = mkdtempSync(join(tmpdir(), 'pk-logger-prof-'));
  const stdout = execFileSync(node, ['--cpu-prof', `--cpu-prof-dir=${dir}`, join(root, 'tools/bench/logger-recipe.bench.cjs')], { env: { ...process.env, BENCH_ONLY: String(c), BENCH_MS: '150', BENCH_ROUNDS: '10' }, encoding: 'utf8' });
  const m = /^(.*): (\d+) requests/m.exec(stdout);
  const n = Number(m[2]);
  const p = JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]), 'utf8'));
  rmSync(dir, { recursive: true, force: true });
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  let total = 0, ours = 0; const fns = new Map();
  for (let i = 0; i < p.samples.length; i++) {
    const f = byId.get(p.samples[i]).callFrame; const us = p.timeDeltas[i] ?? 0;
    if (f.functionName === '(idle)' || f.functionName === '(program)') continue;
    total += us;
    if (/\/packages\/core\/dist\//.test(f.url)) { ours += us; const k = f.functionName || '(anon)'; fns.set(k, (fns.get(k) ?? 0) + us); }
  }
  const key = `${c} ${m[1]}`;
  out[key] ??= {}; out[key][name] ??= [];
  out[key][name].push({ total: total / n, ours: ours / n, top: [...fns].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => `${k} ${(v / n).toFixed(2)}`) });
}
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[(s.length - 1) >> 1]; };
console.log('| case | sampled CPU µs/req before → after | purposekit self µs/req before → after | largest purposekit functions (µs/req) before / after |');
console.log('|---|---|---|---|');
for (const [k, v] of Object.entries(out)) {
  const b = v.before, a = v.after;
  console.log(`| ${k.slice(2)} | ${med(b.map((x) => x.total)).toFixed(2)} → ${med(a.map((x) => x.total)).toFixed(2)} | ${med(b.map((x) => x.ours)).toFixed(2)} → ${med(a.map((x) => x.ours)).toFixed(2)} | ${b[0].top.slice(0, 4).join(', ')} / ${a[0].top.slice(0, 4).join(', ')} |`);
}
