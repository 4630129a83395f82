// One test per row of the tampering table in docs/audit-format.md §13: each kind of
// tampering is checked at every layer — the trail alone (no head file, no anchors), with
// the head file, with the head file and the anchors — and must first be caught by the
// layer the table names (and by every layer after it), or by none ("never").
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { createFileAuditAnchor } from './anchors';
import { makeCheckpoint } from './checkpoint';
import { hashAuditRecord, sealAuditRecord } from './encode';
import { openFileAuditSink } from './file-sink';
import type { AuditProblemKind } from './verify';
import { verifyAuditTrail } from './verify';
import { accessEvent, cleanupDirs, keyPair, readLines, tempDir, trailFiles, writeLines } from './__tests__/helpers';

const keys = keyPair();
const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
afterAll(cleanupDirs);

type Rec = Record<string, unknown>;
type Verdict = 'ok' | AuditProblemKind;
interface Fixture {
  dir: string;
  anchorPath: string;
  /** The directory as it was after the first 8 events (an older copy, for rollbacks). */
  older: string;
}

/** A closed, anchored trail over several files, plus 3 records after its last checkpoint (a writer that died before signing them). */
async function fixture(): Promise<Fixture> {
  const dir = tempDir('tamper');
  const anchorPath = join(tempDir('tamper-anchor'), 'heads.jsonl');
  const older = tempDir('tamper-older');
  const anchors = [createFileAuditAnchor({ path: anchorPath })];
  let sink = await openFileAuditSink({ dir, signingKey: keys.privateKey, checkpointEvery: 4, maxFileBytes: 2048, anchors }, { now: () => T0 });
  for (let i = 0; i < 8; i++) await sink.append(accessEvent(i));
  await sink.close();
  cpSync(dir, older, { recursive: true });
  sink = await openFileAuditSink({ dir, signingKey: keys.privateKey, checkpointEvery: 4, maxFileBytes: 2048, anchors }, { now: () => T0 });
  for (let i = 8; i < 24; i++) await sink.append(accessEvent(i));
  await sink.close();
  const last = trailFiles(dir).at(-1)!;
  const lines = readLines(last);
  let prev = (JSON.parse(lines.at(-1)!) as { hash: string; seq: number }).hash;
  let seq = (JSON.parse(lines.at(-1)!) as { seq: number }).seq;
  for (let i = 0; i < 3; i++) {
    const r = sealAuditRecord(accessEvent(100 + i), { seq: ++seq, ts: '2026-11-22T12:00:00.000Z', prev });
    lines.push(JSON.stringify(r));
    prev = r.hash;
  }
  writeLines(last, lines);
  return { dir, anchorPath, older };
}

/** Every line of the trail, in order, with the file it is in. */
function allLines(dir: string): Array<{ file: string; line: string; rec: Rec }> {
  return trailFiles(dir).flatMap((file) => readLines(file).map((line) => ({ file, line, rec: JSON.parse(line) as Rec })));
}

/** Writes lines back, each to the file it names (files not named end up empty). */
function putLines(dir: string, lines: Array<{ file: string; line: string }>): void {
  for (const f of trailFiles(dir)) writeLines(f, lines.filter((l) => l.file === f).map((l) => l.line));
}

/** Re-chains records from index `from` on (fresh hashes), dropping checkpoints when `dropCheckpoints`. */
function rechain(entries: Array<{ file: string; rec: Rec }>, from: number, sign?: (r: Rec) => Rec): Array<{ file: string; line: string }> {
  const out: Array<{ file: string; line: string }> = [];
  let prev = from === 0 ? '0'.repeat(64) : (entries[from - 1]!.rec['hash'] as string);
  let seq = from === 0 ? 0 : (entries[from - 1]!.rec['seq'] as number);
  entries.forEach((e, i) => {
    if (i < from) return void out.push({ file: e.file, line: JSON.stringify(e.rec) });
    if (e.rec['kind'] === 'checkpoint' && sign === undefined) return;
    seq++;
    let rec: Rec;
    if (e.rec['kind'] === 'checkpoint') rec = sign!({ ...e.rec, seq, prev });
    else {
      const { hash: _h, ...rest } = { ...e.rec, seq, prev };
      rec = { ...rest, hash: hashAuditRecord(rest) };
    }
    prev = rec['hash'] as string;
    out.push({ file: e.file, line: JSON.stringify(rec) });
  });
  return out;
}

