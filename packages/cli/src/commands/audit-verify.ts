/** `purposekit audit verify <path> --public-key <file>` */
import { readFile } from 'node:fs/promises';
import { PurposekitError, verifyAuditTrail } from '@purposekit/core';
import type { AuditVerifyResult } from '@purposekit/core';
import { writeOut } from '../io';
import type { CliIo } from '../io';
import { absolute } from '../paths';
import { progressFor } from '../progress';
import { trailSize } from '../trail-size';

export interface VerifyFlags {
  publicKey: string[];
  prefix?: string;
  partial?: boolean;
  json?: boolean;
}

/** Exit code 0 when every link, signature and the head hold; 1 when not. */
export async function auditVerify(io: CliIo, path: string, flags: VerifyFlags): Promise<number> {
  if (flags.publicKey.length === 0) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'audit verify needs --public-key <file> (the audit-signing.pub.pem that `purposekit keys generate` wrote).', { details: { option: 'public-key' } });
  }
  const publicKeys: string[] = [];
  for (const file of flags.publicKey) publicKeys.push(await readText(absolute(io, file)));
  const trail = absolute(io, path);
  const progress = progressFor(io, 'verify', await trailSize(trail, flags.prefix));
  let result: AuditVerifyResult;
  try {
    result = await verifyAuditTrail(trail, {
      publicKeys,
      ...(flags.prefix === undefined ? {} : { prefix: flags.prefix }),
      ...(flags.partial === true ? { partial: true } : {}),
      ...(progress.onProgress === undefined ? {} : { onProgress: progress.onProgress }),
    });
  } finally {
    progress.stop();
  }
  if (flags.json === true) {
    await writeOut(io.stdout, `${JSON.stringify(result, null, 2)}\n`);
  } else {
    await writeOut(io.stdout, render(path, result));
  }
  if (result.problem !== undefined) {
    const p = result.problem;
    await writeOut(io.stderr, `PURPOSEKIT_ERR_AUDIT_CORRUPT: ${p.kind}: ${p.message}\n`);
    return 1;
  }
  return 0;
}

function render(path: string, r: AuditVerifyResult): string {
  const lines: string[] = [];
  const files = `${r.files.length} file${r.files.length === 1 ? '' : 's'}`;
  if (r.problem !== undefined) {
    const p = r.problem;
    lines.push(`FAILED ${path}: ${p.kind} at ${p.file}${p.line > 0 ? `:${p.line}` : ''}${p.seq === undefined ? '' : ` (seq ${p.seq})`}`);
    lines.push(`  ${p.message}`);
    lines.push(`  ${r.records} record(s) before it held.`);
  } else {
    lines.push(`OK ${path}: ${r.records} records in ${files}, ${r.checkpoints} signed checkpoint${r.checkpoints === 1 ? '' : 's'}.`);
    if (r.lastSeq !== undefined) lines.push(`  chain head: seq ${r.lastSeq} ${r.lastHash}`);
    if (r.lastCheckpoint !== undefined) lines.push(`  last checkpoint: seq ${r.lastCheckpoint.seq} at ${r.lastCheckpoint.ts}, key ${r.lastCheckpoint.keyId}`);
    if (r.unsignedTail > 0) lines.push(`  ${r.unsignedTail} record(s) after the last checkpoint: hash-linked, not yet signed.`);
  }
  for (const note of r.notes) lines.push(`  note: ${note}`);
  return `${lines.join('\n')}\n`;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as { code?: string }).code ?? 'EIO';
    throw new PurposekitError('PURPOSEKIT_ERR_FILE_ACCESS', `Cannot read ${path} (${code}).`, { cause, details: { path, code } });
  }
}

export { readText };
