// The matrix harness itself works: one framework, two cells, a handful of requests.
// Not a benchmark (no figure is checked, only that the harness measures and reports);
// run with `npm run test:bench-harness` after `npm run build` (the servers load dist/).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatGroup, median, profileSelfTime, runGroup } from './run.mjs';

test('one cell pair runs, is measured in every round and reported against bare', async () => {
  const g = await runGroup(process.execPath, 'express5', { rounds: 2, requests: 20, concurrency: 2, warmup: 5, variants: ['purposekit'] });
  assert.deepEqual(g.skipped, []);
  assert.equal(g.baseline, 'express5/bare');
  assert.deepEqual(g.rows.map((r) => r.variant), ['bare', 'purposekit']);
  for (const r of g.rows) {
    assert.equal(r.cpu.rounds.length, 2);
    assert.ok(r.cpu.rounds.every((x) => Number.isFinite(x) && x > 0), `CPU per request measured for ${r.variant}`);
    assert.ok(r.rps.median > 0);
  }
  assert.equal(g.rows[0].added, null);
  assert.ok(Number.isFinite(g.rows[1].added.median));
  assert.match(formatGroup(g), /^\| variant \| CPU µs\/req/);
  assert.match(formatGroup(g), /\| purposekit \| /);
});

test('an unknown cell is reported as not run, not as a figure', async () => {
  const g = await runGroup(process.execPath, 'express5', { rounds: 1, requests: 5, concurrency: 1, warmup: 1, variants: ['no-such-variant'] });
  assert.deepEqual(g.rows.map((r) => r.variant), ['bare']);
  assert.equal(g.skipped.length, 1);
  assert.match(g.skipped[0].why, /unknown cell express5\/no-such-variant/);
});

test('profile self time sums only frames under packages/*/dist, idle excluded', () => {
  const frame = (id, url, functionName) => ({ id, callFrame: { functionName, url, lineNumber: 0 } });
  const profile = {
    nodes: [frame(1, 'node:internal/x', 'a'), frame(2, 'file:///r/packages/core/dist/context.js', 'begin'), frame(3, '/r/node_modules/express/lib/router.js', 'handle'), frame(4, '', '(idle)')],
    samples: [1, 2, 2, 3, 4],
    timeDeltas: [10, 20, 30, 40, 1000],
  };
  const p = profileSelfTime(profile);
  assert.equal(p.total, 100);
  assert.equal(p.ours, 50);
  assert.deepEqual(p.fns, [['begin core/context.js:1', 50]]);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
});
