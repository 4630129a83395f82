// Keeps the worked example of docs/audit-format.md true: the writer reproduces it byte
// for byte, and every value in it is re-derived here with node:crypto and the
// canonicalize package alone (no purposekit hashing or signing code).
import { createHash, createHmac, createPublicKey, createPrivateKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import canonicalize from 'canonicalize';
import { openFileAuditSink } from './file-sink';
import { createSubjectPseudonymizer } from '../pseudonym';
import { cleanupDirs, tempDir } from './__tests__/helpers';

const DOC = readFileSync(join(__dirname, '../../../../docs/audit-format.md'), 'utf8');
// RFC 8032 §7.1 test 1
const SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';

const docLines = (): string[] => {
  const block = /<!-- example:trail -->\n```jsonl\n([\s\S]*?)\n```\n<!-- \/example:trail -->/.exec(DOC);
  if (block === null) throw new Error('example block not found in docs/audit-format.md');
  return block[1]!.split('\n');
};
const sha256 = (text: string): string => createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex');
const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(PUBLIC, 'hex').toString('base64url') }, format: 'jwk' });

afterAll(cleanupDirs);

describe('docs/audit-format.md worked example', () => {
  it('is what the writer produces for the documented inputs', async () => {
    const signingKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: Buffer.from(SEED, 'hex').toString('base64url'), x: Buffer.from(PUBLIC, 'hex').toString('base64url') }, format: 'jwk' });
    const pseudo = createSubjectPseudonymizer({ id: 's-2026', secret: Buffer.alloc(32, 1) });
    const dir = tempDir('doc');
    let t = Date.UTC(2026, 0, 31, 12, 0, 0);
    const sink = await openFileAuditSink({ dir, signingKey }, { now: () => t });
    await sink.append({ kind: 'access', actor: 'svc:accounts', subject: pseudo('user-42'), data: ['email'], action: 'read', purpose: 'service.registration', basis: 'contract', policy: { id: 'openinfra', version: '2024-06' }, requestId: 'req-1', decision: 'allow', reason: 'allowed' });
    t += 1000;
    await sink.append({ kind: 'age-gate', actor: 'svc:web', purpose: 'service.registration', policy: { id: 'openinfra', version: '2024-06' }, requestId: 'req-2', decision: 'deny', reason: 'refused', attributes: { gate: 'registration' } });
    t += 1000;
    await sink.close();
    const lines = docLines();
    expect(readFileSync(join(dir, 'audit-00000001.jsonl'), 'utf8')).toBe(lines.map((l) => `${l}\n`).join(''));
    expect(readFileSync(join(dir, 'audit.head.json'), 'utf8')).toBe(`${lines[2]}\n`);
  });

  it('holds when re-derived independently: key id, pseudonym, hashes, links, signature', () => {
    const x = Buffer.from(PUBLIC, 'hex').toString('base64url');
    expect(DOC).toContain(`public key x (base64url): ${x}`);
    const keyId = createHash('sha256').update(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`).digest('base64url');
    const pseudonym = `hmac-sha256:s-2026:${createHmac('sha256', Buffer.alloc(32, 1)).update('user-42', 'utf8').digest('hex')}`;
    expect(DOC).toContain(`\`\`\`\n${keyId}\n\`\`\``);
    expect(DOC).toContain(`\`\`\`\n${pseudonym}\n\`\`\``);

    let prev = '0'.repeat(64);
    docLines().forEach((line, i) => {
      const record = JSON.parse(line) as Record<string, unknown>;
      const { hash, ...body } = record;
      expect(line).toBe(canonicalize(record)); // the writer emits JCS lines
      expect(record['seq']).toBe(i + 1);
      expect(record['prev']).toBe(prev);
      expect(hash).toBe(sha256(canonicalize(body)!));
      expect(DOC).toContain(String(hash));
      if (record['kind'] === 'checkpoint') {
        const { sig, ...signed } = body;
        expect(record['keyId']).toBe(keyId);
        expect(DOC).toContain(`\`\`\`\n${canonicalize(signed)}\n\`\`\``);
        expect(verify(null, Buffer.from(canonicalize(signed)!, 'utf8'), publicKey, Buffer.from(String(sig), 'base64url'))).toBe(true);
      } else if (i === 0) {
        expect(record['subject']).toBe(pseudonym);
        expect(DOC).toContain(`\`\`\`\n${canonicalize(body)}\n\`\`\``);
      }
      prev = String(hash);
    });
  });
});
