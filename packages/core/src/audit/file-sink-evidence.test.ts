// Every path by which a writer could write over evidence (issue 12, "a bug to fix first";
// docs/audit-format.md §7): the head file, quarantine, rotation and recovery. Each test
// builds the tampered state on disk and asserts the writer refuses it (or keeps every byte).
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isPurposekitError } from '../errors';
import { sealAuditRecord } from './encode';
import { openFileAuditSink } from './file-sink';
import type { FileAuditSink } from './file-sink';
import type { FileAuditSinkOptions } from './types';
import { verifyAuditTrail } from './verify';
import { accessEvent, cleanupDirs, captureWarnings, faultyIo, keyPair, readLines, readRecords, tempDir, trailFiles, writeLines } from './__tests__/helpers';

const keys = keyPair();
const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);

afterEach(cleanupDirs);

async function openSink(dir: string, options: Partial<FileAuditSinkOptions> = {}, io = faultyIo()): Promise<FileAuditSink> {
  return openFileAuditSink({ dir, signingKey: keys.privateKey, ...options }, { io, now: () => T0 });
}

async function refusal(p: Promise<unknown>): Promise<{ code: string; details: unknown }> {
  try {
    const sink = (await p) as FileAuditSink;
    await sink.close();
  } catch (error) {
    if (!isPurposekitError(error)) throw error;
    return { code: error.code, details: error.details };
  }
  throw new Error('expected the writer to refuse');
}

/** A snapshot of every file of a directory: name → bytes. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(dir).sort()) if (n !== 'audit.lock') out[n] = readFileSync(join(dir, n), 'latin1');
  return out;
}

/** A trail over several files whose head checkpoint is `head`, closed. */
async function rotatedTrail(dir: string): Promise<void> {
  const sink = await openSink(dir, { maxFileBytes: 2048, checkpointEvery: 3 });
  for (let i = 0; i < 20; i++) await sink.append(accessEvent(i));
  await sink.close();
}

function head(dir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, 'audit.head.json'), 'utf8')) as Record<string, unknown>;
}

