import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { generateKeyPairSync, sign } from 'node:crypto';
import { auditKeyId, checkpointSigningInput, createFileAuditSink, createSubjectPseudonymizer, hashAuditRecord, parseSubjectKey, sealAuditRecord } from '@purposekit/core';
import type { AuditEventInput } from '@purposekit/core';
import { run } from './index';

class Capture extends Writable {
  text = '';
  constructor(readonly isTTY = false) {
    super();
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

let work: string;
let keyDir: string;
const pub = (): string => join(keyDir, 'audit-signing.pub.pem');

async function cli(argv: string[], options: { tty?: boolean; progressMinBytes?: number } = {}): Promise<Ran> {
  const stdout = new Capture();
  const stderr = new Capture(options.tty === true);
  const code = await run(argv, { stdout, stderr, cwd: work, ...(options.progressMinBytes === undefined ? {} : { progressMinBytes: options.progressMinBytes }) });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

function event(n: number, subject: string, overrides: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    kind: 'access',
    actor: n % 2 === 0 ? 'svc:accounts' : 'staff:42',
    subject,
    data: ['email'],
    action: 'read',
    purpose: 'service.registration',
    basis: 'contract',
    policy: { id: 'openinfra', version: '2024-06' },
    requestId: `req-${n}`,
    decision: 'allow',
    reason: 'allowed',
    ...overrides,
  };
}

/** A closed trail signed with the generated key: 8 events about alice and bob (checkpoints every 3). */
async function makeTrail(name: string): Promise<string> {
  const dir = join(work, name);
  const pseudo = createSubjectPseudonymizer(parseSubjectKey(readFileSync(join(keyDir, 'subject-hmac.key.json'), 'utf8')));
  const sink = await createFileAuditSink({ dir, signingKey: readFileSync(join(keyDir, 'audit-signing.key.pem'), 'utf8'), checkpointEvery: 3 });
  for (let n = 1; n <= 8; n++) {
    await sink.append(event(n, pseudo(n % 3 === 0 ? 'bob' : 'alice'), n === 4 ? { decision: 'deny', reason: 'consent-withdrawn', purpose: 'marketing.email', basis: 'consent' } : {}));
  }
  await sink.close();
  return dir;
}

const file = (dir: string): string => join(dir, 'audit-00000001.jsonl');
const lines = (dir: string): string[] => readFileSync(file(dir), 'utf8').split('\n').filter((l) => l !== '');
const write = (dir: string, ls: string[]): void => writeFileSync(file(dir), ls.map((l) => `${l}\n`).join(''));

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'pk-cli-'));
  keyDir = join(work, 'keys');
  const ran = await cli(['keys', 'generate', '--out-dir', 'keys']);
  expect(ran.code).toBe(0);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('purposekit keys generate', () => {
  it('writes the key pair and the subject key, secrets with mode 0600, and prints the key ids', async () => {
    const names = readdirSync(keyDir).sort();
    expect(names).toEqual(['audit-signing.key.pem', 'audit-signing.pub.pem', 'lockout-hmac.key', 'subject-hmac.key.json']);
    expect(statSync(join(keyDir, 'lockout-hmac.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(keyDir, 'audit-signing.key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(keyDir, 'subject-hmac.key.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(keyDir, 'audit-signing.pub.pem')).mode & 0o777).toBe(0o644);
    expect(readFileSync(join(keyDir, 'audit-signing.key.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(parseSubjectKey(readFileSync(join(keyDir, 'subject-hmac.key.json'), 'utf8')).id).toMatch(/^s-[0-9a-f]{16}$/);
  });

  it('refuses to overwrite an existing key and writes nothing', async () => {
    const dir = join(work, 'partial-keys');
    await cli(['keys', 'generate', '--out-dir', 'partial-keys']);
    rmSync(join(dir, 'audit-signing.key.pem'));
    const before = readFileSync(join(dir, 'subject-hmac.key.json'), 'utf8');
    const ran = await cli(['keys', 'generate', '--out-dir', 'partial-keys']);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toBe(`PURPOSEKIT_ERR_FILE_ACCESS: ${join(dir, 'audit-signing.pub.pem')} already exists; refusing to overwrite a key (move it away or choose another directory).\n`);
    expect(existsSync(join(dir, 'audit-signing.key.pem'))).toBe(false);
    expect(readFileSync(join(dir, 'subject-hmac.key.json'), 'utf8')).toBe(before);
  });
});

describe('purposekit audit verify', () => {
  it('exits 0 for an intact trail and says what it checked', async () => {
    await makeTrail('intact');
    const ran = await cli(['audit', 'verify', 'intact', '--public-key', pub()]);
    expect(ran).toMatchObject({ code: 0, stderr: '' });
    expect(ran.stdout).toMatch(/^OK intact: 11 records in 1 file, 3 signed checkpoints\.\n {2}chain head: seq 11 [0-9a-f]{64}\n {2}last checkpoint: seq 11 at .*, key [A-Za-z0-9_-]{43}\n$/);
  });

  type Tamper = (ls: string[], dir: string) => string[];
  const swap: Tamper = (ls) => [ls[0]!, ls[2]!, ls[1]!, ...ls.slice(3)];
  const cases: Array<[string, Tamper, string]> = [
    ['edited', (ls) => [ls[0]!, ls[1]!.replace('"read"', '"reed"'), ...ls.slice(2)], 'edited at audit-00000001.jsonl:2 (seq 2)'],
    ['missing', (ls) => [ls[0]!, ...ls.slice(2)], 'missing at audit-00000001.jsonl:2 (seq 2)'],
    ['reordered', swap, 'reordered at audit-00000001.jsonl:2 (seq 3)'],
    [
      'inserted',
      (ls) => {
        const first = JSON.parse(ls[0]!) as { ts: string; hash: string; subject: string };
        const forged = sealAuditRecord(event(99, first.subject), { seq: 2, ts: first.ts, prev: first.hash });
        return [ls[0]!, JSON.stringify(forged), ...ls.slice(1)];
      },
      'inserted at audit-00000001.jsonl:2 (seq 2)',
    ],
    ['truncated', (ls) => ls.slice(0, 9), 'truncated at audit.head.json (seq 11)'],
    [
      'bad-signature',
      (ls) => {
        // the last checkpoint replaced by one an attacker signed with their own key
        const cp = JSON.parse(ls[ls.length - 1]!) as Record<string, unknown>;
        const attacker = generateKeyPairSync('ed25519');
        const unsigned = { alg: 'Ed25519', keyId: auditKeyId(attacker.publicKey), kind: 'checkpoint', prev: cp['prev'], seq: cp['seq'], ts: cp['ts'], v: 1 };
        const signed = { ...unsigned, sig: sign(null, checkpointSigningInput(unsigned), attacker.privateKey).toString('base64url') };
        return [...ls.slice(0, -1), JSON.stringify({ ...signed, hash: hashAuditRecord(signed) })];
      },
      'bad-signature at audit-00000001.jsonl:11 (seq 11)',
    ],
    [
      'edited (a checkpoint signature swapped in)',
      (ls) => {
        const cp = JSON.parse(ls[3]!) as Record<string, unknown>;
        return [...ls.slice(0, 3), JSON.stringify({ ...cp, sig: Buffer.alloc(64, 1).toString('base64url') }), ...ls.slice(4)];
      },
      'edited at audit-00000001.jsonl:4 (seq 4)', // a signature swapped in without re-hashing: the hash check speaks first
    ],
  ];

  let trails = 0;
  it.each(cases)('names %s tampering and exits 1', async (_kind, tamper, expected) => {
    const name = `tampered-${++trails}`;
    const dir = await makeTrail(name);
    write(dir, tamper(lines(dir), dir));
    const ran = await cli(['audit', 'verify', name, '--public-key', pub()]);
    expect(ran.code).toBe(1);
    expect(ran.stdout.split('\n')[0]).toBe(`FAILED ${name}: ${expected}`);
    expect(ran.stderr).toMatch(new RegExp(`^PURPOSEKIT_ERR_AUDIT_CORRUPT: ${expected.split(' ')[0]}: .+\\n$`));
  });

  it('names checkpoints checked against another public key as bad-signature', async () => {
    await makeTrail('forged-key');
    const ran = await cli(['audit', 'verify', 'forged-key', '--public-key', join(work, 'partial-keys', 'audit-signing.pub.pem')]);
    expect(ran.code).toBe(1);
    expect(ran.stdout.split('\n')[0]).toBe('FAILED forged-key: bad-signature at audit-00000001.jsonl:4 (seq 4)');
  });

  it('--json prints the full result', async () => {
    await makeTrail('json');
    const ran = await cli(['audit', 'verify', 'json', '--public-key', pub(), '--json']);
    expect(ran.code).toBe(0);
    expect(JSON.parse(ran.stdout)).toMatchObject({ ok: true, records: 11, checkpoints: 3, signaturesChecked: true, head: { seq: 11 } });
  });

  it('draws a progress bar on a terminal for a large trail, and none otherwise', async () => {
    await makeTrail('progress');
    const tty = await cli(['audit', 'verify', 'progress', '--public-key', pub()], { tty: true, progressMinBytes: 1 });
    expect(tty.code).toBe(0);
    expect(tty.stderr).toContain('verify [');
    const small = await cli(['audit', 'verify', 'progress', '--public-key', pub()], { tty: true });
    const pipe = await cli(['audit', 'verify', 'progress', '--public-key', pub()], { tty: false, progressMinBytes: 1 });
    expect([small.stderr, pipe.stderr]).toEqual(['', '']);
  });

  it.each([
    [['audit', 'verify', 'intact'], /^PURPOSEKIT_ERR_INVALID_OPTION: audit verify needs --public-key <file>/],
    [['audit', 'verify', 'nowhere', '--public-key', 'keys/audit-signing.pub.pem'], /^PURPOSEKIT_ERR_FILE_ACCESS: Cannot read .*nowhere \(ENOENT\)\.\n$/],
    [['audit', 'verify', 'intact', '--public-key', 'keys/subject-hmac.key.json'], /^PURPOSEKIT_ERR_INVALID_KEY: publicKeys: not a PEM public key\.\n$/],
    [['audit', 'verify', 'intact', '--public-key', 'keys/audit-signing.pub.pem', '--bogus'], /^PURPOSEKIT_ERR_INVALID_OPTION: unknown option '--bogus'\nRun `purposekit --help` for usage\.\n$/],
    [['audit', 'verfy'], /^PURPOSEKIT_ERR_INVALID_OPTION: unknown command 'verfy'\n\(Did you mean verify\?\)\n/],
  ])('exits 2 with CODE: message for %j', async (argv, stderr) => {
    const ran = await cli(argv);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(stderr);
    expect(ran.stderr).not.toMatch(/\n\s+at /); // never a stack trace
  });
});

describe('purposekit audit report', () => {
  it('lists every record about the subject, found through the subject key', async () => {
    await makeTrail('report');
    const ran = await cli(['audit', 'report', '--subject', 'alice', 'report', '--key', 'keys/subject-hmac.key.json']);
    expect(ran.code).toBe(0);
    const out = ran.stdout.split('\n');
    expect(out[0]).toBe('Subject access report');
    expect(out[3]).toBe('Records:    6 about this subject (of 11 read)');
    expect(out[5]).toMatch(/^When \(UTC\) +By +Kind +Action +Data +Purpose +Basis +Outcome +Request$/);
    const rows = out.slice(7, 13);
    expect(rows.map((r) => r.split(/ {2,}/).slice(1))).toEqual([
      ['staff:42', 'access', 'read', 'email', 'service.registration', 'contract', 'allow', 'req-1'],
      ['svc:accounts', 'access', 'read', 'email', 'service.registration', 'contract', 'allow', 'req-2'],
      ['svc:accounts', 'access', 'read', 'email', 'marketing.email', 'consent', 'deny (consent-withdrawn)', 'req-4'],
      ['staff:42', 'access', 'read', 'email', 'service.registration', 'contract', 'allow', 'req-5'],
      ['staff:42', 'access', 'read', 'email', 'service.registration', 'contract', 'allow', 'req-7'],
      ['svc:accounts', 'access', 'read', 'email', 'service.registration', 'contract', 'allow', 'req-8'],
    ]);
  });

  it('--json gives the same records as data', async () => {
    await makeTrail('report-json');
    const ran = await cli(['audit', 'report', '--subject', 'bob', 'report-json', '--key', 'keys/subject-hmac.key.json', '--json']);
    const report = JSON.parse(ran.stdout) as { entries: Array<{ requestId: string; decision: string }>; recordsScanned: number };
    expect(report.recordsScanned).toBe(11);
    expect(report.entries.map((e) => e.requestId)).toEqual(['req-3', 'req-6']);
  });

  it('refuses a raw subject id without a key (the trail holds only pseudonyms)', async () => {
    const ran = await cli(['audit', 'report', '--subject', 'alice', 'report']);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/^PURPOSEKIT_ERR_INVALID_OPTION: audit report: the trail holds pseudonyms, not subject ids/);
  });
});

describe('purposekit audit export', () => {
  it('exports JSON and CSV', async () => {
    const dir = await makeTrail('export');
    const json = await cli(['audit', 'export', 'export', '--format', 'json']);
    expect(JSON.parse(json.stdout)).toEqual(lines(dir).map((l) => JSON.parse(l) as unknown));
    const csv = await cli(['audit', 'export', 'export', '--format', 'csv']);
    expect(csv.stdout.split('\r\n')).toHaveLength(11 + 2);
    expect(csv.stdout.split('\r\n')[0]).toBe('seq,ts,kind,actor,subject,data,action,purpose,basis,decision,reason,recipient,requestId,policyId,policyVersion,attributes,keyId,prev,hash');
  });

  it('writes to a new --output file and refuses to overwrite it', async () => {
    await makeTrail('export-file');
    expect((await cli(['audit', 'export', 'export-file', '--format', 'csv', '--output', 'out.csv'])).code).toBe(0);
    expect(readFileSync(join(work, 'out.csv'), 'utf8').startsWith('seq,ts,kind')).toBe(true);
    const again = await cli(['audit', 'export', 'export-file', '--format', 'csv', '--output', 'out.csv']);
    expect(again).toMatchObject({ code: 2, stderr: `PURPOSEKIT_ERR_FILE_ACCESS: ${join(work, 'out.csv')} already exists; refusing to overwrite it.\n` });
  });

  it('refuses an unknown format', async () => {
    const ran = await cli(['audit', 'export', 'export', '--format', 'xml']);
    expect(ran).toMatchObject({ code: 2, stderr: 'PURPOSEKIT_ERR_INVALID_OPTION: audit export: --format must be json or csv; got "xml".\n' });
  });
});

describe('purposekit rights due', () => {
  /** Three requests: one completed, one open due 2026-12-15, one open due 2026-12-01. */
  async function rightsTrail(): Promise<string> {
    const dir = join(work, 'rights-trail');
    const pseudo = createSubjectPseudonymizer(parseSubjectKey(readFileSync(join(keyDir, 'subject-hmac.key.json'), 'utf8')));
    const sink = await createFileAuditSink({ dir, signingKey: readFileSync(join(keyDir, 'audit-signing.key.pem'), 'utf8') });
    const rights = (requestId: string, who: string, right: string, status: string, due: string): AuditEventInput => ({
      kind: 'rights', actor: 'data-subject', subject: pseudo(who), purpose: 'rights-fulfilment', policy: { id: 'openinfra', version: '2024-06' }, requestId, attributes: { right, status, due },
    });
    await sink.append(rights('r-done', 'alice', 'access', 'received', '2026-12-10T00:00:00.000Z'));
    await sink.append(rights('r-done', 'alice', 'access', 'completed', '2026-12-10T00:00:00.000Z'));
    await sink.append(rights('r-later', 'bob', 'erasure', 'received', '2026-12-15T00:00:00.000Z'));
    await sink.append(rights('r-soon', 'alice', 'rectification', 'received', '2026-12-01T00:00:00.000Z'));
    await sink.append(rights('r-ext', 'carol', 'access', 'received', '2026-11-28T00:00:00.000Z'));
    await sink.append({ ...rights('r-ext', 'carol', 'access', 'extended', '2027-01-28T00:00:00.000Z'), attributes: { right: 'access', status: 'extended', due: '2027-01-28T00:00:00.000Z', reason: 'complex' } });
    await sink.close();
    return dir;
  }

  it('lists open requests soonest due first, marks the overdue, and can fail a scheduled check', async () => {
    const dir = await rightsTrail();
    const before = await cli(['rights', 'due', dir, '--at', '2026-11-25T00:00:00Z', '--fail-on-overdue']);
    expect(before.code).toBe(0);
    const rows = before.stdout.trim().split('\n');
    expect(rows.slice(1, 4).map((r) => r.split(/\s+/).slice(0, 3))).toEqual([['2026-12-01T00:00:00.000Z', 'rectification', 'received'], ['2026-12-15T00:00:00.000Z', 'erasure', 'received'], ['2027-01-28T00:00:00.000Z', 'access', 'extended']]);
    expect(rows[4]).toBe('3 open, 0 overdue (as of 2026-11-25T00:00:00.000Z).');
    expect(before.stdout).not.toContain('r-done');

    const after = await cli(['rights', 'due', dir, '--at', '2026-12-05T00:00:00Z', '--fail-on-overdue', '--json']);
    expect(after.code).toBe(1);
    const json = JSON.parse(after.stdout) as { open: Array<{ requestId: string; overdue: boolean }> };
    expect(json.open.map((o) => [o.requestId, o.overdue])).toEqual([['r-soon', true], ['r-later', false], ['r-ext', false]]);
  });

  it('rejects a bad --at', async () => {
    const ran = await cli(['rights', 'due', join(work, 'rights-trail'), '--at', 'soon']);
    expect([ran.code, ran.stderr.split(':')[0]]).toEqual([2, 'PURPOSEKIT_ERR_INVALID_OPTION']);
  });
});

describe('purposekit --help / --version', () => {
  it.each([['--help'], ['--version'], ['audit', '--help']])('%j exits 0 and prints to stdout', async (...argv) => {
    const ran = await cli(argv);
    expect(ran.code).toBe(0);
    expect(ran.stdout.length).toBeGreaterThan(0);
    expect(ran.stderr).toBe('');
  });
});

describe('the purposekit binary, as a real child process', () => {
  // Runs src/bin.ts through a small swc require hook (no build needed); the built
  // dist/bin.js is the same code compiled by tsc.
  const REGISTER = join(__dirname, '../../../tools/test-support/register-ts.cjs');
  const BIN = join(__dirname, 'bin.ts');

  function spawnCli(argv: string[]): Promise<Ran> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['-r', REGISTER, BIN, ...argv], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }

  it('sets the exit code: 0 for an intact trail, 1 for a tampered one, 2 for an error', async () => {
    const dir = await makeTrail('child');
    expect(await spawnCli(['audit', 'verify', 'child', '--public-key', pub()])).toMatchObject({ code: 0, stderr: '' });
    write(dir, [lines(dir)[0]!, ...lines(dir).slice(2)]);
    const tampered = await spawnCli(['audit', 'verify', 'child', '--public-key', pub()]);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout.split('\n')[0]).toBe('FAILED child: missing at audit-00000001.jsonl:2 (seq 2)');
    const error = await spawnCli(['audit', 'verify', 'nowhere', '--public-key', pub()]);
    expect(error.code).toBe(2);
    expect(error.stderr).toMatch(/^PURPOSEKIT_ERR_FILE_ACCESS: Cannot read .*nowhere \(ENOENT\)\.\n$/);
  }, 30_000);
});