function lastCheckpointIndex(lines: Array<{ rec: Rec }>): number {
  return lines.findLastIndex((l) => l.rec['kind'] === 'checkpoint');
}

const rows: Array<{ name: string; layer: 'trail alone' | 'head file' | 'anchors' | 'never'; expect: [Verdict, Verdict, Verdict]; tamper: (f: Fixture) => void }> = [
  {
    name: 'a record edited in place',
    layer: 'trail alone',
    expect: ['edited', 'edited', 'edited'],
    tamper: ({ dir }) => {
      const ls = allLines(dir);
      ls[1]!.line = ls[1]!.line.replace('"read"', '"sold"');
      putLines(dir, ls);
    },
  },
  {
    name: 'a signed record edited and the chain re-hashed after it',
    layer: 'trail alone',
    expect: ['bad-signature', 'bad-signature', 'bad-signature'],
    tamper: ({ dir }) => {
      const ls = allLines(dir);
      ls[1]!.rec = { ...ls[1]!.rec, action: 'sold' };
      const rechained = rechain(ls, 1, (cp) => cp); // checkpoints kept as they were: their signatures no longer hold
      putLines(
        dir,
        rechained.map((l) => {
          const r = JSON.parse(l.line) as Rec;
          if (r['kind'] !== 'checkpoint') return l;
          const { hash: _h, ...rest } = r;
          return { file: l.file, line: JSON.stringify({ ...rest, hash: hashAuditRecord(rest) }) };
        }),
      );
    },
  },
  {
    name: 'a record deleted',
    layer: 'trail alone',
    expect: ['missing', 'missing', 'missing'],
    tamper: ({ dir }) => putLines(dir, allLines(dir).filter((_l, i) => i !== 2)),
  },
  {
    name: 'two records swapped',
    layer: 'trail alone',
    expect: ['reordered', 'reordered', 'reordered'],
    tamper: ({ dir }) => {
      const ls = allLines(dir);
      [ls[1], ls[2]] = [{ ...ls[2]!, file: ls[1]!.file }, { ...ls[1]!, file: ls[2]!.file }];
      putLines(dir, ls);
    },
  },
  {
    name: 'a forged record inserted',
    layer: 'trail alone',
    expect: ['inserted', 'inserted', 'inserted'],
    tamper: ({ dir }) => {
      const ls = allLines(dir);
      const forged = sealAuditRecord(accessEvent(999), { seq: 2, ts: '2026-11-22T12:00:00.000Z', prev: ls[0]!.rec['hash'] as string });
      putLines(dir, [ls[0]!, { file: ls[0]!.file, line: JSON.stringify(forged) }, ...ls.slice(1)]);
    },
  },
  {
    name: 'a checkpoint re-signed with another key',
    layer: 'trail alone',
    expect: ['bad-signature', 'bad-signature', 'bad-signature'],
    tamper: ({ dir }) => {
      const ls = allLines(dir);
      const i = ls.findIndex((l) => l.rec['kind'] === 'checkpoint');
      const other = generateKeyPairSync('ed25519');
      const cp = ls[i]!.rec;
      ls[i]!.line = makeCheckpoint({ seq: cp['seq'] as number, ts: cp['ts'] as string, prev: cp['prev'] as string, keyId: cp['keyId'] as string }, other.privateKey).line;
      putLines(dir, ls); // the records after it now link to a different hash: re-chained by nobody
    },
  },
  {
    name: 'a whole file in the middle removed',
    layer: 'trail alone',
    expect: ['missing', 'missing', 'missing'],
    tamper: ({ dir }) => unlinkSync(trailFiles(dir)[1]!),
  },
  {
    name: 'every trail file deleted',
    layer: 'trail alone',
    expect: ['missing', 'missing', 'missing'],
    tamper: ({ dir }) => trailFiles(dir).forEach((f) => unlinkSync(f)),
  },
  {
    name: 'records cut off after the last checkpoint (the unsigned tail)',
    layer: 'never',
    expect: ['ok', 'ok', 'ok'],
    tamper: ({ dir }) => {
      const ls = allLines(dir);
      putLines(dir, ls.slice(0, lastCheckpointIndex(ls) + 1));
    },
  },
  {
    name: 'the unsigned tail rewritten with fresh hashes',
    layer: 'never',
    expect: ['ok', 'ok', 'ok'],
    tamper: ({ dir }) => {
      const ls = allLines(dir);
      const at = lastCheckpointIndex(ls) + 1;
      ls[at]!.rec = { ...ls[at]!.rec, decision: 'deny' };
      putLines(dir, rechain(ls, at));
    },
  },
  {
    name: 'the trail cut back before its last checkpoint, head file left',
    layer: 'head file',
    expect: ['ok', 'truncated', 'truncated'],
    tamper: ({ dir }) => {
      const ls = allLines(dir);
      putLines(dir, ls.slice(0, lastCheckpointIndex(ls)));
    },
  },
  {
    name: 'the head file edited',
    layer: 'head file',
    expect: ['ok', 'edited', 'edited'],
    tamper: ({ dir }) => {
      const head = JSON.parse(readFileSync(join(dir, 'audit.head.json'), 'utf8')) as Rec;
      writeFileSync(join(dir, 'audit.head.json'), JSON.stringify({ ...head, ts: '2030-01-01T00:00:00.000Z' }));
    },
  },
  {
    name: 'the trail cut back to an earlier checkpoint and the head file replaced by it (consistent rollback)',
    layer: 'anchors',
    expect: ['ok', 'ok', 'rolled-back'],
    tamper: ({ dir }) => {
      const ls = allLines(dir);
      const cps = ls.map((l, i) => [l, i] as const).filter(([l]) => l.rec['kind'] === 'checkpoint');
      const [cp, i] = cps[cps.length - 3]!;
      putLines(dir, ls.slice(0, i + 1));
      writeFileSync(join(dir, 'audit.head.json'), cp.line);
    },
  },
  {
    name: 'the whole directory restored from an older copy',
    layer: 'anchors',
    expect: ['ok', 'ok', 'rolled-back'],
    tamper: ({ dir, older }) => {
      for (const n of readdirSync(dir)) rmSync(join(dir, n));
      cpSync(older, dir, { recursive: true });
    },
  },
  {
    name: 'history rewritten without checkpoints across files (a non-last file no longer ends with one)',
    layer: 'trail alone',
    expect: ['missing', 'missing', 'missing'],
    tamper: ({ dir }) => {
      const ls = allLines(dir);
      ls[1]!.rec = { ...ls[1]!.rec, action: 'sold' };
      putLines(dir, rechain(ls, 1));
      unlinkSync(join(dir, 'audit.head.json'));
    },
  },
  {
    name: 'history rewritten without checkpoints into one file, and the head file deleted',
    layer: 'anchors',
    expect: ['ok', 'ok', 'forked'],
    tamper: ({ dir }) => {
      const ls = allLines(dir);
      ls[1]!.rec = { ...ls[1]!.rec, action: 'sold' };
      const first = trailFiles(dir)[0]!;
      putLines(dir, rechain(ls.map((l) => ({ ...l, file: first })), 1));
      for (const f of trailFiles(dir).slice(1)) unlinkSync(f);
      unlinkSync(join(dir, 'audit.head.json'));
    },
  },
  {
    name: 'everything re-signed with the stolen signing key, head file rewritten',
    layer: 'anchors',
    expect: ['ok', 'ok', 'forked'],
    tamper: ({ dir }) => {
      const ls = allLines(dir);
      ls[1]!.rec = { ...ls[1]!.rec, action: 'sold' };
      const out = rechain(ls, 1, (cp) => makeCheckpoint({ seq: cp['seq'] as number, ts: cp['ts'] as string, prev: cp['prev'] as string, keyId: cp['keyId'] as string }, keys.privateKey).record as unknown as Rec);
      putLines(dir, out);
      const lastCp = out.map((l) => JSON.parse(l.line) as Rec).findLast((r) => r['kind'] === 'checkpoint')!;
      writeFileSync(join(dir, 'audit.head.json'), JSON.stringify(lastCp));
    },
  },
];

