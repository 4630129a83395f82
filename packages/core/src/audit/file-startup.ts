/**
 * What the file sink checks before it writes a byte: where the chain ends (setting a torn
 * last line aside), that the last record matches its hash, and that the head file holds
 * — is itself an intact checkpoint, is not ahead of the trail, and equals the trail's
 * record at its `seq`, wherever in the trail that record is (docs/audit-format.md §7).
 * Any disagreement refuses start-up: a writer never extends, and so never hides, a trail
 * that `audit verify` would report as tampered.
 */
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { PurposekitError } from '../errors';
import { verifyCheckpointSignature } from './checkpoint';
import { AUDIT_GENESIS_HASH, hashAuditRecord } from './encode';
import type { AuditFileIo } from './file-io';
import { findRecordInFile, quarantineBytes, readTail } from './file-tail';
import type { TailLine } from './file-tail';
import { headFileName, parseTrailFileName, trailFileName } from './files';

/** A position in the chain: the state right after one record. */
export interface Position {
  seq: number;
  hash: string;
  fileIndex: number;
  /** Byte offset in the file right after this record. */
  endOffset: number;
  /** Records since the last checkpoint, this one included (0 after a checkpoint). */
  sinceCheckpoint: number;
}

/** Where the sink found the trail to end. */
export interface TrailEnd {
  readonly end: Position;
  /** Every trail file index present, ascending. */
  readonly indexes: readonly number[];
  /** The checkpoints near the end of the trail (the tail window), oldest first: what the anchor outbox may lack after a crash. */
  readonly checkpoints: ReadonlyArray<Record<string, unknown>>;
}

export interface StartupContext {
  readonly io: AuditFileIo;
  readonly dir: string;
  readonly prefix: string;
  readonly keyId: string;
  readonly publicKey: KeyObject;
  readonly now: () => number;
  readonly warn: (message: string, code: string) => void;
}

/** @internal */
export function corrupt(message: string, details: Record<string, unknown>): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_AUDIT_CORRUPT', message, { details });
}

/** The trail file indexes of a prefix in a directory, ascending. */
export async function trailIndexes(io: AuditFileIo, dir: string, prefix: string): Promise<number[]> {
  const indexes: number[] = [];
  for (const name of await io.readdir(dir)) {
    const parsed = parseTrailFileName(name);
    if (parsed !== undefined && parsed.prefix === prefix) indexes.push(parsed.index);
  }
  return indexes.sort((a, b) => a - b);
}

/**
 * Finds where the chain ends, quarantining a torn last line; checks the head file.
 * @throws PurposekitError PURPOSEKIT_ERR_AUDIT_CORRUPT
 */
export async function loadTrailEnd(ctx: StartupContext): Promise<TrailEnd> {
  const { io, dir, prefix } = ctx;
  const indexes = await trailIndexes(io, dir, prefix);
  const lastIndex = indexes[indexes.length - 1] ?? 1;
  let end: Position = { seq: 0, hash: AUDIT_GENESIS_HASH, fileIndex: lastIndex, endOffset: 0, sinceCheckpoint: 0 };
  let window: TailLine[] = [];
  for (let k = indexes.length - 1; k >= 0; k--) {
    const index = indexes[k]!;
    const name = trailFileName(prefix, index);
    const fd = await io.open(join(dir, name), 'r+', 0o600);
    let size: number;
    let lines: TailLine[];
    try {
      size = io.fstat(fd).size;
      const tail = await readTail(io, fd, size);
      lines = tail.lines;
      if (tail.tornStart < size) {
        if (index !== lastIndex) throw corrupt(`${name} ends with an incomplete record but is not the last file of the trail.`, { file: name, problem: 'truncated' });
        const qname = await quarantineBytes(io, dir, name, fd, tail.tornStart, size, new Date(ctx.now()));
        const last = lines[lines.length - 1]?.record?.['seq'];
        ctx.warn(
          `purposekit audit: ${name} ended with ${size - tail.tornStart} bytes of an incomplete record (a crash during a write; that record was never acknowledged). Moved them to ${qname}; the chain continues from ${last === undefined ? 'the previous record' : `seq ${String(last)}`}.`,
          'PURPOSEKIT_WARN_AUDIT_TORN_LINE',
        );
        size = tail.tornStart;
      }
    } finally {
      await io.close(fd);
    }
    if (index === lastIndex) end = { ...end, endOffset: size };
    const last = lines[lines.length - 1];
    if (last === undefined) continue; // empty (or only torn bytes): the chain ends in an earlier file
    const record = last.record;
    if (record === undefined || typeof record['seq'] !== 'number' || typeof record['hash'] !== 'string' || safeHash(record) !== record['hash']) {
      throw corrupt(`${name}: the last record ${record === undefined ? 'is not a JSON object' : 'does not match its hash (edited?)'}. Run \`purposekit audit verify\`; the sink will not extend a broken chain.`, {
        file: name,
        problem: record === undefined ? 'malformed' : 'edited',
      });
    }
    end = { ...end, seq: record['seq'], hash: record['hash'], sinceCheckpoint: record['kind'] === 'checkpoint' ? 0 : 1 };
    window = lines;
    break;
  }
  await checkHead(ctx, end, window, indexes);
  const checkpoints = window.map((l) => l.record).filter((r): r is Record<string, unknown> => r?.['kind'] === 'checkpoint');
  return { end, indexes, checkpoints };
}

