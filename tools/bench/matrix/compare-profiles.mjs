// purposekit's own self time per request, before and after, from two profile-mode result
// files of run.mjs (MATRIX_JSON with --cpu-prof), cell by cell, with the functions whose
// self time changed most.
//
//   node tools/bench/matrix/compare-profiles.mjs results/node24-profile-before.json results/node24-profile-after.json
import { readFileSync } from 'node:fs';

const [beforeFile, afterFile] = process.argv.slice(2);
if (!beforeFile || !afterFile) {
  console.error('usage: node compare-profiles.mjs <before.json> <after.json>');
  process.exit(2);
}
const load = (f) => JSON.parse(readFileSync(f, 'utf8'));
const cells = (r) => {
  const m = new Map();
  for (const n of r.nodes) for (const g of n.groups) for (const row of g.rows) if (row.profile) m.set(`${n.node} ${row.framework}/${row.variant}`, row.profile);
  return m;
};
const before = cells(load(beforeFile));
const after = cells(load(afterFile));
const fnName = (fn) => fn.replace(/:\d+$/, ''); // line numbers move between builds
console.log('| cell | purposekit self µs/req before | after | sampled CPU µs/req before → after | largest own functions before → after |');
console.log('|---|---|---|---|---|');
for (const [key, b] of before) {
  const a = after.get(key);
  if (!a || key.endsWith('/bare')) continue;
  const names = new Set([...b.top.slice(0, 3), ...a.top.slice(0, 3)].map((t) => fnName(t.fn)));
  const us = (p, n) => p.top.filter((t) => fnName(t.fn) === n).reduce((s, t) => s + t.usPerRequest, 0);
  const fns = [...names].map((n) => `${n.split(' ')[0]} ${us(b, n).toFixed(2)} → ${us(a, n).toFixed(2)}`).join('; ');
  console.log(`| ${key} | ${b.oursUsPerRequest.toFixed(2)} | ${a.oursUsPerRequest.toFixed(2)} | ${b.totalUsPerRequest.toFixed(0)} → ${a.totalUsPerRequest.toFixed(0)} | ${fns} |`);
}
