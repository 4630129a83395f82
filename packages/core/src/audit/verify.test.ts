import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCheckpoint } from './checkpoint';
import { canonicalJson, sealAuditRecord, sha256Hex } from './encode';
import { openFileAuditSink } from './file-sink';
import { auditKeyId } from './keys';
import { verifyAuditTrail } from './verify';
import type { AuditVerifyResult } from './verify';
import { accessEvent, cleanupDirs, keyPair, readLines, tempDir, trailFiles, writeLines } from './__tests__/helpers';

const keys = keyPair();
const other = keyPair();
const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);

afterEach(cleanupDirs);

/** A closed trail of `events` access records (checkpoint every 4: seq 5, 10, 15, … and one on close). */
async function buildTrail(events = 12, options: { maxFileBytes?: number } = {}): Promise<string> {
  const dir = tempDir('verify');
  let t = T0;
  const sink = await openFileAuditSink({ dir, signingKey: keys.privateKey, checkpointEvery: 4, ...options }, { now: () => (t += 1000) });
  for (let i = 1; i <= events; i++) await sink.append(accessEvent(i));
  await sink.close();
  return dir;
}

type Line = Record<string, unknown>;
const parse = (l: string): Line => JSON.parse(l) as Line;
const indexOfSeq = (lines: string[], seq: number): number => lines.findIndex((l) => parse(l)['seq'] === seq);

function editFile(dir: string, edit: (lines: string[]) => string[], file = trailFiles(dir)[0]!): void {
  writeLines(file, edit(readLines(file)));
}

async function verify(dir: string, options = {}): Promise<AuditVerifyResult> {
  return verifyAuditTrail(dir, { publicKeys: [keys.publicKey], ...options });
}

function problemOf(result: AuditVerifyResult): unknown {
  expect(result.ok).toBe(false);
  const p = result.problem!;
  return { kind: p.kind, file: p.file, line: p.line, seq: p.seq };
}

describe('verifyAuditTrail: an intact trail', () => {
  it('holds: every hash, link, checkpoint signature and the head', async () => {
    const dir = await buildTrail();
    const result = await verify(dir);
    expect(result).toMatchObject({
      ok: true,
      records: 15, // 12 events + checkpoints at 5, 10, 15
      checkpoints: 3,
      firstSeq: 1,
      lastSeq: 15,
      unsignedTail: 0,
      signaturesChecked: true,
      files: ['audit-00000001.jsonl'],
      head: { seq: 15 },
      notes: [],
    });
    expect(result.lastCheckpoint).toMatchObject({ seq: 15, keyId: auditKeyId(keys.publicKey) });
  });

  it('without public keys: links are checked, signatures are not, and it says so', async () => {
    const dir = await buildTrail();
    editFile(dir, (lines) => {
      const i = indexOfSeq(lines, 10);
      const forged = makeCheckpoint({ seq: 10, ts: String(parse(lines[i]!)['ts']), prev: String(parse(lines[i]!)['prev']), keyId: 'x' }, other.privateKey);
      lines[i] = forged.line;
      return lines.slice(0, i + 1);
    });
    unlinkSync(join(dir, 'audit.head.json'));
    const result = await verifyAuditTrail(dir);
    expect(result).toMatchObject({ ok: true, signaturesChecked: false, checkpoints: 0 });
  });

  it('reports records after the last checkpoint, and a torn last line as a note', async () => {
    const dir = await buildTrail(3);
    // as a crash leaves it: no final checkpoint yet, half a record at the end
    editFile(dir, (lines) => lines.slice(0, 3));
    unlinkSync(join(dir, 'audit.head.json'));
    writeFileSync(trailFiles(dir)[0]!, `${readFileSync(trailFiles(dir)[0]!, 'utf8')}{"action":"re`);
    const result = await verify(dir);
    expect(result).toMatchObject({ ok: true, records: 3, unsignedTail: 3 });
    expect(result.notes).toEqual([
      'No head file: records cut off after the last checkpoint cannot be detected.',
      'audit-00000001.jsonl:4 is an incomplete last line (a crash during a write; never acknowledged). The sink moves it to a quarantine file when it next starts.',
    ]);
  });

  it('reports progress in bytes up to the total', async () => {
    const dir = await buildTrail();
    const seen: Array<[number, number]> = [];
    await verify(dir, { onProgress: (done: number, total: number) => seen.push([done, total]) });
    const total = readFileSync(trailFiles(dir)[0]!).length;
    expect(seen[seen.length - 1]).toEqual([total, total]);
  });
});

