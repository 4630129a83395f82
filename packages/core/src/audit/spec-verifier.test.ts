// Runs the independent verifier written from docs/audit-format.md alone
// (tools/spec-verifier/verify.mjs) against real trails written by createFileAuditSink,
// intact and tampered. The tampering helpers below re-hash and re-sign with node:crypto and
// canonicalize only, as an attacker who knows the format would.
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign, createPublicKey, type KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import canonicalize from 'canonicalize';
import { createFileAuditSink, generateAuditKeys } from '../index';

const repo = path.resolve(__dirname, '../../../..');
const script = path.join(repo, 'tools/spec-verifier/verify.mjs');
const docs = path.join(repo, 'docs/audit-format.md');

type Rec = Record<string, unknown> & { seq: number; hash: string; prev: string; kind: string };

let tmp: string;
let pubPem: string;
let otherPubPem: string;
let otherPriv: KeyObject;
let base: { single: string; rotated: string };

const event = (i: number) => ({
  kind: 'access' as const,
  actor: 'svc',
  subject: 'hmac-sha256:k1:' + 'ab'.repeat(32),
  data: ['email'],
  action: 'read',
  purpose: 'diagnostics',
  basis: 'legitimate-interests' as const,
  policy: { id: 'p', version: '1' },
  requestId: `r-${i}`,
  decision: 'allow' as const,
  reason: 'allowed',
});

async function writeTrail(dir: string, signingKey: string, n: number, opts: { checkpointEvery: number; maxFileBytes?: number }) {
  const sink = await createFileAuditSink({ dir, signingKey, ...opts });
  for (let i = 0; i < n; i++) await sink.append(event(i));
  await sink.close();
}

