/** `purposekit keys generate [--out-dir <dir>]` */
import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PurposekitError, generateAuditKeys } from '@purposekit/core';
import { writeOut } from '../io';
import type { CliIo } from '../io';
import { absolute } from '../paths';

export interface KeysFlags {
  outDir: string;
}

/** The files `keys generate` writes, with their modes. */
export const KEY_FILES = {
  signingPrivate: { name: 'audit-signing.key.pem', mode: 0o600 },
  signingPublic: { name: 'audit-signing.pub.pem', mode: 0o644 },
  subject: { name: 'subject-hmac.key.json', mode: 0o600 },
} as const;

function fileError(path: string, code: string, message: string, cause?: unknown): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_FILE_ACCESS', message, { ...(cause === undefined ? {} : { cause }), details: { path, code } });
}

export async function keysGenerate(io: CliIo, flags: KeysFlags): Promise<number> {
  const dir = absolute(io, flags.outDir);
  const paths = Object.values(KEY_FILES).map((f) => join(dir, f.name));
  // Refuse before writing anything: never half a key set, never an overwritten key.
  for (const p of paths) {
    const exists = await stat(p).then(
      () => true,
      () => false,
    );
    if (exists) throw fileError(p, 'EEXIST', `${p} already exists; refusing to overwrite a key (move it away or choose another --out-dir).`);
  }
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    const code = (cause as { code?: string }).code ?? 'EIO';
    throw fileError(dir, code, `Cannot create ${dir} (${code}).`, cause);
  }
  const keys = generateAuditKeys();
  const contents: Record<keyof typeof KEY_FILES, string> = {
    signingPrivate: keys.signingPrivateKeyPem,
    signingPublic: keys.signingPublicKeyPem,
    subject: keys.subjectKeyJson,
  };
  for (const [id, file] of Object.entries(KEY_FILES) as Array<[keyof typeof KEY_FILES, (typeof KEY_FILES)[keyof typeof KEY_FILES]]>) {
    const p = join(dir, file.name);
    try {
      await writeFile(p, contents[id], { mode: file.mode, flag: 'wx' });
      await chmod(p, file.mode); // the umask may only have narrowed it; make it exact
    } catch (cause) {
      const code = (cause as { code?: string }).code ?? 'EIO';
      throw fileError(p, code, code === 'EEXIST' ? `${p} already exists; refusing to overwrite a key.` : `Cannot write ${p} (${code}).`, cause);
    }
  }
  await writeOut(
    io.stdout,
    [
      `Wrote to ${dir}:`,
      `  ${KEY_FILES.signingPrivate.name}  Ed25519 private key for checkpoints (secret, mode 0600) -> createFileAuditSink({ signingKey })`,
      `  ${KEY_FILES.signingPublic.name}  its public key, for auditors -> purposekit audit verify --public-key`,
      `  ${KEY_FILES.subject.name}  subject pseudonym key, HMAC-SHA-256 (secret, mode 0600) -> parseSubjectKey(), audit report --key`,
      `Checkpoint key id: ${keys.signingKeyId}`,
      `Subject key id:    ${keys.subjectKeyId}`,
      '',
    ].join('\n'),
  );
  return 0;
}
