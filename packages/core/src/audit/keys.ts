/**
 * Keys of the audit trail: the Ed25519 checkpoint key (id = RFC 7638 JWK thumbprint of
 * the public key) and the subject HMAC key, stored as an RFC 7517 `oct` JWK.
 */
import { KeyObject, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { PurposekitError } from '../errors';
import type { PseudonymKey } from '../pseudonym';
import { canonicalJson } from './encode';

/** A custom checkpoint key id: 1–128 characters of `[A-Za-z0-9._:-]`. */
export const AUDIT_KEY_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

function invalidKey(message: string, cause?: unknown): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_INVALID_KEY', message, cause === undefined ? {} : { cause });
}

/**
 * An Ed25519 private key from a KeyObject or a PKCS#8 PEM string.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_KEY
 */
export function toSigningKey(key: unknown, what = 'signingKey'): KeyObject {
  let k: KeyObject;
  if (key instanceof KeyObject) k = key;
  else if (typeof key === 'string' || Buffer.isBuffer(key)) {
    try {
      k = createPrivateKey(key);
    } catch (cause) {
      throw invalidKey(`${what}: not a PEM private key (generate one with \`purposekit keys generate\`).`, cause);
    }
  } else throw invalidKey(`${what}: expected an Ed25519 private KeyObject or a PKCS#8 PEM string.`);
  if (k.type !== 'private' || k.asymmetricKeyType !== 'ed25519') {
    throw invalidKey(`${what}: must be an Ed25519 private key, got a ${k.type} ${k.asymmetricKeyType ?? 'secret'} key.`);
  }
  return k;
}

/**
 * An Ed25519 public key from a KeyObject (public or private) or a PEM string (SPKI, or
 * a private key whose public half is taken).
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_KEY
 */
export function toVerifyKey(key: unknown, what = 'publicKey'): KeyObject {
  let k: KeyObject;
  try {
    if (key instanceof KeyObject) k = key.type === 'private' ? createPublicKey(key) : key;
    else if (typeof key === 'string' || Buffer.isBuffer(key)) k = createPublicKey(key);
    else throw invalidKey(`${what}: expected an Ed25519 public key (KeyObject or PEM).`);
  } catch (cause) {
    if (cause instanceof PurposekitError) throw cause;
    throw invalidKey(`${what}: not a PEM public key.`, cause);
  }
  if (k.type !== 'public' || k.asymmetricKeyType !== 'ed25519') {
    throw invalidKey(`${what}: must be an Ed25519 public key, got a ${k.type} ${k.asymmetricKeyType ?? 'secret'} key.`);
  }
  return k;
}

/**
 * The id of a checkpoint key: the RFC 7638 JWK thumbprint of its public key, i.e.
 * base64url(SHA-256(`{"crv":"Ed25519","kty":"OKP","x":"<base64url public key>"}`)).
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_KEY
 */
export function auditKeyId(key: KeyObject | string): string {
  const pub = toVerifyKey(key, 'key');
  const jwk = pub.export({ format: 'jwk' }) as { crv: string; kty: string; x: string };
  const members = canonicalJson({ crv: jwk.crv, kty: jwk.kty, x: jwk.x });
  return createHash('sha256').update(members, 'utf8').digest('base64url');
}

/** A subject key as `purposekit keys generate` stores it: an RFC 7517 symmetric JWK. */
export interface SubjectKeyJwk {
  kty: 'oct';
  /** The key id written into every pseudonym. */
  kid: string;
  /** Informational: the pseudonyms are HMAC-SHA-256. */
  alg: 'HS256';
  /** The secret, base64url without padding (32 bytes). */
  k: string;
}

const SUBJECT_KEY_ID = /^[A-Za-z0-9._-]{1,32}$/;

/**
 * Reads a subject key file (JSON: `{ "kty": "oct", "kid", "k" }`) into the form
 * `createSubjectPseudonymizer` takes.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_KEY
 */
export function parseSubjectKey(text: string): PseudonymKey {
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch (cause) {
    throw invalidKey('subject key: not JSON (expected the file `purposekit keys generate` writes).', cause);
  }
  const j = jwk as Partial<SubjectKeyJwk> | null;
  if (typeof j !== 'object' || j === null || j.kty !== 'oct' || typeof j.kid !== 'string' || typeof j.k !== 'string') {
    throw invalidKey('subject key: expected a JSON Web Key { "kty": "oct", "kid": "...", "k": "..." }.');
  }
  if (!SUBJECT_KEY_ID.test(j.kid)) throw invalidKey('subject key: "kid" must be 1–32 characters of letters, digits, ".", "_" or "-".');
  if (!/^[A-Za-z0-9_-]+$/.test(j.k)) throw invalidKey('subject key: "k" must be base64url.');
  const secret = Buffer.from(j.k, 'base64url');
  if (secret.length < 32) throw invalidKey('subject key: the secret must be at least 32 bytes.');
  return { id: j.kid, secret };
}

/** A freshly generated set of audit keys, as PEM / JSON text ready to write to files. */
export interface GeneratedAuditKeys {
  /** Ed25519 private key, PKCS#8 PEM. Secret. */
  readonly signingPrivateKeyPem: string;
  /** Ed25519 public key, SPKI PEM: give it to verifiers. */
  readonly signingPublicKeyPem: string;
  /** The checkpoint key id ({@link auditKeyId}). */
  readonly signingKeyId: string;
  /** The subject HMAC key as JSON ({@link SubjectKeyJwk}). Secret. */
  readonly subjectKeyJson: string;
  /** The subject key id written into pseudonyms. */
  readonly subjectKeyId: string;
}

/**
 * Generates an Ed25519 checkpoint key pair and a 32-byte subject HMAC key. The subject
 * key id is `s-` and 16 hex digits of SHA-256 over a label and the secret: stable for
 * the key, and reveals nothing about it.
 */
export function generateAuditKeys(): GeneratedAuditKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const secret = randomBytes(32);
  const subjectKeyId = `s-${createHash('sha256').update('purposekit subject key id\n').update(secret).digest('hex').slice(0, 16)}`;
  const jwk: SubjectKeyJwk = { kty: 'oct', kid: subjectKeyId, alg: 'HS256', k: secret.toString('base64url') };
  return Object.freeze({
    signingPrivateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    signingPublicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    signingKeyId: auditKeyId(publicKey),
    subjectKeyJson: `${JSON.stringify(jwk, null, 2)}\n`,
    subjectKeyId,
  });
}