describe('verifyAuditTrail: each kind of tampering is detected and named', () => {
  it('edited: one byte of a value changed', async () => {
    const dir = await buildTrail();
    editFile(dir, (lines) => {
      lines[2] = lines[2]!.replace('"actor":"svc:accounts"', '"actor":"svc:accountz"');
      return lines;
    });
    const result = await verify(dir);
    expect(problemOf(result)).toEqual({ kind: 'edited', file: 'audit-00000001.jsonl', line: 3, seq: 3 });
    expect(result.problem!.message).toBe('Record seq 3 at audit-00000001.jsonl:3 was edited: its content does not match its hash.');
  });

  it('edited: a record changed and re-hashed is named through the broken link', async () => {
    const dir = await buildTrail();
    editFile(dir, (lines) => {
      const { hash: _h, ...rest } = parse(lines[2]!);
      const changed = { ...rest, decision: 'deny' };
      lines[2] = canonicalJson({ ...changed, hash: sha256Hex(canonicalJson(changed)) });
      return lines;
    });
    const result = await verify(dir);
    expect(problemOf(result)).toEqual({ kind: 'edited', file: 'audit-00000001.jsonl', line: 3, seq: 3 });
    expect(result.problem!.message).toMatch(/^Record seq 3 at audit-00000001\.jsonl:3 was changed after it was written \(and re-hashed\)/);
  });

  it('missing: a record deleted', async () => {
    const dir = await buildTrail();
    editFile(dir, (lines) => lines.filter((_, i) => i !== 2));
    const result = await verify(dir);
    expect(problemOf(result)).toEqual({ kind: 'missing', file: 'audit-00000001.jsonl', line: 3, seq: 3 });
    expect(result.problem!.message).toBe('Record seq 3 is missing before audit-00000001.jsonl:3.');
  });

  it.each([
    ['two neighbours', 3, 4],
    ['two records far apart', 2, 8],
  ])('reordered: %s swapped', async (_name, a, b) => {
    const dir = await buildTrail();
    editFile(dir, (lines) => {
      const i = indexOfSeq(lines, a);
      const j = indexOfSeq(lines, b);
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      return lines;
    });
    const result = await verify(dir);
    expect(problemOf(result)).toEqual({ kind: 'reordered', file: 'audit-00000001.jsonl', line: a, seq: b });
  });

  it('inserted: a forged record with a valid hash and link, named where it stands', async () => {
    const dir = await buildTrail();
    editFile(dir, (lines) => {
      const third = parse(lines[2]!);
      const forged = sealAuditRecord(accessEvent(99, { actor: 'svc:intruder' }), { seq: 4, ts: String(third['ts']), prev: String(third['hash']) });
      lines.splice(3, 0, JSON.stringify(forged));
      return lines;
    });
    const result = await verify(dir);
    expect(problemOf(result)).toEqual({ kind: 'inserted', file: 'audit-00000001.jsonl', line: 4, seq: 4 });
    expect(result.problem!.message).toMatch(/does not belong to the chain: the chain continues from the record at audit-00000001\.jsonl:5, which holds the same seq/);
  });

  it('inserted: a forged record appended after the genuine one with the same seq', async () => {
    const dir = await buildTrail();
    editFile(dir, (lines) => {
      const third = parse(lines[2]!);
      lines.splice(4, 0, JSON.stringify(sealAuditRecord(accessEvent(99), { seq: 4, ts: String(third['ts']), prev: String(third['hash']) })));
      return lines;
    });
    expect(problemOf(await verify(dir))).toEqual({ kind: 'inserted', file: 'audit-00000001.jsonl', line: 5, seq: 4 });
  });

  it('inserted: a copy of an existing record', async () => {
    const dir = await buildTrail();
    editFile(dir, (lines) => [...lines.slice(0, 6), lines[1]!, ...lines.slice(6)]);
    const result = await verify(dir);
    expect(problemOf(result)).toEqual({ kind: 'inserted', file: 'audit-00000001.jsonl', line: 7, seq: 2 });
    expect(result.problem!.message).toBe('Record at audit-00000001.jsonl:7 is a copy of seq 2 (first at audit-00000001.jsonl:2): it was inserted.');
  });

  it('inserted: a record with a made-up seq and link', async () => {
    const dir = await buildTrail();
    editFile(dir, (lines) => {
      lines.splice(3, 0, JSON.stringify(sealAuditRecord(accessEvent(99), { seq: 999, ts: '2026-11-22T12:00:00.000Z', prev: 'f'.repeat(64) })));
      return lines;
    });
    expect(problemOf(await verify(dir))).toEqual({ kind: 'inserted', file: 'audit-00000001.jsonl', line: 4, seq: 999 });
  });

  it('truncated: the tail cut before the last checkpoint (the head file shows it)', async () => {
    const dir = await buildTrail();
    editFile(dir, (lines) => lines.slice(0, indexOfSeq(lines, 13) + 1));
    const result = await verify(dir);
    expect(problemOf(result)).toEqual({ kind: 'truncated', file: 'audit.head.json', line: 0, seq: 15 });
    expect(result.problem!.message).toBe('The trail ends at seq 13, but its head checkpoint (audit.head.json) shows seq 15 was written: records were cut off.');
  });

  it('truncated: the tail cut in the middle of a line before the last checkpoint', async () => {
    const dir = await buildTrail();
    const file = trailFiles(dir)[0]!;
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.slice(0, text.indexOf('"seq":14') - 40));
    expect(problemOf(await verify(dir))).toEqual({ kind: 'truncated', file: 'audit.head.json', line: 0, seq: 15 });
  });

  it('bad-signature: a checkpoint forged with another key (under its own key id)', async () => {
    const dir = await buildTrail();
    editFile(dir, (lines) => {
      const i = indexOfSeq(lines, 15);
      const cp = parse(lines[i]!);
      lines[i] = makeCheckpoint({ seq: 15, ts: String(cp['ts']), prev: String(cp['prev']), keyId: auditKeyId(other.publicKey) }, other.privateKey).line;
      return lines;
    });
    const result = await verify(dir);
    expect(problemOf(result)).toEqual({ kind: 'bad-signature', file: 'audit-00000001.jsonl', line: 15, seq: 15 });
    expect(result.problem!.message).toBe(`Checkpoint seq 15 at audit-00000001.jsonl:15 has a bad signature: it names key id ${auditKeyId(other.publicKey)}, and its signature does not verify with the supplied public key.`);
  });

  it('bad-signature: a checkpoint forged with another key under the real key id', async () => {
    const dir = await buildTrail();
    editFile(dir, (lines) => {
      const i = indexOfSeq(lines, 15);
      const cp = parse(lines[i]!);
      lines[i] = makeCheckpoint({ seq: 15, ts: String(cp['ts']), prev: String(cp['prev']), keyId: auditKeyId(keys.publicKey) }, other.privateKey).line;
      return lines;
    });
    const result = await verify(dir, { publicKeys: [keys.publicKey, other.publicKey].slice(0, 1) });
    expect(problemOf(result)).toEqual({ kind: 'bad-signature', file: 'audit-00000001.jsonl', line: 15, seq: 15 });
    expect(result.problem!.message).toMatch(/its signature does not verify with the public key of key id/);
  });

  it('bad-signature: a key id that none of several supplied keys has', async () => {
    const dir = await buildTrail();
    const result = await verifyAuditTrail(dir, { publicKeys: [other.publicKey, keyPair().publicKey] });
    expect(problemOf(result)).toEqual({ kind: 'bad-signature', file: 'audit-00000001.jsonl', line: 5, seq: 5 });
    expect(result.problem!.message).toMatch(/is signed with key id .*, which is not among the supplied public keys\.$/);
  });

  it('bad-signature: the head file re-signed with another key', async () => {
    const dir = await buildTrail();
    const headPath = join(dir, 'audit.head.json');
    const head = parse(readFileSync(headPath, 'utf8'));
    writeFileSync(headPath, makeCheckpoint({ seq: 15, ts: String(head['ts']), prev: String(head['prev']), keyId: auditKeyId(keys.publicKey) }, other.privateKey).line);
    expect(problemOf(await verify(dir))).toEqual({ kind: 'bad-signature', file: 'audit.head.json', line: 0, seq: 15 });
  });

  it('malformed and unsupported-version lines', async () => {
    const dir = await buildTrail();
    editFile(dir, (lines) => {
      lines[3] = 'not json';
      return lines;
    });
    expect(problemOf(await verify(dir))).toEqual({ kind: 'malformed', file: 'audit-00000001.jsonl', line: 4, seq: undefined });
    const dir2 = await buildTrail();
    editFile(dir2, (lines) => {
      lines[3] = JSON.stringify({ ...parse(lines[3]!), v: 2 });
      return lines;
    });
    expect(problemOf(await verify(dir2))).toEqual({ kind: 'unsupported-version', file: 'audit-00000001.jsonl', line: 4, seq: undefined });
  });
});

