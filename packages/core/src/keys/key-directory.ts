/**
 * A key directory: the files `purposekit keys generate` writes and services load at
 * start-up. One format for the CLI and every service, so that a privacy officer can run
 * `purposekit audit report --key <dir>/subject-hmac.key.json` on any service's trail.
 */
import { chmodSync, closeSync, constants, existsSync, fstatSync, linkSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
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

function invalidKey(path: string, message: string, cause?: unknown): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_INVALID_KEY', `${path}: ${message}`, { ...(cause === undefined ? {} : { cause }), details: { path } });
}

/** True when every byte is the same (all zero included): such a "key" is a placeholder, not a secret. */
function isConstant(bytes: Uint8Array): boolean {
  for (let i = 1; i < bytes.length; i++) if (bytes[i] !== bytes[0]) return false;
  return true;
}

/**
 * Reads one key file without following a symlink (O_NOFOLLOW where the platform has it,
 * so the check and the read are one open: no window to swap the file), and, for a
 * secret, refuses a mode that lets the group or others read it.
 */
function readKeyFile(dir: string, name: string, secret: boolean): string {
  const p = join(dir, name);
  const fail = (cause: unknown): never => {
    const code = (cause as { code?: string }).code ?? 'EIO';
    if (code === 'ELOOP') {
      throw fileError(p, code, `${p} is a symbolic link; key files must be regular files (a link can be re-pointed at another key). Replace it with the file itself, e.g. \`cp --remove-destination "$(readlink -f ${p})" ${p}\` (a Kubernetes secret volume links its files: mount each key with subPath, or copy the keys into place at start-up).`, cause);
    }
    throw fileError(p, code, code === 'ENOENT' ? `${p} is missing. Create a key directory with \`purposekit keys generate --out-dir ${dir}\`.` : `Cannot read ${p} (${code}).`, cause);
  };
  let fd: number;
  try {
    // Platforms without O_NOFOLLOW (Windows) get the lstat check below instead.
    if (constants.O_NOFOLLOW === undefined && lstatSync(p).isSymbolicLink()) throw Object.assign(new Error('symlink'), { code: 'ELOOP' });
    fd = openSync(p, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (cause) {
    return fail(cause);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw fileError(p, 'EINVAL', `${p} is not a regular file.`);
    if (secret && process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      throw fileError(
        p,
        'EPERM',
        `${p} is a secret key readable by ${(st.mode & 0o070) !== 0 ? 'its group' : 'other users'} (mode ${(st.mode & 0o777).toString(8).padStart(3, '0')}). Run \`chmod 600 ${p}\` (for a Kubernetes secret volume, set defaultMode: 0600).`,
      );
    }
    return readFileSync(fd, 'utf8');
  } catch (cause) {
    if (cause instanceof PurposekitError) throw cause;
    return fail(cause);
  } finally {
    closeSync(fd);
  }
}

const REGENERATE = 'Generate real keys with `purposekit keys generate --out-dir <new dir>`.';

/**
 * The checkpoint signing key: PKCS#8 PEM (what `purposekit keys generate` writes) or an
 * Ed25519 private JWK (`{"kty":"OKP","crv":"Ed25519",...}`); any other algorithm, or a
 * seed of one repeated byte, is refused here rather than when the first checkpoint is signed.
 */
function signingKeyFrom(path: string, text: string): KeyObject {
  let key: KeyObject;
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let jwk: unknown;
    try {
      jwk = JSON.parse(trimmed);
    } catch (cause) {
      throw invalidKey(path, `not a PEM key and not valid JSON. ${REGENERATE}`, cause);
    }
    const j = jwk as { kty?: unknown; crv?: unknown; alg?: unknown } | null;
    if (typeof j !== 'object' || j === null || j.kty !== 'OKP' || j.crv !== 'Ed25519' || (j.alg !== undefined && j.alg !== 'EdDSA' && j.alg !== 'Ed25519')) {
      const what = typeof j === 'object' && j !== null ? `kty ${JSON.stringify(j.kty)}, crv ${JSON.stringify(j.crv)}, alg ${JSON.stringify(j.alg)}` : 'not an object';
      throw invalidKey(path, `the signing key must be an Ed25519 JWK ({"kty":"OKP","crv":"Ed25519"}), got ${what}. ${REGENERATE}`);
    }
    try {
      key = createPrivateKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
    } catch (cause) {
      throw invalidKey(path, `not a usable Ed25519 private JWK. ${REGENERATE}`, cause);
    }
  } else {
    try {
      key = createPrivateKey(text);
    } catch (cause) {
      throw invalidKey(path, `not a PEM private key. ${REGENERATE}`, cause);
    }
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw invalidKey(path, `the signing key must be Ed25519, got ${key.asymmetricKeyType ?? 'an unknown type'}. ${REGENERATE}`);
  }
  const d = Buffer.from((key.export({ format: 'jwk' }) as { d: string }).d, 'base64url');
  if (isConstant(d)) throw invalidKey(path, `the signing key's seed is one byte repeated (a placeholder, not a secret). ${REGENERATE}`);
  return key;
}

/**
 * Loads a key directory at start-up (synchronously, before the server listens).
 *
 * Refused, each with a message that says how to fix it: a secret file (signing key,
 * subject key, lockout key) that its group or others may read (`chmod 600 <file>`);
 * any key file that is a symbolic link; a secret that is one byte repeated (all zero
 * included); a signing key that is not Ed25519 (PEM or JWK), a public key that does not
 * match it, and a subject JWK whose `alg` is not HS256.
 *
 * @throws PurposekitError PURPOSEKIT_ERR_FILE_ACCESS for a missing, unreadable,
 *   symlinked or group/other-readable file (the message says how to create or fix it);
 *   PURPOSEKIT_ERR_INVALID_KEY for a malformed, weak or wrong-algorithm key.
 */
export function openKeyDirectory(dir: string, options: OpenKeyDirectoryOptions = {}): KeyDirectory {
  const paths = Object.values(KEY_FILES).map((f) => join(dir, f.name));
  if (options.createIfMissing === true && paths.every((p) => !existsSync(p))) generateKeyDirectory(dir);
  const lockoutPath = join(dir, KEY_FILES.lockout.name);
  const lockoutHex = readKeyFile(dir, KEY_FILES.lockout.name, true).trim();
  if (!/^[0-9a-f]{64,}$/i.test(lockoutHex) || lockoutHex.length % 2 !== 0) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_KEY', `${lockoutPath} must hold at least 32 bytes as hex. ${REGENERATE}`, { details: { path: lockoutPath } });
  }
  const lockoutSecret = Buffer.from(lockoutHex, 'hex');
  if (isConstant(lockoutSecret)) throw invalidKey(lockoutPath, `the lockout key is one byte repeated (a placeholder, not a secret). ${REGENERATE}`);

  const signingPath = join(dir, KEY_FILES.signingPrivate.name);
  const signingText = readKeyFile(dir, KEY_FILES.signingPrivate.name, true);
  const signing = signingKeyFrom(signingPath, signingText);
  const publicKeyPath = join(dir, KEY_FILES.signingPublic.name);
  const publicText = readKeyFile(dir, KEY_FILES.signingPublic.name, false);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(publicText);
  } catch (cause) {
    throw invalidKey(publicKeyPath, `not a PEM public key. Rewrite it from the private key: \`openssl pkey -in ${signingPath} -pubout -out ${publicKeyPath}\`.`, cause);
  }
  if (!publicKey.equals(createPublicKey(signing))) {
    throw invalidKey(publicKeyPath, `does not match ${signingPath}; auditors would reject every checkpoint. Rewrite it: \`openssl pkey -in ${signingPath} -pubout -out ${publicKeyPath}\`.`);
  }

  const subjectPath = join(dir, KEY_FILES.subject.name);
  const subjectText = readKeyFile(dir, KEY_FILES.subject.name, true);
  let subjectAlg: unknown;
  try {
    subjectAlg = (JSON.parse(subjectText) as { alg?: unknown } | null)?.alg;
  } catch {
    subjectAlg = undefined; // parseSubjectKey reports the JSON error
  }
  if (subjectAlg !== undefined && subjectAlg !== 'HS256') {
    throw invalidKey(subjectPath, `the subject key is an HMAC-SHA-256 JWK; "alg" must be "HS256", got ${JSON.stringify(subjectAlg)}. ${REGENERATE}`);
  }
  let subjectKey: PseudonymKey;
  try {
    subjectKey = parseSubjectKey(subjectText);
  } catch (cause) {
    if (cause instanceof PurposekitError) throw invalidKey(subjectPath, `${cause.message} ${REGENERATE}`, cause);
    throw cause;
  }
  if (Buffer.isBuffer(subjectKey.secret) && isConstant(subjectKey.secret)) throw invalidKey(subjectPath, `the subject key is one byte repeated (a placeholder, not a secret). ${REGENERATE}`);

  return Object.freeze({
    signingKey: signingText.trim().startsWith('{') ? (signing.export({ format: 'pem', type: 'pkcs8' }) as string) : signingText,
    publicKeyPath,
    subjectKey,
    lockoutSecret,
  });
}