const SPEC = join(__dirname, '../../../../tools/spec-verifier/verify.mjs');
const SPEC_KIND: Partial<Record<Verdict, string>> = { 'bad-signature': 'bad signature' };
function specVerify(dir: string, anchorPath: string): { code: number | null; kind: string | undefined } {
  const pem = join(tempDir('tamper-pem'), 'pub.pem');
  writeFileSync(pem, keys.publicKey.export({ format: 'pem', type: 'spki' }));
  const r = spawnSync(process.execPath, [SPEC, dir, '--public-key', pem, '--anchors', anchorPath], { encoding: 'utf8' });
  const m = /^FAIL \S+(?: seq \d+)?: ([a-z -]+?): /.exec(r.stdout);
  return { code: r.status, kind: m?.[1] };
}

async function verdict(dir: string, layer: 0 | 1 | 2, anchorPath: string): Promise<Verdict> {
  let path = dir;
  if (layer === 0) {
    path = tempDir('tamper-alone');
    cpSync(dir, path, { recursive: true });
    rmSync(join(path, 'audit.head.json'), { force: true });
  }
  const result = await verifyAuditTrail(path, { publicKeys: [keys.publicKey], ...(layer === 2 ? { anchors: [createFileAuditAnchor({ path: anchorPath })] } : {}) });
  return result.problem?.kind ?? 'ok';
}

