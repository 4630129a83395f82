// Verify against anchors and an expected head; robust verdicts for hostile input (found by
// fuzzing): never an internal error, a location for every malformed line, no file handle
// left open when verification stops early.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFileAuditAnchor } from './anchors';
import { openFileAuditSink } from './file-sink';
import { verifyAuditTrail } from './verify';
import type { AnchoredHead } from './types';
import { accessEvent, cleanupDirs, keyPair, readLines, readRecords, tempDir, trailFiles, writeLines } from './__tests__/helpers';

const keys = keyPair();
const other = keyPair();
const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
afterEach(cleanupDirs);

async function anchoredTrail(events = 10, maxFileBytes?: number): Promise<{ dir: string; heads: AnchoredHead[] }> {
  const dir = tempDir('robust');
  const heads: AnchoredHead[] = [];
  const sink = await openFileAuditSink({ dir, signingKey: keys.privateKey, checkpointEvery: 3, ...(maxFileBytes === undefined ? {} : { maxFileBytes }), anchors: [(h) => void heads.push(h)] }, { now: () => T0 });
  for (let i = 0; i < events; i++) await sink.append(accessEvent(i));
  await sink.close();
  return { dir, heads };
}

describe('verifyAuditTrail: anchors and an expected head', () => {
  it('holds every anchored head, and says how far anchoring reaches', async () => {
    const { dir, heads } = await anchoredTrail();
    const r = await verifyAuditTrail(dir, { publicKeys: [keys.publicKey], anchors: heads });
    expect(r).toMatchObject({ ok: true, anchorsChecked: heads.length, anchored: { seq: heads.at(-1)!.seq, hash: heads.at(-1)!.hash }, unanchoredTail: 0 });
  });

  it('accepts an async iterable of heads and an anchor with heads(); ignores other streams', async () => {
    const { dir, heads } = await anchoredTrail();
    const foreign = { ...heads[0]!, stream: 'billing', hash: 'f'.repeat(64) };
    async function* list(): AsyncGenerator<AnchoredHead> {
      yield foreign;
      yield* heads;
    }
    expect((await verifyAuditTrail(dir, { publicKeys: [keys.publicKey], anchors: list() })).ok).toBe(true);
    expect((await verifyAuditTrail(dir, { publicKeys: [keys.publicKey], anchors: [{ name: 'db', publish: async () => undefined, heads: list }] })).ok).toBe(true);
  });

  it('expectHead: the kept head holds; a different hash at its seq is a fork; a seq past the end is a rollback', async () => {
    const { dir, heads } = await anchoredTrail();
    const h = heads[1]!;
    expect((await verifyAuditTrail(dir, { publicKeys: [keys.publicKey], expectHead: { seq: h.seq, hash: h.hash } })).ok).toBe(true);
    expect((await verifyAuditTrail(dir, { publicKeys: [keys.publicKey], expectHead: { seq: h.seq, hash: 'a'.repeat(64) } })).problem).toMatchObject({ kind: 'forked', seq: h.seq });
    expect((await verifyAuditTrail(dir, { publicKeys: [keys.publicKey], expectHead: { seq: 999, hash: 'a'.repeat(64) } })).problem).toMatchObject({ kind: 'rolled-back', seq: 999, file: 'the expected head' });
    await expect(verifyAuditTrail(dir, { expectHead: { seq: 0, hash: 'x' } })).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_INVALID_OPTION' });
  });

  it('two anchors that disagree about one seq are a fork (two signed histories)', async () => {
    const { dir, heads } = await anchoredTrail();
    const h = heads[0]!;
    const r = await verifyAuditTrail(dir, { anchors: [...heads, { ...h, hash: 'b'.repeat(64), prev: undefined } as unknown as AnchoredHead] });
    expect(r.problem).toMatchObject({ kind: 'forked', seq: h.seq });
  });

  it('a head planted in an anchor without the key is refused as bad-signature, not taken for evidence', async () => {
    const { dir, heads } = await anchoredTrail();
    const { makeCheckpoint } = await import('./checkpoint');
    const fake = makeCheckpoint({ seq: 500, ts: '2026-11-22T12:00:00.000Z', prev: 'c'.repeat(64), keyId: heads[0]!.keyId }, other.privateKey).record;
    const planted: AnchoredHead = { stream: 'audit', seq: 500, hash: fake.hash, ts: fake.ts, keyId: fake.keyId, sig: fake.sig, prev: fake.prev };
    expect((await verifyAuditTrail(dir, { publicKeys: [keys.publicKey], anchors: [...heads, planted] })).problem).toMatchObject({ kind: 'bad-signature', seq: 500 });
  });

  it('a file anchor is read back for verify; a corrupt anchor line is an error, not a verdict', async () => {
    const { dir, heads } = await anchoredTrail();
    const path = join(tempDir('robust-anchor'), 'a.jsonl');
    const anchor = createFileAuditAnchor({ path });
    for (const h of heads) await anchor.publish(h);
    await anchor.publish(heads[0]!); // idempotent
    expect(readLines(path)).toHaveLength(heads.length);
    expect((await verifyAuditTrail(dir, { publicKeys: [keys.publicKey], anchors: [anchor] })).ok).toBe(true);
    writeFileSync(path, 'nonsense\n', { flag: 'a' });
    await expect(verifyAuditTrail(dir, { anchors: [createFileAuditAnchor({ path })] })).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_AUDIT_CORRUPT' });
  });
});

