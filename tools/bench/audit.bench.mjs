// Benchmark of the durable audit trail (file sink): durable records per second and the
// latency an access waits for its record, in `sync` mode (append resolves after the
// fdatasync covering the record), at several concurrency levels; plus the synchronous
// CPU cost of one append() (validation, RFC 8785 encoding, SHA-256, enqueue) and the
// raw fdatasync rate of the disk for comparison.
//
// Method: rounds are interleaved (every level once per round, fresh trail directory
// each time, in the OS temp dir), and medians with the min–max spread are reported —
// on a noisy 2-core machine one run cannot tell a 10% change from noise.
//
// Run (after building the core):
//   npx tsc -b packages/core/tsconfig.json   # or: npm run build
//   node tools/bench/audit.bench.mjs [--rounds 5] [--seconds 1]
//   node tools/bench/audit.bench.mjs --offered 50000 [--rounds 5] [--seconds 2]   # open loop: ack latency at a fixed offered rate
//   --write-depth 1|2   the sink's fdatasync pipeline depth (default: the sink's own, 2;
//                       1 = the next batch is written only once the previous one is durable)
//   TMPDIR=/dev/shm …   trails on tmpfs: fdatasync costs nothing, so the figures are the
//                       sink's own CPU and pacing without the disk (the disk is shared here)
import { generateKeyPairSync } from 'node:crypto';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('../..', import.meta.url));
const core = require(join(root, 'packages/core/dist/index.js'));

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const ROUNDS = arg('rounds', 5);
const SECONDS = arg('seconds', 1);
const WRITE_DEPTH = arg('write-depth', 0);
/** The sink under test: createFileAuditSink, or with another pipeline depth (an internal seam). */
const openSink = (options) =>
  WRITE_DEPTH > 0
    ? require(join(root, 'packages/core/dist/audit/file-sink.js')).openFileAuditSink(options, { writeDepth: WRITE_DEPTH })
    : core.createFileAuditSink(options);
const LEVELS = [1, 8, 64, 256];

const { privateKey } = generateKeyPairSync('ed25519');
const pseudonymize = core.createSubjectPseudonymizer({ id: 'bench', secret: Buffer.alloc(32, 9) });
const subjects = Array.from({ length: 1000 }, (_, i) => pseudonymize(`user-${i}`));
// Request ids as the engine makes them by default: UUID-shaped (a per-process prefix + a counter).
const idPrefix = '5f0c3a2e-9b1d-4e7a-8c21-';
const event = (n) => ({
  kind: 'access',
  actor: 'svc:accounts',
  subject: subjects[n % subjects.length],
  data: ['email', 'name'],
  action: 'read',
  purpose: 'service.provision',
  basis: 'contract',
  policy: { id: 'openinfra', version: '2024-06' },
  requestId: idPrefix + n.toString(16).padStart(12, '0'),
  decision: 'allow',
  reason: 'allowed',
});

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const spread = (xs, digits = 0) => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;

function tempDir(label) {
  return mkdtempSync(join(tmpdir(), `pk-bench-${label}-`));
}

/** Raw disk: one small write + fdatasync per iteration, for `seconds`. */
function rawFdatasync(seconds) {
  const dir = tempDir('raw');
  const fd = openSync(join(dir, 'f'), 'a');
  const line = Buffer.from(`${'x'.repeat(400)}\n`);
  let n = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    writeSync(fd, line);
    fdatasyncSync(fd);
    n++;
  }
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  return n / seconds;
}

/**
 * The disk's group-commit ceiling: `batch` ready-made lines per write + fdatasync, no
 * encoding, hashing or promises — the most records/s any sink could make durable here.
 */
function rawGroupCommit(seconds, batch) {
  const dir = tempDir('rawgroup');
  const fd = openSync(join(dir, 'f'), 'a');
  const block = Buffer.from(`${'x'.repeat(400)}\n`.repeat(batch));
  let n = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    writeSync(fd, block);
    fdatasyncSync(fd);
    n += batch;
  }
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  return n / seconds;
}

