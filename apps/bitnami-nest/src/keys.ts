import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';

/** The app's secrets, created on first start (mode 0600) and reused after. */
export interface AppKeys {
  /** Ed25519 private key (PEM) signing audit checkpoints. */
  signingKey: string;
  /** Ed25519 public key (PEM): what `purposekit audit verify --public-key` takes. */
  publicKeyPath: string;
  /** HMAC key for subject pseudonyms in the trail. */
  subjectSecret: Buffer;
  /** HMAC key for the age-gate lockout cookie. */
  lockoutSecret: Buffer;
}

function readOrCreate(path: string, create: () => string | Buffer): Buffer {
  if (!existsSync(path)) writeFileSync(path, create(), { mode: 0o600, flag: 'wx' });
  return readFileSync(path);
}

/** Loads the app's keys from `<dir>/keys`, generating any that are missing. */
export function ensureKeys(dataDir: string): AppKeys {
  const dir = join(dataDir, 'keys');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const privPath = join(dir, 'audit-signing.key.pem');
  const pubPath = join(dir, 'audit-signing.pub.pem');
  if (!existsSync(privPath)) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(privPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    writeFileSync(pubPath, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
  }
  return {
    signingKey: readFileSync(privPath, 'utf8'),
    publicKeyPath: pubPath,
    subjectSecret: Buffer.from(readOrCreate(join(dir, 'subject.key'), () => randomBytes(32).toString('hex')).toString('utf8'), 'hex'),
    lockoutSecret: Buffer.from(readOrCreate(join(dir, 'lockout.key'), () => randomBytes(32).toString('hex')).toString('utf8'), 'hex'),
  };
}