describe('verifyAuditTrail: robust verdicts for hostile lines', () => {
  async function withLine(mutate: (line: string) => string): Promise<ReturnType<typeof verifyAuditTrail>> {
    const { dir } = await anchoredTrail(4);
    const file = trailFiles(dir)[0]!;
    const lines = readLines(file);
    lines[1] = mutate(lines[1]!);
    writeLines(file, lines);
    return verifyAuditTrail(dir, { publicKeys: [keys.publicKey] });
  }

  it.each([
    ['a number that parses as Infinity (1e999)', (l: string) => l.replace('"seq":2', '"seq":1e999'), /number out of range/],
    ['1e999 inside attributes', (l: string) => l.replace('"v":1}', '"attributes":{"n":-1e999},"v":1}'), /number out of range/],
    ['members nested 100 000 levels deep', (l: string) => l.replace('"v":1}', `"attributes":{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}},"v":1}`), /nested 100\d+ levels deep/],
    ['objects nested 5 000 levels deep', (l: string) => l.replace('"v":1}', `"x":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)},"v":1}`), /nested 500\d levels deep/],
    ['a duplicate member', (l: string) => l.replace('"v":1}', '"v":1,"v":1}'), /names a member twice/],
  ])('%s: malformed, with file and line', async (_name, mutate, why) => {
    const r = await withLine(mutate);
    expect(r.problem).toMatchObject({ kind: 'malformed', file: 'audit-00000001.jsonl', line: 2 });
    expect(r.problem!.message).toMatch(why);
  });

  it('the writer refuses such a last line at start-up (a verdict, not a crash)', async () => {
    const { dir } = await anchoredTrail(2);
    const file = trailFiles(dir)[0]!;
    writeFileSync(file, `${'['.repeat(200_000)}${']'.repeat(200_000)}\n`, { flag: 'a' });
    await expect(openFileAuditSink({ dir, signingKey: keys.privateKey }, {})).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_AUDIT_CORRUPT' });
  });

  it('closes every file handle when it stops at a problem early (counted in /proc/self/fd)', async () => {
    const { dir } = await anchoredTrail(400, 4096);
    expect(trailFiles(dir).length).toBeGreaterThan(10);
    const first = trailFiles(dir)[0]!;
    const lines = readLines(first);
    lines[1] = lines[1]!.replace('"read"', '"sold"');
    writeLines(first, lines);
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const before = fds();
    for (let i = 0; i < 20; i++) expect((await verifyAuditTrail(dir, { publicKeys: [keys.publicKey] })).problem?.kind).toBe('edited');
    expect(fds()).toBe(before);
    expect(readRecords(dir).length).toBeGreaterThan(400);
  });
});

describe('verifyAuditTrail: maxCheckpointAge (what heartbeats are for)', () => {
  it('a quiet but running writer passes; a trail whose newest checkpoint is older than allowed is stale', async () => {
    const { dir } = await anchoredTrail(3); // every checkpoint at T0 (the sink's clock)
    const hour = 3_600_000;
    const age = { ms: hour + 5000 };
    expect((await verifyAuditTrail(dir, { publicKeys: [keys.publicKey], maxCheckpointAge: { ...age, at: T0 + hour } })).ok).toBe(true);
    const stale = await verifyAuditTrail(dir, { publicKeys: [keys.publicKey], maxCheckpointAge: { ...age, at: new Date(T0 + 2 * hour) } });
    expect(stale.problem).toMatchObject({ kind: 'stale', file: 'audit-00000001.jsonl' });
    expect(stale.problem!.message).toMatch(/signed at 2026-11-22T12:00:00\.000Z, more than 3605 s before 2026-11-22T14:00:00\.000Z/);
    await expect(verifyAuditTrail(dir, { maxCheckpointAge: { ms: -1 } })).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_INVALID_OPTION' });
  });
});
