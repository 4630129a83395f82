import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSubjectPseudonymizer } from '../pseudonym';
import { AUDIT_CSV_COLUMNS, auditCsvRow, exportAuditTrail } from './export';
import { openFileAuditSink } from './file-sink';
import { buildSubjectReport } from './report';
import { readAuditTrail } from './trail';
import type { AuditRecord } from './types';
import { accessEvent, cleanupDirs, keyPair, readRecords, tempDir, trailFiles } from './__tests__/helpers';

const keys = keyPair();
const subjectKey = { id: 'k2026', secret: Buffer.alloc(32, 3) };
const oldKey = { id: 'k2025', secret: Buffer.alloc(32, 4) };
const pseudo = createSubjectPseudonymizer(subjectKey);
const oldPseudo = createSubjectPseudonymizer(oldKey);

afterAll(cleanupDirs);

async function trail(): Promise<string> {
  const dir = tempDir('report');
  let minute = 0;
  const sink = await openFileAuditSink({ dir, signingKey: keys.privateKey, checkpointEvery: 3 }, { now: () => Date.UTC(2026, 0, 5, 9, minute, 0) });
  const at = (m: number, event: Parameters<typeof sink.append>[0]): Promise<void> => {
    minute = m;
    return sink.append(event);
  };
  await at(1, accessEvent(1, { subject: oldPseudo('alice'), actor: 'svc:legacy' })); // before a key rotation
  await at(2, accessEvent(2, { subject: pseudo('alice'), data: ['email'], action: 'read' }));
  await at(3, accessEvent(3, { subject: pseudo('bob') })); // + checkpoint, seq 4
  await at(4, accessEvent(4, { subject: pseudo('alice'), decision: 'deny', reason: 'consent-withdrawn', purpose: 'marketing.email', basis: 'consent', data: ['email', 'name'], action: 'use' }));
  await at(5, { kind: 'consent', subject: pseudo('alice'), purpose: 'marketing.email', policy: { id: 'openinfra', version: '2024-06' }, attributes: { state: 'withdrawn' } });
  await at(6, accessEvent(6, { subject: undefined, requestId: '=HYPERLINK("x")', reason: 'a,"quoted" reason' }));
  await sink.close();
  return dir;
}

describe('buildSubjectReport', () => {
  it('finds every record about the subject by recomputing the pseudonym, under each key given', async () => {
    const dir = await trail();
    const report = await buildSubjectReport(dir, { subject: 'alice', keys: [subjectKey, oldKey] });
    expect(report.pseudonyms).toEqual([pseudo('alice'), oldPseudo('alice')]);
    expect(report.recordsScanned).toBe(readRecords(dir).length);
    expect(report.entries.map((e) => [e.seq, e.ts, e.kind, e.actor, e.action, e.data, e.purpose, e.basis, e.decision, e.reason])).toEqual([
      [1, '2026-01-05T09:01:00.000Z', 'access', 'svc:legacy', 'read', ['email', 'name'], 'service.provision', 'contract', 'allow', 'allowed'],
      [2, '2026-01-05T09:02:00.000Z', 'access', 'svc:accounts', 'read', ['email'], 'service.provision', 'contract', 'allow', 'allowed'],
      [5, '2026-01-05T09:04:00.000Z', 'access', 'svc:accounts', 'use', ['email', 'name'], 'marketing.email', 'consent', 'deny', 'consent-withdrawn'],
      [6, '2026-01-05T09:05:00.000Z', 'consent', undefined, undefined, [], 'marketing.email', undefined, undefined, undefined],
    ]);
    expect(report.entries[3]).toMatchObject({ attributes: { state: 'withdrawn' }, file: 'audit-00000001.jsonl', line: 6 });
  });

  it('with only the current key, finds only the records under it', async () => {
    const dir = await trail();
    const report = await buildSubjectReport(dir, { subject: 'alice', keys: [subjectKey] });
    expect(report.entries.map((e) => e.seq)).toEqual([2, 5, 6]);
  });

  it('can search by pseudonym directly', async () => {
    const dir = await trail();
    const report = await buildSubjectReport(dir, { pseudonyms: [pseudo('bob')] });
    expect(report.entries.map((e) => e.seq)).toEqual([3]);
  });

  it.each([
    ['nothing to search for', {}],
    ['a subject without a key', { subject: 'alice' }],
    ['a malformed pseudonym', { pseudonyms: ['alice'] }],
  ])('refuses %s', async (_name, options) => {
    await expect(buildSubjectReport('/unused', options)).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_INVALID_OPTION' });
  });
});

describe('readAuditTrail', () => {
  it('names the line that is not a record', async () => {
    const dir = await trail();
    writeFileSync(trailFiles(dir)[0]!, '{"v":1}\n');
    const read = async (): Promise<void> => {
      for await (const _ of readAuditTrail(dir)) void _;
    };
    await expect(read()).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_AUDIT_CORRUPT', details: { file: 'audit-00000001.jsonl', line: 1 } });
  });
});

describe('exportAuditTrail', () => {
  async function collect(dir: string, format: 'json' | 'csv'): Promise<string> {
    let out = '';
    for await (const chunk of exportAuditTrail(dir, { format })) out += chunk;
    return out;
  }

  it('json: an array of every record, checkpoints included', async () => {
    const dir = await trail();
    expect(JSON.parse(await collect(dir, 'json'))).toEqual(readRecords(dir));
  });

  it('json: an empty trail is an empty array', async () => {
    expect(JSON.parse(await collect(tempDir('empty'), 'json'))).toEqual([]);
  });

  it('csv: a header and one RFC 4180 row per record, formulas neutralised', async () => {
    const dir = await trail();
    const csv = await collect(dir, 'csv');
    const rows = csv.split('\r\n');
    expect(rows[0]).toBe(AUDIT_CSV_COLUMNS.join(','));
    expect(rows).toHaveLength(readRecords(dir).length + 2); // header + records + final empty
    const seventh = readRecords(dir)[6]!;
    expect(rows[7]).toBe(
      [
        '7',
        String(seventh['ts']),
        'access',
        'svc:accounts',
        '',
        'email;name',
        'read',
        'service.provision',
        'contract',
        'allow',
        '"a,""quoted"" reason"',
        '',
        `"'=HYPERLINK(""x"")"`,
        'openinfra',
        '2024-06',
        '',
        '',
        String(seventh['prev']),
        String(seventh['hash']),
      ].join(','),
    );
  });

  it('csv: a checkpoint row carries its key id', () => {
    const row = auditCsvRow({ v: 1, seq: 4, ts: 't', kind: 'checkpoint', prev: 'p', hash: 'h', alg: 'Ed25519', keyId: 'kid', sig: 's' } as AuditRecord);
    expect(row).toBe('4,t,checkpoint,,,,,,,,,,,,,,kid,p,h\r\n');
  });

  it('refuses an unknown format', async () => {
    await expect(collect(join(tempDir('x')), 'xml' as 'json')).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_INVALID_OPTION' });
  });
});
