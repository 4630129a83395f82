/** `purposekit audit verify <path> --public-key <file> [--anchors <file|postgres url>] [--expect-head <seq:hash>]` */
import { PurposekitError, verifyAuditTrail } from '@purposekit/core';
import type { AuditVerifyResult } from '@purposekit/core';
import { writeOut } from '../io';
import type { CliIo } from '../io';
import { absolute } from '../paths';
import { progressFor } from '../progress';
import { jsonSafe, terminalSafe as t } from '../safe-text';
import { trailSize } from '../trail-size';
import { openAnchors } from '../anchor-source';
import { readText } from '../read-text';

export interface VerifyFlags {
  publicKey: string[];
  prefix?: string;
  partial?: boolean;
  json?: boolean;
  /** Anchor files (JSON lines of heads), or PostgreSQL URLs of anchor tables. */
  anchors?: string[];
  /** Older spelling of a PostgreSQL `--anchors` URL. */
  anchorsPg?: string;
  /** Schema of the PostgreSQL anchor table. Default `purposekit` (with `--pg`: `--schema`). */
  anchorsSchema?: string;
  /** Stream id the anchored heads carry for this trail. Default: the file prefix. */
  stream?: string;
  /** `<seq>:<hash>`. */
  expectHead?: string;
  /** `<n>s|m|h|d`. */
  maxAge?: string;
}

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

function parseDuration(text: string): number {
  const m = /^(\d{1,9})(s|m|h|d)$/.exec(text);
  if (m === null) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'audit verify: --max-age must be a whole number and a unit: s, m, h or d (e.g. 65m, the heartbeat interval plus some slack).', {
      details: { option: 'max-age' },
    });
  }
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** `--expect-head <seq>:<hash>`. */
export function parseExpectHead(text: string): { seq: number; hash: string } {
  const m = /^(\d{1,15}):([0-9a-f]{64})$/.exec(text);
  if (m === null || Number(m[1]) < 1) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'audit verify: --expect-head must be <seq>:<hash>, e.g. 42:<64 lower-case hex digits> (the "chain head" line of an earlier verify).', {
      details: { option: 'expect-head' },
    });
  }
  return { seq: Number(m[1]), hash: m[2]! };
}

/** Exit code 0 when every link, signature, the head and every anchor hold; 1 when not. */
export async function auditVerify(io: CliIo, path: string, flags: VerifyFlags): Promise<number> {
  if (flags.publicKey.length === 0) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'audit verify needs --public-key <file> (the audit-signing.pub.pem that `purposekit keys generate` wrote).', { details: { option: 'public-key' } });
  }
  const publicKeys: string[] = [];
  for (const file of flags.publicKey) publicKeys.push(await readText(absolute(io, file)));
  const expectHead = flags.expectHead === undefined ? undefined : parseExpectHead(flags.expectHead);
  const maxAgeMs = flags.maxAge === undefined ? undefined : parseDuration(flags.maxAge);
  const opened = await openAnchors(io, flags);
  const anchors = opened.anchors;
  const trail = absolute(io, path);
  const progress = progressFor(io, 'verify', await trailSize(trail, flags.prefix));
  let result: AuditVerifyResult;
  try {
    result = await verifyAuditTrail(trail, {
      publicKeys,
      ...(flags.prefix === undefined ? {} : { prefix: flags.prefix }),
      ...(flags.partial === true ? { partial: true } : {}),
      ...(anchors.length === 0 ? {} : { anchors }),
      ...(expectHead === undefined ? {} : { expectHead }),
      ...(flags.stream === undefined ? {} : { stream: flags.stream }),
      ...(maxAgeMs === undefined ? {} : { maxCheckpointAge: { ms: maxAgeMs } }),
      ...(progress.onProgress === undefined ? {} : { onProgress: progress.onProgress }),
    });
  } finally {
    progress.stop();
    await opened.close();
  }
  if (flags.json === true) {
    await writeOut(io.stdout, `${jsonSafe(JSON.stringify(result, null, 2))}\n`);
  } else {
    await writeOut(io.stdout, render(path, result, anchors.length > 0 || expectHead !== undefined));
  }
  if (result.problem !== undefined) {
    const p = result.problem;
    await writeOut(io.stderr, `PURPOSEKIT_ERR_AUDIT_CORRUPT: ${p.kind}: ${t(p.message)}\n`);
    return 1;
  }
  return 0;
}

/** The verdict as text. Every value that came from the trail or the file system goes through `t()`: one verdict line, never forged. */
function render(path: string, r: AuditVerifyResult, anchored: boolean): string {
  const lines: string[] = [];
  const files = `${r.files.length} file${r.files.length === 1 ? '' : 's'}`;
  if (r.problem !== undefined) {
    const p = r.problem;
    lines.push(`FAILED ${t(path)}: ${p.kind} at ${t(p.file)}${p.line > 0 ? `:${p.line}` : ''}${p.seq === undefined ? '' : ` (seq ${p.seq})`}`);
    lines.push(`  ${t(p.message)}`);
    lines.push(`  ${r.records} record(s) before it held.`);
  } else {
    lines.push(`OK ${t(path)}: ${r.records} records in ${files}, ${r.checkpoints} signed checkpoint${r.checkpoints === 1 ? '' : 's'}.`);
    if (r.lastSeq !== undefined) lines.push(`  chain head: seq ${r.lastSeq} ${t(r.lastHash ?? '')}`);
    if (r.lastCheckpoint !== undefined) lines.push(`  last checkpoint: seq ${r.lastCheckpoint.seq} at ${t(r.lastCheckpoint.ts)}, key ${t(r.lastCheckpoint.keyId)}`);
    if (r.unsignedTail > 0) lines.push(`  ${r.unsignedTail} record(s) after the last checkpoint: hash-linked, not yet signed.`);
    if (anchored) {
      if (r.anchored === undefined) lines.push(`  not anchored: no anchored head falls within this trail (${r.anchorsChecked} head(s) given); all ${r.unanchoredTail ?? r.records} records are protected by the trail's own signatures only.`);
      else lines.push(`  signed and anchored up to seq ${r.anchored.seq} at ${t(r.anchored.ts)}; ${r.unanchoredTail ?? 0} record(s) after it are not yet anchored (${r.anchorsChecked} anchored head(s) checked).`);
    }
  }
  for (const note of r.notes) lines.push(`  note: ${t(note)}`);
  return `${lines.join('\n')}\n`;
}

export { readText };
