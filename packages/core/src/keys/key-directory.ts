/**
 * A key directory: the files `purposekit keys generate` writes and services load at
 * start-up. One format for the CLI and every service, so that a privacy officer can run
 * `purposekit audit report --key <dir>/subject-hmac.key.json` on any service's trail.
 */
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { generateAuditKeys, parseSubjectKey } from '../audit';
import { PurposekitError } from '../errors';
import type { PseudonymKey } from '../pseudonym';

/** The files of a key directory and their modes. */
export const KEY_FILES = Object.freeze({
  /** Ed25519 private key (PKCS#8 PEM) signing audit checkpoints. Secret. */
  signingPrivate: Object.freeze({ name: 'audit-signing.key.pem', mode: 0o600 }),
  /** Its public key (SPKI PEM), for `purposekit audit verify --public-key`. */
  signingPublic: Object.freeze({ name: 'audit-signing.pub.pem', mode: 0o644 }),
  /** The subject pseudonym key (HMAC-SHA-256, a JWK). Secret. */
  subject: Object.freeze({ name: 'subject-hmac.key.json', mode: 0o600 }),
  /** The age-gate lockout cookie key (32 random bytes, hex). Secret. */
  lockout: Object.freeze({ name: 'lockout-hmac.key', mode: 0o600 }),
});

/** The keys of a directory, ready for `createFileAuditSink`, `createPurposekit` and age gates. */
export interface KeyDirectory {
  /** Ed25519 private key, PEM: `createFileAuditSink({ signingKey })`. */
  readonly signingKey: string;
  /** Path of the public key, for auditors. */
  readonly publicKeyPath: string;
  /** `createPurposekit({ subjectKey })`. */
  readonly subjectKey: PseudonymKey;
  /** `createPurposekit({ ageGate: { secret } })`. */
  readonly lockoutSecret: Buffer;
}

function fileError(path: string, code: string, message: string, cause?: unknown): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_FILE_ACCESS', message, { ...(cause === undefined ? {} : { cause }), details: { path, code } });
}

function write(path: string, content: string, mode: number): void {
  try {
    writeFileSync(path, content, { mode, flag: 'wx' });
    chmodSync(path, mode); // the umask may only have narrowed it; make it exact
  } catch (cause) {
    const code = (cause as { code?: string }).code ?? 'EIO';
    throw fileError(path, code, code === 'EEXIST' ? `${path} already exists; refusing to overwrite a key.` : `Cannot write ${path} (${code}).`, cause);
  }
}

/**
 * Writes a new, complete key directory. Refuses (writing nothing) if any key file exists:
 * never half a key set, never an overwritten key.
 * @returns the new keys' ids.
 * @throws PurposekitError PURPOSEKIT_ERR_FILE_ACCESS
 */
export function generateKeyDirectory(dir: string): { signingKeyId: string; subjectKeyId: string } {
  for (const f of Object.values(KEY_FILES)) {
    const p = join(dir, f.name);
    if (existsSync(p)) throw fileError(p, 'EEXIST', `${p} already exists; refusing to overwrite a key (move it away or choose another directory).`);
  }
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    const code = (cause as { code?: string }).code ?? 'EIO';
    throw fileError(dir, code, `Cannot create ${dir} (${code}).`, cause);
  }
  // Written into a private staging directory beside the target, then each file is
  // linked into place with `wx` semantics: a failure part-way leaves no key in `dir`.
  const staging = mkdtempSync(join(dir, '.keys-'));
  try {
    const keys = generateAuditKeys();
    const contents: Record<keyof typeof KEY_FILES, string> = {
      signingPrivate: keys.signingPrivateKeyPem,
      signingPublic: keys.signingPublicKeyPem,
      subject: keys.subjectKeyJson,
      lockout: `${randomBytes(32).toString('hex')}\n`,
    };
    for (const [id, f] of Object.entries(KEY_FILES) as Array<[keyof typeof KEY_FILES, { name: string; mode: number }]>) write(join(staging, f.name), contents[id], f.mode);
    const placed: string[] = [];
    try {
      for (const f of Object.values(KEY_FILES)) {
        linkSync(join(staging, f.name), join(dir, f.name)); // fails with EEXIST rather than overwrite
        placed.push(join(dir, f.name));
      }
    } catch (cause) {
      for (const p of placed) rmSync(p, { force: true });
      const code = (cause as { code?: string }).code ?? 'EIO';
      throw fileError(dir, code, code === 'EEXIST' ? `A key file appeared in ${dir} meanwhile; refusing to overwrite it.` : `Cannot place the keys in ${dir} (${code}).`, cause);
    }
    return { signingKeyId: keys.signingKeyId, subjectKeyId: keys.subjectKeyId };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Options of {@link openKeyDirectory}. */
export interface OpenKeyDirectoryOptions {
  /**
   * Generate the whole directory when it holds no key file yet (development and demos).
   * Default false: production keys come from `purposekit keys generate` or a secret store,
   * and a missing key is an error, not a silent new identity.
   */
  createIfMissing?: boolean;
}

/**
 * Loads a key directory at start-up (synchronously, before the server listens).
 * @throws PurposekitError PURPOSEKIT_ERR_FILE_ACCESS for a missing or unreadable file
 *   (the message says how to create one); PURPOSEKIT_ERR_INVALID_KEY for a malformed key.
 */
export function openKeyDirectory(dir: string, options: OpenKeyDirectoryOptions = {}): KeyDirectory {
  const paths = Object.values(KEY_FILES).map((f) => join(dir, f.name));
  if (options.createIfMissing === true && paths.every((p) => !existsSync(p))) generateKeyDirectory(dir);
  const read = (name: string): string => {
    const p = join(dir, name);
    try {
      return readFileSync(p, 'utf8');
    } catch (cause) {
      const code = (cause as { code?: string }).code ?? 'EIO';
      throw fileError(p, code, code === 'ENOENT' ? `${p} is missing. Create a key directory with \`purposekit keys generate --out-dir ${dir}\`.` : `Cannot read ${p} (${code}).`, cause);
    }
  };
  const lockoutHex = read(KEY_FILES.lockout.name).trim();
  if (!/^[0-9a-f]{64,}$/i.test(lockoutHex)) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_KEY', `${join(dir, KEY_FILES.lockout.name)} must hold at least 32 bytes as hex.`);
  }
  return Object.freeze({
    signingKey: read(KEY_FILES.signingPrivate.name),
    publicKeyPath: join(dir, KEY_FILES.signingPublic.name),
    subjectKey: parseSubjectKey(read(KEY_FILES.subject.name)),
    lockoutSecret: Buffer.from(lockoutHex, 'hex'),
  });
}
