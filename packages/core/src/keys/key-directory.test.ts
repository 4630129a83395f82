import { chmodSync, mkdtempSync, readFileSync, readdirSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPurposekitError } from '../errors';
import { createSubjectPseudonymizer } from '../pseudonym';
import { KEY_FILES, generateKeyDirectory, openKeyDirectory } from './key-directory';

const fresh = () => mkdtempSync(join(tmpdir(), 'pk-keys-'));

describe('key directories', () => {
  it('generates the four files with exact modes and opens them', () => {
    const dir = join(fresh(), 'keys');
    const ids = generateKeyDirectory(dir);
    expect(readdirSync(dir).sort()).toEqual(Object.values(KEY_FILES).map((f) => f.name).sort());
    for (const f of Object.values(KEY_FILES)) expect(statSync(join(dir, f.name)).mode & 0o777).toBe(f.mode);
    const keys = openKeyDirectory(dir);
    expect(keys.signingKey).toContain('BEGIN PRIVATE KEY');
    expect(keys.subjectKey.id).toBe(ids.subjectKeyId);
    expect(keys.lockoutSecret).toHaveLength(32);
    expect(createSubjectPseudonymizer(keys.subjectKey)('u1')).toMatch(new RegExp(`^hmac-sha256:${ids.subjectKeyId}:[0-9a-f]{64}$`));
  });

  it('never overwrites: a second generate refuses and changes nothing', () => {
    const dir = fresh();
    generateKeyDirectory(dir);
    const before = openKeyDirectory(dir);
    expect(() => generateKeyDirectory(dir)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_FILE_ACCESS' }));
    expect(openKeyDirectory(dir)).toEqual(before);
  });

  it('fails on a missing key with the command that creates one, unless asked to create a fresh directory', () => {
    const dir = fresh();
    expect(() => openKeyDirectory(dir)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_FILE_ACCESS', message: expect.stringContaining('purposekit keys generate') }));
    const created = openKeyDirectory(dir, { createIfMissing: true });
    expect(openKeyDirectory(dir, { createIfMissing: true })).toEqual(created); // the second start reuses the keys
  });

  it('does not paper over a half key set, even with createIfMissing', () => {
    const dir = fresh();
    writeFileSync(join(dir, KEY_FILES.lockout.name), '0123456789abcdef'.repeat(4), { mode: 0o600 });
    expect(() => openKeyDirectory(dir, { createIfMissing: true })).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_FILE_ACCESS', message: expect.stringContaining('is missing') }));
  });

  it('rejects a short lockout key', () => {
    const dir = fresh();
    generateKeyDirectory(dir);
    writeFileSync(join(dir, KEY_FILES.lockout.name), 'abcd');
    expect(() => openKeyDirectory(dir)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_KEY' }));
  });
});

/** The error `fn` throws, asserted to be a PurposekitError. */
function thrown(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (!isPurposekitError(e)) throw new Error(`expected a PurposekitError, got ${String(e)}`);
    return e;
  }
  throw new Error('expected an error, none thrown');
}

describe('key directories refuse unsafe keys, each with the fix in the message', () => {
  const keysDir = (): string => {
    const dir = fresh();
    generateKeyDirectory(dir);
    return dir;
  };
  const secretFiles = [KEY_FILES.signingPrivate.name, KEY_FILES.subject.name, KEY_FILES.lockout.name];

  it.each(secretFiles.flatMap((name) => [[name, '640', 'its group'], [name, '604', 'other users'], [name, '644', 'its group']] as const))(
    'a secret %s with mode %s (readable by %s)',
    (name, mode, who) => {
      const dir = keysDir();
      const p = join(dir, name);
      chmodSync(p, parseInt(mode, 8));
      const e = thrown(() => openKeyDirectory(dir));
      expect(e.code).toBe('PURPOSEKIT_ERR_FILE_ACCESS');
      expect(e.message).toContain(`chmod 600 ${p}`);
      expect(e.message).toContain(who);
      chmodSync(p, 0o600);
      expect(() => openKeyDirectory(dir)).not.toThrow(); // the advice works
    },
  );

  it('a public key may be world-readable (it is meant to be shared)', () => {
    const dir = keysDir();
    chmodSync(join(dir, KEY_FILES.signingPublic.name), 0o644);
    expect(() => openKeyDirectory(dir)).not.toThrow();
  });

  it.each(Object.values(KEY_FILES).map((f) => [f.name]))('a symlinked %s', (name) => {
    const dir = keysDir();
    const p = join(dir, name);
    const real = join(fresh(), name);
    renameSync(p, real);
    symlinkSync(real, p);
    const e = thrown(() => openKeyDirectory(dir));
    expect(e.code).toBe('PURPOSEKIT_ERR_FILE_ACCESS');
    expect(e.message).toContain(`${p} is a symbolic link`);
    expect(e.message).toContain('cp --remove-destination');
  });

  it.each([
    ['an all-zero lockout key', KEY_FILES.lockout.name, () => `${'00'.repeat(32)}\n`],
    ['an all-same-byte lockout key', KEY_FILES.lockout.name, () => 'a5'.repeat(48)],
    ['an all-zero subject key', KEY_FILES.subject.name, () => JSON.stringify({ kty: 'oct', kid: 's-1', alg: 'HS256', k: Buffer.alloc(32).toString('base64url') })],
    ['an all-same-byte subject key', KEY_FILES.subject.name, () => JSON.stringify({ kty: 'oct', kid: 's-1', k: Buffer.alloc(32, 0x42).toString('base64url') })],
  ])('%s', (_what, name, content) => {
    const dir = keysDir();
    writeFileSync(join(dir, name), content());
    const e = thrown(() => openKeyDirectory(dir));
    expect(e.code).toBe('PURPOSEKIT_ERR_INVALID_KEY');
    expect(e.message).toContain(join(dir, name));
    expect(e.message).toContain('one byte repeated');
    expect(e.message).toContain('purposekit keys generate');
  });

  it('an all-zero Ed25519 signing seed', () => {
    const dir = keysDir();
    // PKCS#8 DER of an Ed25519 key is a fixed 16-byte header followed by the 32-byte seed.
    const header = Buffer.from('302e020100300506032b657004220420', 'hex');
    const zero = createPrivateKey({ key: Buffer.concat([header, Buffer.alloc(32)]), format: 'der', type: 'pkcs8' });
    writeFileSync(join(dir, KEY_FILES.signingPrivate.name), zero.export({ format: 'pem', type: 'pkcs8' }));
    const e = thrown(() => openKeyDirectory(dir));
    expect(e.code).toBe('PURPOSEKIT_ERR_INVALID_KEY');
    expect(e.message).toContain("signing key's seed is one byte repeated");
  });

  it.each([
    ['an RSA PEM', () => generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, 'must be Ed25519, got rsa'],
    ['an EC P-256 JWK', () => JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })), 'must be an Ed25519 JWK'],
    ['an Ed448 JWK', () => JSON.stringify(generateKeyPairSync('ed448').privateKey.export({ format: 'jwk' })), 'must be an Ed25519 JWK'],
    ['an Ed25519 JWK that claims another alg', () => JSON.stringify({ ...(generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) as object), alg: 'RS256' }), 'must be an Ed25519 JWK'],
    ['a secret (oct) JWK', () => JSON.stringify({ kty: 'oct', k: 'x'.repeat(43) }), 'must be an Ed25519 JWK'],
  ])('a signing key that is %s', (_what, content, says) => {
    const dir = keysDir();
    writeFileSync(join(dir, KEY_FILES.signingPrivate.name), content());
    const e = thrown(() => openKeyDirectory(dir));
    expect(e.code).toBe('PURPOSEKIT_ERR_INVALID_KEY');
    expect(e.message).toContain(says);
    expect(e.message).toContain('purposekit keys generate');
  });

  it('a subject JWK whose alg is not HS256', () => {
    const dir = keysDir();
    const p = join(dir, KEY_FILES.subject.name);
    writeFileSync(p, JSON.stringify({ ...JSON.parse(readFileSync(p, 'utf8')), alg: 'EdDSA' }));
    const e = thrown(() => openKeyDirectory(dir));
    expect(e.code).toBe('PURPOSEKIT_ERR_INVALID_KEY');
    expect(e.message).toContain('"alg" must be "HS256", got "EdDSA"');
  });

  it('a public key that does not belong to the signing key', () => {
    const dir = keysDir();
    const other = keysDir();
    writeFileSync(join(dir, KEY_FILES.signingPublic.name), readFileSync(join(other, KEY_FILES.signingPublic.name)));
    const e = thrown(() => openKeyDirectory(dir));
    expect(e.code).toBe('PURPOSEKIT_ERR_INVALID_KEY');
    expect(e.message).toContain('does not match');
    expect(e.message).toContain('openssl pkey');
  });

  it('accepts an Ed25519 private JWK as the signing key and hands out PEM', () => {
    const dir = keysDir();
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(dir, KEY_FILES.signingPrivate.name), JSON.stringify(privateKey.export({ format: 'jwk' })));
    writeFileSync(join(dir, KEY_FILES.signingPublic.name), publicKey.export({ format: 'pem', type: 'spki' }));
    const keys = openKeyDirectory(dir);
    expect(keys.signingKey).toContain('BEGIN PRIVATE KEY');
    expect(createPrivateKey(keys.signingKey).equals(privateKey)).toBe(true);
  });
});
