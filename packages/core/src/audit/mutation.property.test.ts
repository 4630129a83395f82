// Property (issue 12, "done means"): over random byte mutations of a real, signed and
// anchored trail, verification always returns a verdict (it never throws), and it never
// says OK when a signed or anchored record changed. The oracle is byte comparison with
// the original files: it shares no code with the verifier.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { openFileAuditSink } from './file-sink';
import { verifyAuditTrail } from './verify';
import type { AnchoredHead } from './types';
import { accessEvent, cleanupDirs, keyPair, tempDir, trailFiles } from './__tests__/helpers';

const keys = keyPair();
const NUM_RUNS = process.env['CI'] === 'true' ? 700 : 60;

let original: Array<{ name: string; bytes: Buffer; trail: boolean }>;
let heads: AnchoredHead[];
let work: string;

beforeAll(async () => {
  const dir = tempDir('mutation-src');
  heads = [];
  let t = Date.UTC(2026, 10, 22, 12, 0, 0);
  const sink = await openFileAuditSink({ dir, signingKey: keys.privateKey, checkpointEvery: 3, maxFileBytes: 2048, anchors: [(h) => void heads.push(h)] }, { now: () => (t += 1000) });
  for (let i = 0; i < 14; i++) await sink.append(accessEvent(i, i % 4 === 0 ? { attributes: { n: i * 1.5, ok: true } } : {}));
  await sink.close();
  // every file of a closed trail ends with a checkpoint: every byte of it is signed
  original = trailFiles(dir).map((p) => ({ name: p.slice(dir.length + 1), bytes: readFileSync(p), trail: true }));
  original.push({ name: 'audit.head.json', bytes: readFileSync(join(dir, 'audit.head.json')), trail: false });
  work = tempDir('mutation');
});
afterAll(cleanupDirs);

type Mutation =
  | { kind: 'flip'; file: number; at: number; byte: number }
  | { kind: 'delete'; file: number; at: number; length: number }
  | { kind: 'insert'; file: number; at: number; bytes: number[] }
  | { kind: 'truncate'; file: number; at: number };

const INTERESTING = [0x0a, 0x0d, 0x22, 0x2c, 0x3a, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x30, 0x31, 0x39, 0x65, 0x2d, 0x20, 0x00, 0x1b, 0xc3, 0xff];
const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...INTERESTING));
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), file: fc.nat(), at: fc.nat(), byte }),
  fc.record({ kind: fc.constant('delete' as const), file: fc.nat(), at: fc.nat(), length: fc.integer({ min: 1, max: 400 }) }),
  fc.record({ kind: fc.constant('insert' as const), file: fc.nat(), at: fc.nat(), bytes: fc.array(byte, { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('truncate' as const), file: fc.nat(), at: fc.nat() }),
);

function apply(files: Buffer[], m: Mutation): void {
  const f = m.file % files.length;
  const b = files[f]!;
  const at = b.length === 0 ? 0 : m.at % (b.length + (m.kind === 'insert' ? 1 : 0));
  if (m.kind === 'flip' && b.length > 0) files[f] = Buffer.concat([b.subarray(0, at), Buffer.from([m.byte]), b.subarray(at + 1)]);
  else if (m.kind === 'delete') files[f] = Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)]);
  else if (m.kind === 'insert') files[f] = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
  else if (m.kind === 'truncate') files[f] = b.subarray(0, at);
}

it(`verify returns a verdict for every mutation and never OK when a signed record changed (${NUM_RUNS} runs)`, async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
      const files = original.map((o) => o.bytes);
      for (const m of mutations) apply(files, m);
      for (const n of readdirSync(work)) rmSync(join(work, n));
      mkdirSync(work, { recursive: true });
      original.forEach((o, i) => writeFileSync(join(work, o.name), files[i]!));
      let result;
      try {
        result = await verifyAuditTrail(work, { publicKeys: [keys.publicKey], anchors: heads });
      } catch (error) {
        throw new Error(`verify threw instead of returning a verdict: ${String(error)}`);
      }
      // oracle: did any byte of a signed record change (a trail file no longer starts with all its original bytes)?
      const signedChanged = original.some((o, i) => o.trail && !files[i]!.subarray(0, o.bytes.length).equals(o.bytes));
      if (signedChanged && result.ok) throw new Error(`verify said OK although signed records changed: ${JSON.stringify(mutations)}`);
      // and when nothing signed changed, whatever was appended is at most a torn line or a problem, never a longer "OK" chain
      if (result.ok) expect(result.lastSeq).toBe(heads.at(-1)!.seq);
    }),
    { numRuns: NUM_RUNS },
  );
}, 60_000);

const WRITER_RUNS = process.env['CI'] === 'true' ? 150 : 30;

it(`a writer opened on a mutated trail never turns a FAILED verdict into OK, and fails only with a typed error (${WRITER_RUNS} runs)`, async () => {
  const { isPurposekitError } = await import('../errors');
  const { captureWarnings } = await import('./__tests__/helpers');
  await fc.assert(
    fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 2 }), async (mutations) => {
      const files = original.map((o) => o.bytes);
      for (const m of mutations) apply(files, m);
      for (const n of readdirSync(work)) rmSync(join(work, n));
      original.forEach((o, i) => writeFileSync(join(work, o.name), files[i]!));
      const before = await verifyAuditTrail(work, { publicKeys: [keys.publicKey] });
      await captureWarnings(async () => {
        try {
          const sink = await openFileAuditSink({ dir: work, signingKey: keys.privateKey }, {});
          await sink.append(accessEvent(1));
          await sink.close();
        } catch (error) {
          if (!isPurposekitError(error)) throw new Error(`the writer failed with an untyped error: ${String(error)}`);
        }
      });
      const after = await verifyAuditTrail(work, { publicKeys: [keys.publicKey] });
      if (!before.ok && after.ok) throw new Error(`a restart hid tampering (${before.problem?.kind}): ${JSON.stringify(mutations)}`);
    }),
    { numRuns: WRITER_RUNS },
  );
}, 60_000);
