import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { isPurposekitError } from '../errors';
import { createSubjectPseudonymizer } from '../pseudonym';
import { checkpointSigningInput, makeCheckpoint, verifyCheckpointSignature } from './checkpoint';
import { canonicalJson, hashAuditRecord } from './encode';
import { auditKeyId, generateAuditKeys, parseSubjectKey, toSigningKey, toVerifyKey } from './keys';

// RFC 8037, Appendix A.1–A.3: an Ed25519 key and its RFC 7638 thumbprint.
const RFC8037_JWK = { kty: 'OKP', crv: 'Ed25519', d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' };
const RFC8037_THUMBPRINT = 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return isPurposekitError(error) ? error.code : 'not a PurposekitError';
  }
}

describe('checkpoint key ids', () => {
  it('are the RFC 7638 thumbprint (RFC 8037 A.3 test vector)', () => {
    const priv = createPrivateKey({ key: RFC8037_JWK, format: 'jwk' });
    expect(auditKeyId(priv)).toBe(RFC8037_THUMBPRINT);
    expect(auditKeyId(createPublicKey(priv).export({ format: 'pem', type: 'spki' }).toString())).toBe(RFC8037_THUMBPRINT);
  });

  it.each([
    ['an RSA key', () => toSigningKey(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey)],
    ['a public key where a private one is needed', () => toSigningKey(generateKeyPairSync('ed25519').publicKey)],
    ['text that is not PEM', () => toSigningKey('not a key')],
    ['a number', () => toSigningKey(42)],
    ['an X25519 public key', () => toVerifyKey(generateKeyPairSync('x25519').publicKey)],
  ])('refuses %s with PURPOSEKIT_ERR_INVALID_KEY', (_name, fn) => {
    expect(codeOf(fn)).toBe('PURPOSEKIT_ERR_INVALID_KEY');
  });
});

describe('checkpoints', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const prev = 'ab'.repeat(32);

  it('sign the canonical record without sig and hash, and hash the record with sig', () => {
    const { record, line } = makeCheckpoint({ seq: 9, ts: '2026-01-31T00:00:00.000Z', prev, keyId: 'k' }, privateKey);
    expect(checkpointSigningInput(record).toString('utf8')).toBe('{"alg":"Ed25519","keyId":"k","kind":"checkpoint","prev":"' + prev + '","seq":9,"ts":"2026-01-31T00:00:00.000Z","v":1}');
    expect(record.hash).toBe(hashAuditRecord(record as unknown as Record<string, unknown>));
    expect(line).toBe(canonicalJson(record));
    expect(verifyCheckpointSignature(record as unknown as Record<string, unknown>, publicKey)).toBe(true);
  });

  it.each([
    ['prev', { prev: 'cd'.repeat(32) }],
    ['seq', { seq: 10 }],
    ['ts', { ts: '2026-01-31T00:00:00.001Z' }],
    ['keyId', { keyId: 'other' }],
    ['sig (not base64url)', { sig: '***' }],
  ])('fail to verify when %s changes', (_name, change) => {
    const { record } = makeCheckpoint({ seq: 9, ts: '2026-01-31T00:00:00.000Z', prev, keyId: 'k' }, privateKey);
    expect(verifyCheckpointSignature({ ...record, ...change }, publicKey)).toBe(false);
  });

  it('fail to verify with another key', () => {
    const { record } = makeCheckpoint({ seq: 1, ts: '2026-01-31T00:00:00.000Z', prev, keyId: 'k' }, privateKey);
    expect(verifyCheckpointSignature(record as unknown as Record<string, unknown>, generateKeyPairSync('ed25519').publicKey)).toBe(false);
  });
});

describe('generateAuditKeys and subject keys', () => {
  it('generates a usable key set whose ids match the keys', () => {
    const keys = generateAuditKeys();
    expect(auditKeyId(keys.signingPublicKeyPem)).toBe(keys.signingKeyId);
    expect(auditKeyId(keys.signingPrivateKeyPem)).toBe(keys.signingKeyId);
    const subjectKey = parseSubjectKey(keys.subjectKeyJson);
    expect(subjectKey.id).toBe(keys.subjectKeyId);
    expect(keys.subjectKeyId).toMatch(/^s-[0-9a-f]{16}$/);
    expect(createSubjectPseudonymizer(subjectKey)('user-1')).toMatch(new RegExp(`^hmac-sha256:${keys.subjectKeyId}:[0-9a-f]{64}$`));
    expect(generateAuditKeys().subjectKeyId).not.toBe(keys.subjectKeyId);
  });

  it.each([
    ['not JSON', '{'],
    ['a wrong kty', JSON.stringify({ kty: 'RSA', kid: 'a', k: 'AAAA' })],
    ['a short secret', JSON.stringify({ kty: 'oct', kid: 'a', k: Buffer.alloc(16).toString('base64url') })],
    ['a bad kid', JSON.stringify({ kty: 'oct', kid: 'a:b', k: Buffer.alloc(32).toString('base64url') })],
    ['a k that is not base64url', JSON.stringify({ kty: 'oct', kid: 'a', k: 'a+b/' })],
  ])('parseSubjectKey refuses %s', (_name, text) => {
    expect(codeOf(() => parseSubjectKey(text))).toBe('PURPOSEKIT_ERR_INVALID_KEY');
  });
});
