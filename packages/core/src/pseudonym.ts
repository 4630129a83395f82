import { KeyObject, createHmac, createSecretKey } from 'node:crypto';
import { PurposekitError } from './errors';

/** A keyed-pseudonym key: an id (written into every pseudonym, for rotation) and a secret. */
export interface PseudonymKey {
  /** 1–32 characters of `[A-Za-z0-9._-]`. */
  id: string;
  /** At least 32 bytes (a string is taken as UTF-8). */
  secret: string | Buffer | KeyObject;
}

const KEY_ID = /^[A-Za-z0-9._-]{1,32}$/;
const CACHE_MAX = 10_000;

/**
 * Turns a secret into a KeyObject once. Node 24 re-imports a raw Buffer key on every
 * HMAC (12–16 µs); a KeyObject does not.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_KEY
 */
export function toHmacKey(key: PseudonymKey, what: string): KeyObject {
  if (typeof key !== 'object' || key === null || typeof key.id !== 'string' || !KEY_ID.test(key.id)) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_KEY', `${what}: "id" must be 1–32 characters of letters, digits, ".", "_" or "-".`);
  }
  const s = key.secret;
  if (s instanceof KeyObject) {
    if (s.type !== 'secret' || (s.symmetricKeySize ?? 0) < 32) throw new PurposekitError('PURPOSEKIT_ERR_INVALID_KEY', `${what}: the secret KeyObject must be a secret key of at least 32 bytes.`);
    return s;
  }
  const buf = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  if (!Buffer.isBuffer(buf) || buf.length < 32) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_KEY', `${what}: the secret must be at least 32 bytes (generate one with \`purposekit keys generate\` or crypto.randomBytes(32)).`);
  }
  return createSecretKey(buf);
}

/**
 * Returns a function mapping a subject id to its keyed pseudonym,
 * `hmac-sha256:<keyId>:<64 hex>`: the same subject always maps to the same pseudonym
 * under one key (so a subject access report can find it), and nobody without the key can
 * reverse or confirm a guess. A small cache keeps repeated subjects cheap.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_KEY
 */
export function createSubjectPseudonymizer(key: PseudonymKey): (subject: string) => string {
  const k = toHmacKey(key, 'subjectKey');
  const prefix = `hmac-sha256:${key.id}:`;
  const cache = new Map<string, string>();
  return (subject: string): string => {
    const hit = cache.get(subject);
    if (hit !== undefined) return hit;
    const out = prefix + createHmac('sha256', k).update(subject, 'utf8').digest('hex');
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(subject, out);
    return out;
  };
}