describe('the tampering table (docs/audit-format.md §13)', () => {
  it('the untouched fixture verifies at every layer, anchored up to its last checkpoint', async () => {
    const f = await fixture();
    expect([await verdict(f.dir, 0, f.anchorPath), await verdict(f.dir, 1, f.anchorPath), await verdict(f.dir, 2, f.anchorPath)]).toEqual(['ok', 'ok', 'ok']);
    const r = await verifyAuditTrail(f.dir, { publicKeys: [keys.publicKey], anchors: [createFileAuditAnchor({ path: f.anchorPath })] });
    expect(r.anchored?.seq).toBe(r.lastCheckpoint?.seq);
    expect(r.unanchoredTail).toBe(3);
    expect(trailFiles(f.dir).length).toBeGreaterThanOrEqual(3);
  });

  it.each(rows.map((r) => [r.name, r.layer, r] as const))('%s → caught by: %s', async (_name, _layer, row) => {
    const f = await fixture();
    row.tamper(f);
    const seen = [await verdict(f.dir, 0, f.anchorPath), await verdict(f.dir, 1, f.anchorPath), await verdict(f.dir, 2, f.anchorPath)];
    expect(seen).toEqual(row.expect);
    // the independent verifier (tools/spec-verifier, written from the document) agrees at the last layer
    const spec = specVerify(f.dir, f.anchorPath);
    expect({ code: spec.code, kind: spec.kind }).toEqual(row.expect[2] === 'ok' ? { code: 0, kind: undefined } : { code: 1, kind: SPEC_KIND[row.expect[2]] ?? row.expect[2] });
  });
});