/** `concurrency` loops of `await append()` in sync mode for `seconds`. */
async function durable(concurrency, seconds) {
  const dir = tempDir(`c${concurrency}`);
  const sink = await openSink({ dir, signingKey: privateKey, durability: 'sync' });
  const latencies = [];
  let n = 0;
  let stop = false;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const worker = async () => {
    while (!stop) {
      const start = performance.now();
      await sink.append(event(n++));
      latencies.push(performance.now() - start);
    }
  };
  const timer = setTimeout(() => (stop = true), seconds * 1000);
  await Promise.all(Array.from({ length: concurrency }, worker));
  clearTimeout(timer);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await sink.close();
  rmSync(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  return {
    perSecond: latencies.length / elapsed,
    p50: pct(latencies, 50) * 1000, // µs
    p99: pct(latencies, 99) * 1000,
    cpuPerRecord: (cpu.user + cpu.system) / latencies.length,
  };
}

/**
 * Synchronous CPU of append() itself, as a loaded server calls it: bursts of 64 calls
 * (timed with process.cpuUsage, events built beforehand), each burst awaited (not timed)
 * before the next.
 */
async function enqueueCost(bursts) {
  const dir = tempDir('enqueue');
  const sink = await openSink({ dir, signingKey: privateKey, durability: 'sync' });
  let n = 0;
  let cpu = 0;
  for (let b = 0; b < bursts + 50; b++) {
    const events = Array.from({ length: 64 }, () => event(n++));
    const pending = new Array(64);
    const c0 = process.cpuUsage();
    for (let i = 0; i < 64; i++) pending[i] = sink.append(events[i]);
    const c = process.cpuUsage(c0);
    if (b >= 50) cpu += c.user + c.system; // the first 50 bursts warm up
    await Promise.all(pending);
  }
  await sink.close();
  rmSync(dir, { recursive: true, force: true });
  return cpu / (bursts * 64);
}

/**
 * Open loop: appends offered at a fixed rate (records/s) for `seconds`, whatever the
 * sink's pace: each turn of the event loop issues the appends due by now. Latency is
 * from the moment an append was due to its acknowledgement (fdatasync done), so a sink
 * that falls behind shows it. Returns the achieved rate and ack p50/p99.
 */
async function offered(rate, seconds) {
  const dir = tempDir(`offered${rate}`);
  const sink = await openSink({ dir, signingKey: privateKey, durability: 'sync' });
  const latencies = [];
  const pending = [];
  let n = 0;
  const t0 = performance.now();
  const total = Math.round(rate * seconds);
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - t0) / 1000) * rate));
      while (n < due) {
        const dueAt = t0 + (n / rate) * 1000;
        pending.push(sink.append(event(n++)).then(() => latencies.push(performance.now() - dueAt)));
      }
      if (n < total) setImmediate(tick);
      else resolve();
    };
    tick();
  });
  await Promise.all(pending);
  const elapsed = (performance.now() - t0) / 1000;
  await sink.close();
  rmSync(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  return { achieved: latencies.length / elapsed, p50: pct(latencies, 50) * 1000, p99: pct(latencies, 99) * 1000 };
}

const OFFERED = arg('offered', 0);
if (OFFERED > 0) {
  const runs = [];
  console.log(`node ${process.version}, open loop: ${OFFERED} records/s offered for ${SECONDS}s, ${ROUNDS} rounds (sync mode${WRITE_DEPTH > 0 ? `, write depth ${WRITE_DEPTH}` : ''}), trails in ${tmpdir()}`);
  for (let r = 0; r < ROUNDS; r++) {
    runs.push(await offered(OFFERED, SECONDS));
    process.stderr.write(`round ${r + 1}/${ROUNDS} done\n`);
  }
  const m = (k) => median(runs.map((x) => x[k]));
  console.log(`achieved ${m('achieved').toFixed(0)}/s (${spread(runs.map((x) => x.achieved))}), ack p50 ${m('p50').toFixed(0)} µs, p99 ${m('p99').toFixed(0)} µs (p99 spread ${spread(runs.map((x) => x.p99))} µs)`);
  process.exit(0);
}

const results = new Map(LEVELS.map((c) => [c, []]));
const raw = [];
const rawGroup = [];
const enqueue = [];
console.log(`node ${process.version}, ${ROUNDS} rounds × ${SECONDS}s per level, crypto.hash: ${typeof (await import('node:crypto')).hash === 'function'}${WRITE_DEPTH > 0 ? `, write depth ${WRITE_DEPTH}` : ''}, trails in ${tmpdir()}`);
for (let r = 0; r < ROUNDS; r++) {
  raw.push(rawFdatasync(SECONDS / 2));
  rawGroup.push(rawGroupCommit(SECONDS / 2, 256));
  for (const c of LEVELS) results.get(c).push(await durable(c, SECONDS));
  enqueue.push(await enqueueCost(1000));
  process.stderr.write(`round ${r + 1}/${ROUNDS} done\n`);
}

console.log(`\nraw disk, one write + fdatasync per record: ${median(raw).toFixed(0)}/s (${spread(raw)})`);
console.log(`raw disk, group commit of 256 lines per write + fdatasync (the ceiling at concurrency 256): ${median(rawGroup).toFixed(0)} records/s (${spread(rawGroup)})`);
console.log(`append() synchronous CPU per call (validate + RFC 8785 encode + SHA-256 + enqueue): ${median(enqueue).toFixed(2)} µs (${spread(enqueue, 2)})\n`);
console.log('sync mode | durable records/s (spread)        | wait p50 µs | p99 µs | CPU µs/record');
for (const c of LEVELS) {
  const rs = results.get(c);
  const per = rs.map((x) => x.perSecond);
  console.log(
    `${String(c).padStart(4)} conc | ${median(per).toFixed(0).padStart(7)} (${spread(per)})`.padEnd(42) +
      ` | ${median(rs.map((x) => x.p50)).toFixed(0).padStart(11)} | ${median(rs.map((x) => x.p99)).toFixed(0).padStart(6)} | ${median(rs.map((x) => x.cpuPerRecord)).toFixed(1).padStart(6)}`,
  );
}