describe('the head file disagrees with the trail', () => {
  it('refuses a trail rewritten from before the head checkpoint, when the head seq lies in an earlier file (the swapped-head-then-restart case)', async () => {
    const dir = tempDir();
    await rotatedTrail(dir);
    const h = head(dir);
    const hseq = h['seq'] as number;
    // The attacker keeps records 1..hseq-2 and writes a fresh, self-consistent chain from
    // there on (no signature needed for event records), long enough to reach a new file.
    const files = trailFiles(dir);
    const kept: string[][] = files.map((f) => readLines(f).filter((l) => (JSON.parse(l) as { seq: number }).seq <= hseq - 2));
    let prev = (JSON.parse(kept.flat().at(-1)!) as { hash: string }).hash;
    const forged: string[] = [];
    for (let seq = hseq - 1; seq <= hseq + 3; seq++) {
      const r = sealAuditRecord(accessEvent(100 + seq, { requestId: `forged-${seq}` }), { seq, ts: '2026-11-22T12:00:00.000Z', prev });
      forged.push(JSON.stringify(r));
      prev = r.hash;
    }
    const lastKept = kept.findLastIndex((l) => l.length > 0);
    files.forEach((f, i) => writeLines(f, i < lastKept ? kept[i]! : i === lastKept ? [...kept[i]!, ...forged.slice(0, 2)] : []));
    writeLines(join(dir, `audit-${String(files.length + 1).padStart(8, '0')}.jsonl`), forged.slice(2));
    // verify reports it (the first thing it meets: an earlier file no longer ends with a checkpoint) …
    expect((await verifyAuditTrail(dir, { publicKeys: [keys.publicKey] })).problem?.kind).toBe('missing');
    const before = snapshot(dir);
    // … and the writer refuses to seal it (it would replace the head and make verify pass)
    expect(await refusal(openSink(dir))).toEqual({ code: 'PURPOSEKIT_ERR_AUDIT_CORRUPT', details: { file: 'audit.head.json', problem: 'edited' } });
    expect(snapshot(dir)).toEqual(before);
    expect((await verifyAuditTrail(dir, { publicKeys: [keys.publicKey] })).problem?.kind).toBe('missing');
  });

  it('refuses when the head seq is far back in the last file (beyond the tail window)', async () => {
    const dir = tempDir();
    const sink = await openSink(dir, { checkpointEvery: 5 });
    for (let i = 0; i < 4; i++) await sink.append(accessEvent(i));
    await sink.flush();
    await sink.close(); // checkpoint at seq 5: the head
    const hseq = head(dir)['seq'] as number;
    const file = trailFiles(dir)[0]!;
    const lines = readLines(file);
    // replace the checkpoint at the head's seq with an event, and add ~200 KiB of records after it
    let prev = (JSON.parse(lines[hseq - 2]!) as { hash: string }).hash;
    const out = lines.slice(0, hseq - 1);
    for (let seq = hseq; seq < hseq + 600; seq++) {
      const r = sealAuditRecord(accessEvent(seq, { requestId: `forged-${seq}` }), { seq, ts: '2026-11-22T12:00:00.000Z', prev });
      out.push(JSON.stringify(r));
      prev = r.hash;
    }
    writeLines(file, out);
    expect(readFileSync(file).length).toBeGreaterThan(128 * 1024);
    expect(await refusal(openSink(dir))).toEqual({ code: 'PURPOSEKIT_ERR_AUDIT_CORRUPT', details: { file: 'audit.head.json', problem: 'edited' } });
  });

  it.each([
    ['edited (its content no longer matches its hash)', (h: Record<string, unknown>) => JSON.stringify({ ...h, ts: '2030-01-01T00:00:00.000Z' }), 'edited'],
    ['re-hashed with a forged signature', (h: Record<string, unknown>) => forgedHead(h), 'bad-signature'],
    ['not JSON', () => 'garbage', 'malformed'],
    ['not a checkpoint', () => JSON.stringify({ seq: 1 }), 'malformed'],
  ])('refuses a head file that is %s', async (_name, change, problem) => {
    const dir = tempDir();
    await rotatedTrail(dir);
    writeFileSync(join(dir, 'audit.head.json'), change(head(dir)));
    const before = snapshot(dir);
    expect(await refusal(openSink(dir))).toEqual({ code: 'PURPOSEKIT_ERR_AUDIT_CORRUPT', details: { file: 'audit.head.json', problem } });
    expect(snapshot(dir)).toEqual(before);
  });

  it('refuses a head whose seq the trail no longer holds (earlier files removed)', async () => {
    const dir = tempDir();
    await rotatedTrail(dir);
    const files = trailFiles(dir);
    const h = head(dir);
    // keep the head but point it into the first file, then remove that file
    const firstCheckpoint = readLines(files[0]!).map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r['kind'] === 'checkpoint')!;
    writeFileSync(join(dir, 'audit.head.json'), JSON.stringify(firstCheckpoint));
    writeFileSync(files[0]!, '');
    expect(h['seq']).toBeGreaterThan(firstCheckpoint['seq'] as number);
    expect(await refusal(openSink(dir))).toEqual({ code: 'PURPOSEKIT_ERR_AUDIT_CORRUPT', details: { file: 'audit.head.json', problem: 'missing' } });
  });

  it('accepts an older, intact head (a checkpoint the trail holds) and replaces it with the newest', async () => {
    const dir = tempDir();
    await rotatedTrail(dir);
    const firstCheckpoint = readLines(trailFiles(dir)[0]!).find((l) => l.includes('"kind":"checkpoint"'))!;
    writeFileSync(join(dir, 'audit.head.json'), firstCheckpoint);
    const sink = await openSink(dir);
    await sink.append(accessEvent(99));
    await sink.close();
    expect(head(dir)['seq']).toBe(readRecords(dir).at(-1)!['seq']);
    expect((await verifyAuditTrail(dir, { publicKeys: [keys.publicKey] })).ok).toBe(true);
  });
});

function forgedHead(h: Record<string, unknown>): string {
  const other = keyPair();
  const { createHash, sign } = require('node:crypto') as typeof import('node:crypto');
  const { canonicalJson } = require('./encode') as typeof import('./encode');
  const { sig: _s, hash: _h, ...unsigned } = h;
  const sig = sign(null, Buffer.from(canonicalJson(unsigned)), other.privateKey).toString('base64url');
  const signed = { ...unsigned, sig };
  return JSON.stringify({ ...signed, hash: createHash('sha256').update(canonicalJson(signed)).digest('hex') });
}