describe('verifyAuditTrail: rotated trails', () => {
  it('follows the chain across files', async () => {
    const dir = await buildTrail(30, { maxFileBytes: 2048 });
    const result = await verify(dir);
    expect(result.ok).toBe(true);
    expect(result.files.length).toBeGreaterThan(3);
  });

  it('missing: a whole file removed from the middle', async () => {
    const dir = await buildTrail(30, { maxFileBytes: 2048 });
    const files = trailFiles(dir);
    const firstOfThird = parse(readLines(files[2]!)[0]!)['seq'];
    const firstOfSecond = parse(readLines(files[1]!)[0]!)['seq'];
    unlinkSync(files[1]!);
    const result = await verify(dir);
    expect(problemOf(result)).toEqual({ kind: 'missing', file: 'audit-00000003.jsonl', line: 1, seq: firstOfSecond });
    expect(result.problem!.message).toBe(`Records seq ${String(firstOfSecond)}–${Number(firstOfThird) - 1} are missing before audit-00000003.jsonl:1 (the end of audit-00000001.jsonl or a whole file was removed).`);
  });

  it('truncated: an earlier file cut in the middle of a record', async () => {
    const dir = await buildTrail(30, { maxFileBytes: 2048 });
    const file = trailFiles(dir)[1]!;
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.slice(0, text.length - 20));
    const result = await verify(dir);
    expect(problemOf(result)).toMatchObject({ kind: 'truncated', file: 'audit-00000002.jsonl' });
  });

  it('a trail whose oldest files were removed: missing, unless verified as partial', async () => {
    const dir = await buildTrail(30, { maxFileBytes: 2048 });
    unlinkSync(trailFiles(dir)[0]!);
    const strict = await verify(dir);
    expect(problemOf(strict)).toMatchObject({ kind: 'missing', file: 'audit-00000002.jsonl', line: 1, seq: 1 });
    const partial = await verify(dir, { partial: true });
    expect(partial.ok).toBe(true);
    expect(partial.notes).toContain(`The trail starts at seq ${partial.firstSeq}: earlier records were not checked (partial).`);
  });

  it('verifies one file on its own, noting what was not checked', async () => {
    const dir = await buildTrail(30, { maxFileBytes: 2048 });
    const result = await verify(trailFiles(dir)[1]!);
    expect(result.ok).toBe(true);
    expect(result.notes[0]).toBe('A single file was verified: links to other files and the head file were not checked.');
  });
});