function run(dir: string, ...extra: string[]) {
  const r = spawnSync(process.execPath, [script, dir, '--public-key', pubPem, ...extra], { cwd: repo, encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** A fresh copy of a base trail to tamper with. */
function copy(from: string): string {
  const to = fs.mkdtempSync(path.join(tmp, 'case-'));
  for (const f of fs.readdirSync(from)) fs.copyFileSync(path.join(from, f), path.join(to, f));
  return to;
}
const trailFiles = (dir: string) => fs.readdirSync(dir).filter((f) => /^audit-\d{8,}\.jsonl$/.test(f)).sort().map((f) => path.join(dir, f));
const readLines = (file: string) => fs.readFileSync(file, 'utf8').split('\n').slice(0, -1);
const writeLines = (file: string, lines: string[]) => fs.writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
const jcs = (o: object) => canonicalize(o) as string;
const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
function rehash(r: Rec): Rec {
  const { hash: _h, ...body } = r;
  return { ...body, hash: sha(jcs(body)) } as Rec;
}
function resign(r: Rec, key: KeyObject, keyId: string): Rec {
  const { hash: _h, sig: _s, ...body } = r;
  const signed = { ...body, keyId };
  return rehash({ ...signed, sig: sign(null, Buffer.from(jcs(signed), 'utf8'), key).toString('base64url'), hash: '' } as unknown as Rec);
}
const thumbprint = (pub: KeyObject) => {
  const { x } = pub.export({ format: 'jwk' });
  return createHash('sha256').update(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`).digest('base64url');
};

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-spec-verifier-'));
  const keys = generateAuditKeys();
  pubPem = path.join(tmp, 'pub.pem');
  fs.writeFileSync(pubPem, keys.signingPublicKeyPem);
  const other = generateKeyPairSync('ed25519');
  otherPriv = other.privateKey;
  otherPubPem = path.join(tmp, 'other.pem');
  fs.writeFileSync(otherPubPem, other.publicKey.export({ type: 'spki', format: 'pem' }));
  base = { single: path.join(tmp, 'single'), rotated: path.join(tmp, 'rotated') };
  // 24 events, a checkpoint after every 5 records (and on close): several checkpoints, one file.
  await writeTrail(base.single, keys.signingPrivateKeyPem, 24, { checkpointEvery: 5 });
  // Small files: a rotation (after a checkpoint) every few records.
  await writeTrail(base.rotated, keys.signingPrivateKeyPem, 30, { checkpointEvery: 100, maxFileBytes: 1500 });
}, 30_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('spec verifier (written from docs/audit-format.md alone)', () => {
  test('the trails have several checkpoints and several files', () => {
    const single = readLines(trailFiles(base.single)[0]!).map((l) => JSON.parse(l) as Rec);
    expect(single.filter((r) => r.kind === 'checkpoint').length).toBeGreaterThanOrEqual(4);
    expect(trailFiles(base.rotated).length).toBeGreaterThanOrEqual(3);
  });

  test.each(['single', 'rotated'] as const)('an intact %s trail holds (exit 0)', (name) => {
    const r = run(base[name]);
    expect(r.out).toMatch(/^OK /);
    expect(r.out).toMatch(/head file: seq \d+ matches/);
    expect(r.code).toBe(0);
  });

  test("the document's worked example verifies and gives the document's answer", () => {
    const md = fs.readFileSync(docs, 'utf8');
    const block = /<!-- example:trail -->\n```jsonl\n([\s\S]*?)```/.exec(md)![1]!;
    const dir = fs.mkdtempSync(path.join(tmp, 'example-'));
    fs.writeFileSync(path.join(dir, 'audit-00000001.jsonl'), block);
    fs.writeFileSync(path.join(dir, 'audit.head.json'), `${block.trim().split('\n').pop()}\n`);
    const pub = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex').toString('base64url') },
      format: 'jwk',
    });
    const pem = path.join(dir, '..', 'example.pem');
    fs.writeFileSync(pem, pub.export({ type: 'spki', format: 'pem' }));
    const r = spawnSync(process.execPath, [script, dir, '--public-key', pem], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(': 3 records in 1 file, 1 signed checkpoint.');
    expect(r.stdout).toContain('chain head: seq 3 2243deee963134a78133c601939424c0b216cb112dd3ebcadeed4466068ab9e9');
    expect(r.stdout).toContain('key kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k');
  });

  test('one byte of a value changed → edited, at that record', () => {
    const dir = copy(base.rotated);
    const file = trailFiles(dir)[1]!;
    const lines = readLines(file);
    const seq = (JSON.parse(lines[1]!) as Rec).seq;
    lines[1] = lines[1]!.replace('"action":"read"', '"action":"reae"');
    writeLines(file, lines);
    const r = run(dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`FAIL ${file}:2 seq ${seq}: edited: hash does not match`);
  });

  test('a record deleted → missing', () => {
    const dir = copy(base.single);
    const file = trailFiles(dir)[0]!;
    const lines = readLines(file);
    lines.splice(7, 1); // seq 8
    writeLines(file, lines);
    const r = run(dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`FAIL ${file}:8 seq 9: missing: expected seq 8, found seq 9`);
  });

  test('a whole middle file deleted → missing', () => {
    const dir = copy(base.rotated);
    fs.rmSync(trailFiles(dir)[1]!);
    const r = run(dir);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/FAIL .*: missing: expected index 2, found audit-00000003\.jsonl/);
  });

  test('two records swapped → reordered', () => {
    const dir = copy(base.single);
    const file = trailFiles(dir)[0]!;
    const lines = readLines(file);
    [lines[2], lines[3]] = [lines[3]!, lines[2]!]; // seq 3 and 4
    writeLines(file, lines);
    const r = run(dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`FAIL ${file}:3 seq 4: reordered`);
  });

  test('a forged record inserted (correct seq, prev and hash) → inserted', () => {
    const dir = copy(base.single);
    const file = trailFiles(dir)[0]!;
    const lines = readLines(file);
    const after = JSON.parse(lines[9]!) as Rec; // seq 10
    const forged = rehash({ ...(JSON.parse(lines[8]!) as Rec), seq: after.seq + 1, prev: after.hash, requestId: 'forged' });
    lines.splice(10, 0, jcs(forged));
    writeLines(file, lines);
    const r = run(dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`FAIL ${file}:12 seq 11: inserted`);
  });

  test('a forged record appended after the last checkpoint is not detected (documented, §5) but is reported as unsigned', () => {
    // §5: records after the last checkpoint are not protected by a signature: documented, so OK.
    const dir = copy(base.single);
    const file = trailFiles(dir)[0]!;
    const lines = readLines(file);
    const last = JSON.parse(lines[lines.length - 1]!) as Rec;
    lines.push(jcs(rehash({ ...(JSON.parse(lines[0]!) as Rec), seq: last.seq + 1, prev: last.hash })));
    writeLines(file, lines);
    const r = run(dir);
    expect(r.code).toBe(0);
    expect(r.out).toContain('1 record(s) after the last checkpoint are not signed');
  });

  test('the tail cut before the last checkpoint → truncated (head file)', () => {
    const dir = copy(base.rotated);
    const file = trailFiles(dir).pop()!;
    const lines = readLines(file);
    writeLines(file, lines.slice(0, -1)); // drop the closing checkpoint
    const r = run(dir);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/FAIL .*audit\.head\.json:1 seq \d+: truncated: trail ends at seq \d+ but the head file is at seq \d+/);
  });

  test('the last file removed → truncated (head file)', () => {
    const dir = copy(base.rotated);
    fs.rmSync(trailFiles(dir).pop()!);
    const r = run(dir);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/truncated: trail ends at seq \d+ but the head file is at seq \d+/);
  });

  test('a checkpoint forged with another key (after an edit, everything re-hashed and re-signed) → bad signature', () => {
    const dir = copy(base.single);
    const file = trailFiles(dir)[0]!;
    const recs = readLines(file).map((l) => JSON.parse(l) as Rec);
    const otherId = thumbprint(createPublicKey(fs.readFileSync(otherPubPem)));
    recs[6] = { ...recs[6]!, decision: 'deny' } as Rec; // seq 7, covered by the checkpoint at seq 12
    let prev = recs[5]!.hash;
    for (let i = 6; i < recs.length; i++) {
      const r = { ...recs[i]!, prev } as Rec;
      recs[i] = r.kind === 'checkpoint' ? resign(r, otherPriv, otherId) : rehash(r);
      prev = recs[i]!.hash;
    }
    writeLines(file, recs.map(jcs));
    fs.writeFileSync(path.join(dir, 'audit.head.json'), `${jcs(recs[recs.length - 1]!)}\n`);
    const firstCp = recs.findIndex((r, i) => i >= 6 && r.kind === 'checkpoint');
    const r = run(dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`FAIL ${file}:${firstCp + 1} seq ${recs[firstCp]!.seq}: bad signature`);
    // …and with the forger's key supplied too, the trail would hold: the verifier can only
    // be as good as the keys it is given.
    const both = spawnSync(process.execPath, [script, dir, '--public-key', pubPem, '--public-key', otherPubPem], { encoding: 'utf8' });
    expect(both.status).toBe(0);
  });

  test('a checkpoint re-signed with another key under the original keyId → bad signature', () => {
    const dir = copy(base.rotated);
    const file = trailFiles(dir).pop()!;
    const recs = readLines(file).map((l) => JSON.parse(l) as Rec);
    const cp = recs[recs.length - 1]!;
    recs[recs.length - 1] = resign(cp, otherPriv, cp['keyId'] as string);
    writeLines(file, recs.map(jcs));
    const r = run(dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`FAIL ${file}:${recs.length} seq ${cp.seq}: bad signature`);
  });

  test('the head file edited → edited / bad signature', () => {
    const dir = copy(base.single);
    const head = path.join(dir, 'audit.head.json');
    fs.writeFileSync(head, fs.readFileSync(head, 'utf8').replace(/"seq":(\d+)/, (_m, s: string) => `"seq":${Number(s) + 1}`));
    const r = run(dir);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/audit\.head\.json:1 seq \d+: edited: head file: head hash does not match/);
  });

  test('a torn last line is noted, not a failure (§8 step 1); a cut line elsewhere is truncated', () => {
    const dir = copy(base.rotated);
    const files = trailFiles(dir);
    fs.appendFileSync(files[files.length - 1]!, '{"v":1,"seq":99');
    const ok = run(dir);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('torn last line');

    const dir2 = copy(base.rotated);
    const first = trailFiles(dir2)[0]!;
    const buf = fs.readFileSync(first);
    fs.writeFileSync(first, buf.subarray(0, buf.length - 10));
    const bad = run(dir2);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/truncated: line without LF before the end of the trail/);
  });

  test('a member name repeated in one line (JSON.parse keeps the last) → malformed', () => {
    const dir = copy(base.single);
    const file = trailFiles(dir)[0]!;
    const lines = readLines(file);
    lines[0] = `{"decision":"deny",${lines[0]!.slice(1)}`; // the hashed (last) value is still "allow"
    writeLines(file, lines);
    const r = run(dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`FAIL ${file}:1: malformed: member name "decision" appears twice in one object`);
  });

  test('a non-canonical base64url signature (spare bits changed, record re-hashed) → malformed', () => {
    const dir = copy(base.single);
    const file = trailFiles(dir)[0]!;
    const recs = readLines(file).map((l) => JSON.parse(l) as Rec);
    const cp = recs[recs.length - 1]!;
    const sig = cp['sig'] as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const lastChar = alphabet[alphabet.indexOf(sig[85]!) + 1]!; // same top 2 bits, spare bit set
    recs[recs.length - 1] = rehash({ ...cp, sig: sig.slice(0, 85) + lastChar } as Rec);
    writeLines(file, recs.map(jcs));
    const r = run(dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain('malformed: member sig is not canonical base64url');
  });
});
