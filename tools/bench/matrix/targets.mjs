// Issue 18's targets, checked against a matrix result file (MATRIX_JSON of run.mjs):
//
//   node tools/bench/matrix/targets.mjs results/matrix.json
//
// For each Node version in the file and each framework: purposekit alone (added CPU
// µs/request over the framework's bare cell in the same round, req/s kept), purposekit +
// its logger recipe against pino-http alone (CPU ratio, per round), and one durable
// access against one access into a no-op sink (added CPU, per round). Medians over
// rounds, with the min–max of the per-round figures.
import { readFileSync } from 'node:fs';
import { median } from './run.mjs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node targets.mjs <matrix.json>');
  process.exit(2);
}
const results = JSON.parse(readFileSync(file, 'utf8'));

const keptTarget = { express5: 0.95, express4: 0.95, 'nest-express': 0.95, koa: 0.9, 'nest-fastify': 0.9, 'fastify-native': 0.9 };
const f1 = (x) => x.toFixed(1);
const pc = (x) => `${(x * 100).toFixed(0)} %`;
const spread = (xs, fmt) => `${fmt(Math.min(...xs))} to ${fmt(Math.max(...xs))}`;

/** Per-round values of a − b (or a ÷ b) for two cells of one group. */
function perRound(a, b, op) {
  return a.cpu.rounds.map((x, i) => op(x, b.cpu.rounds[i]));
}

for (const n of results.nodes) {
  console.log(`\n#### ${n.node} (load average before ${n.loadBefore.map((x) => x.toFixed(1)).join(' ')}, after ${n.loadAfter.map((x) => x.toFixed(1)).join(' ')})\n`);
  console.log('| framework | purposekit: added µs/req (rounds) | ≤ 3 µs | req/s kept, wall (rounds) / CPU-bound | target | logger recipe: CPU vs pino-http alone (rounds) | ≤ +10 % | durable access: µs over no-op sink (rounds) | ≤ 5 µs |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const g of n.groups) {
    if (g.framework === 'ceilings' || g.rows.length === 0) continue;
    const cell = (v) => g.rows.find((r) => r.variant === v);
    const bare = cell('bare');
    const pk = cell('purposekit');
    const out = [g.framework];
    if (pk && bare) {
      const added = perRound(pk, bare, (a, b) => a - b);
      out.push(`${f1(median(added))} (${spread(added, f1)})`, median(added) <= 3 ? 'within' : 'missed');
      const target = keptTarget[g.framework] ?? 0.9;
      out.push(`${pc(pk.kept.median)} (${pc(pk.kept.min)}–${pc(pk.kept.max)}) / ${pc(pk.keptCpu)}`, `≥ ${pc(target)}: ${pk.keptCpu >= target ? 'within' : 'missed'} (CPU-bound)`);
    } else out.push('—', '', '—', '');
    const logger = cell('purposekit+logger');
    const pino = cell('pino-http');
    if (logger && pino) {
      const ratio = perRound(logger, pino, (a, b) => a / b - 1);
      out.push(`${median(ratio) >= 0 ? '+' : ''}${pc(median(ratio))} (${spread(ratio, pc)})`, median(ratio) <= 0.1 ? 'within' : 'missed');
    } else out.push('—', '');
    const durable = cell('purposekit+durable');
    const access = cell('purposekit+access');
    if (durable && access) {
      const d = perRound(durable, access, (a, b) => a - b);
      out.push(`${f1(median(d))} (${spread(d, f1)})`, median(d) <= 5 ? 'within' : 'missed');
    } else out.push('—', '');
    console.log(`| ${out.join(' | ')} |`);
  }
  const byFw = Object.fromEntries(n.groups.map((g) => [g.framework, g]));
  for (const fw of ['express5', 'koa', 'nest-express', 'nest-fastify', 'fastify-native']) {
    const g = byFw[fw];
    const als = g?.rows.find((r) => r.variant === 'als');
    const bare = g?.rows.find((r) => r.variant === 'bare');
    if (als && bare) {
      const d = perRound(als, bare, (a, b) => a - b);
      console.log(`${fw}: AsyncLocalStorage.run alone adds ${f1(median(d))} µs/req (${spread(d, f1)})`);
    }
  }
}