describe('verifyAuditTrail: input errors', () => {
  it('a missing path is PURPOSEKIT_ERR_FILE_ACCESS', async () => {
    await expect(verify('/nonexistent/trail')).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_FILE_ACCESS', details: { code: 'ENOENT' } });
  });

  it('a directory with two trails needs a prefix', async () => {
    const dir = await buildTrail(2);
    writeFileSync(join(dir, 'other-00000001.jsonl'), '');
    await expect(verify(dir)).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_INVALID_OPTION' });
    expect((await verify(dir, { prefix: 'audit' })).ok).toBe(true);
  });
});

describe('verifyAuditTrail: lines another reader could read differently are malformed', () => {
  it('a member named twice (JSON.parse keeps the last value; the hash matched the original)', async () => {
    const dir = await buildTrail(6);
    editFile(dir, (ls) => ls.map((l) => (parse(l)['seq'] === 3 ? l.replace('{', '{"decision":"deny",') : l)));
    expect(problemOf(await verify(dir))).toMatchObject({ kind: 'malformed', seq: undefined, line: 3 });
  });

  it('a signature re-spelled through its spare bits (same bytes, another head hash, no key needed)', async () => {
    const dir = await buildTrail(6);
    editFile(dir, (ls) => {
      const i = ls.length - 1;
      const cp = parse(ls[i]!);
      const sig = cp['sig'] as string;
      const last = sig.at(-1)!;
      // The last of 86 characters carries 2 data bits and 4 spare bits: flip a spare bit.
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const respelled = alphabet[alphabet.indexOf(last) ^ 1]!;
      expect(Buffer.from(sig.slice(0, -1) + respelled, 'base64url').equals(Buffer.from(sig, 'base64url'))).toBe(true);
      return ls.map((l, j) => (j === i ? l.replace(`"sig":"${sig}"`, `"sig":"${sig.slice(0, -1)}${respelled}"`) : l));
    });
    const r = await verify(dir);
    expect(r.ok).toBe(false);
    expect(r.problem).toMatchObject({ kind: 'malformed' });
    expect(r.problem!.message).toContain('canonical base64url');
  });

  it('a CR, or a null value', async () => {
    const cr = await buildTrail(6);
    editFile(cr, (ls) => ls.map((l) => (parse(l)['seq'] === 2 ? l.replace('"action":', '\r"action":') : l)));
    expect((await verify(cr)).problem).toMatchObject({ kind: 'malformed', line: 2 });
    const nul = await buildTrail(6);
    editFile(nul, (ls) => ls.map((l) => (parse(l)['seq'] === 2 ? l.replace('{', '{"actor2":null,') : l)));
    expect((await verify(nul)).problem).toMatchObject({ kind: 'malformed', line: 2 });
  });

  it('an empty directory is not a verified trail (a wrong path must not pass)', async () => {
    const r = await verify(tempDir('empty'));
    expect(r.ok).toBe(false);
    expect(r.problem).toMatchObject({ kind: 'missing' });
  });
});