function safeHash(record: Record<string, unknown>): string | undefined {
  try {
    return hashAuditRecord(record);
  } catch {
    return undefined;
  }
}

async function checkHead(ctx: StartupContext, end: Position, window: readonly TailLine[], indexes: readonly number[]): Promise<void> {
  const { io, dir, prefix } = ctx;
  const name = headFileName(prefix);
  const text = await io.readFile(join(dir, name));
  if (text === undefined) return;
  let head: Record<string, unknown> | undefined;
  try {
    const v = JSON.parse(text.toString('utf8')) as unknown;
    head = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    head = undefined;
  }
  const refuse = (why: string, problem: string): never => {
    throw corrupt(`${why} Run \`purposekit audit verify\`; the sink will not write over evidence.`, { file: name, problem });
  };
  if (head === undefined) return refuse(`${name} is not a JSON object.`, 'malformed');
  const seq = head['seq'];
  if (head['kind'] !== 'checkpoint' || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1 || typeof head['hash'] !== 'string') return refuse(`${name} holds no checkpoint.`, 'malformed');
  if (safeHash(head) !== head['hash']) return refuse(`${name} was edited: its content does not match its hash.`, 'edited');
  if (head['keyId'] === ctx.keyId && !verifyCheckpointSignature(head, ctx.publicKey)) return refuse(`${name} names this writer's key (${ctx.keyId}) but its signature does not verify.`, 'bad-signature');
  if (seq > end.seq) {
    return refuse(`The trail ends at seq ${end.seq} but its head checkpoint (${name}) is seq ${seq}: records were removed (truncated).`, 'truncated');
  }
  let at = window.find((l) => l.record?.['seq'] === seq)?.record;
  // Not near the end: most often it ends an earlier file (a crash after a rotation), so
  // look at the end of each file first, then read files through.
  for (let k = indexes.length - 1; at === undefined && k >= 0; k--) at = await findInTail(io, join(dir, trailFileName(prefix, indexes[k]!)), seq);
  for (let k = indexes.length - 1; at === undefined && k >= 0; k--) at = await findRecordInFile(io, join(dir, trailFileName(prefix, indexes[k]!)), seq);
  if (at === undefined) return refuse(`The trail holds no record with the head checkpoint's seq ${seq} (${name}): records were removed.`, 'missing');
  if (at['hash'] !== head['hash'] || safeHash(at) !== at['hash']) {
    return refuse(`The record at seq ${seq} differs from the head checkpoint (${name}): the trail or the head was changed.`, 'edited');
  }
}

async function findInTail(io: AuditFileIo, path: string, seq: number): Promise<Record<string, unknown> | undefined> {
  const fd = await io.open(path, 'r', 0o600);
  try {
    const { lines } = await readTail(io, fd, io.fstat(fd).size);
    return lines.find((l) => l.record?.['seq'] === seq)?.record;
  } finally {
    await io.close(fd);
  }
}
