/** `purposekit keys generate [--out-dir <dir>]` */
import { KEY_FILES, generateKeyDirectory } from '@purposekit/core';
import { writeOut } from '../io';
import type { CliIo } from '../io';
import { absolute } from '../paths';

export interface KeysFlags {
  outDir: string;
}

/** Writes a complete key directory (refusing to overwrite any key) and prints what each file is for. */
export async function keysGenerate(io: CliIo, flags: KeysFlags): Promise<number> {
  const dir = absolute(io, flags.outDir);
  const ids = generateKeyDirectory(dir);
  await writeOut(
    io.stdout,
    [
      `Wrote to ${dir}:`,
      `  ${KEY_FILES.signingPrivate.name}  Ed25519 private key for checkpoints (secret, mode 0600) -> createFileAuditSink({ signingKey })`,
      `  ${KEY_FILES.signingPublic.name}  its public key, for auditors -> purposekit audit verify --public-key`,
      `  ${KEY_FILES.subject.name}  subject pseudonym key, HMAC-SHA-256 (secret, mode 0600) -> parseSubjectKey(), audit report --key`,
      `  ${KEY_FILES.lockout.name}  age-gate lockout cookie key (secret, mode 0600) -> createPurposekit({ ageGate: { secret } })`,
      `Load them all with openKeyDirectory('${flags.outDir}') from @purposekit/core.`,
      `Checkpoint key id: ${ids.signingKeyId}`,
      `Subject key id:    ${ids.subjectKeyId}`,
      '',
    ].join('\n'),
  );
  return 0;
}