describe('quarantine sets aside only what was never acknowledged', () => {
  it('refuses (does not quarantine) a complete last line that is not JSON: an acknowledged record damaged later', async () => {
    const dir = tempDir();
    const sink = await openSink(dir);
    await sink.append(accessEvent(1));
    await sink.append(accessEvent(2));
    await sink.close();
    const file = trailFiles(dir)[0]!;
    const lines = readLines(file);
    writeLines(file, [...lines.slice(0, -1), lines.at(-1)!.slice(1)]); // the last record, one byte gone
    const before = snapshot(dir);
    expect(await refusal(openSink(dir))).toEqual({ code: 'PURPOSEKIT_ERR_AUDIT_CORRUPT', details: { file: 'audit-00000001.jsonl', problem: 'malformed' } });
    expect(snapshot(dir)).toEqual(before);
  });

  it('refuses (does not quarantine) torn bytes at the end of a file that is not the last one', async () => {
    const dir = tempDir();
    await rotatedTrail(dir);
    const files = trailFiles(dir);
    const before1 = files.at(-2)!;
    writeFileSync(before1, `${readFileSync(before1, 'utf8')}{"half":`);
    writeFileSync(files.at(-1)!, ''); // the last file is empty: the chain ends in the one before
    const before = snapshot(dir);
    expect((await refusal(openSink(dir))).code).toBe('PURPOSEKIT_ERR_AUDIT_CORRUPT');
    expect(snapshot(dir)).toEqual(before);
  });
});

describe('rotation never joins a file it did not create', () => {
  it('a file planted at the next index: the rotation is refused and the planted bytes are kept', async () => {
    const dir = tempDir();
    const sink = await openSink(dir, { maxFileBytes: 1024 });
    let i = 0;
    while (trailFiles(dir).length < 1 || readFileSync(trailFiles(dir)[0]!).length < 1024) await sink.append(accessEvent(i++));
    const planted = join(dir, 'audit-00000002.jsonl');
    writeFileSync(planted, 'someone else\n');
    const { result } = await captureWarnings(() => sink.append(accessEvent(500)).then(() => 'ok', (e: { code: string }) => e.code));
    expect(result).toBe('PURPOSEKIT_ERR_AUDIT_UNAVAILABLE');
    expect(readFileSync(planted, 'utf8')).toBe('someone else\n');
    // recovery moves the planted bytes to a quarantine file (kept, not lost) and goes on
    await captureWarnings(async () => {
      await sink.append(accessEvent(501));
      await sink.close();
    });
    const quarantined = readdirSync(dir).filter((n) => n.startsWith('audit-00000002.jsonl.quarantine-'));
    expect(quarantined.map((n) => readFileSync(join(dir, n), 'utf8'))).toEqual(['someone else\n']);
    expect((await verifyAuditTrail(dir, { publicKeys: [keys.publicKey] })).ok).toBe(true);
  });
});

describe('recovery never papers over a changed file', () => {
  it('an acknowledged record edited during an outage: stays unavailable, the file is left as found', async () => {
    const io = faultyIo();
    const dir = tempDir();
    const sink = await openSink(dir, {}, io);
    await sink.append(accessEvent(1));
    await sink.append(accessEvent(2));
    io.faults.fdatasync = () => Object.assign(new Error('EIO'), { code: 'EIO' });
    await captureWarnings(() => sink.append(accessEvent(3)).catch(() => undefined));
    io.faults.fdatasync = undefined;
    const file = trailFiles(dir)[0]!;
    const lines = readLines(file);
    // someone rewrites the last acknowledged record (seq 2) while the writer is failing
    writeLines(file, [lines[0]!, lines[1]!.replace('req-2', 'req-X')]);
    const before = readFileSync(file, 'utf8');
    const { result } = await captureWarnings(() => sink.append(accessEvent(4)).then(() => 'ok', (e: { code: string }) => e.code));
    expect(result).toBe('PURPOSEKIT_ERR_AUDIT_UNAVAILABLE');
    expect(readFileSync(file, 'utf8')).toBe(before);
    await expect(sink.close()).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE' });
    expect(existsSync(join(dir, 'audit.lock'))).toBe(false);
  });
});
