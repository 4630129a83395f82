/**
 * Reading a trail: finding its files, splitting them into lines, parsing records. Used
 * by the verifier, the subject report and the export; never by the sink's hot path.
 */
import { promises as fsp } from 'node:fs';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import { PurposekitError } from '../errors';
import { checkPrefix, headFileName, isQuarantineName, parseTrailFileName } from './files';
import { parseJsonObjectSafely } from './safe-json';
import type { AuditRecord } from './types';

/** One file of a trail. */
export interface TrailFile {
  readonly name: string;
  readonly path: string;
  /** Its index in the file name (`audit-00000003.jsonl` → 3); 0 for a file outside the naming scheme. */
  readonly index: number;
  readonly size: number;
}

/** The files of a trail, oldest first. */
export interface TrailLayout {
  /** `dir`: a trail directory (rotation, head file); `file`: one file named on its own. */
  readonly mode: 'dir' | 'file';
  readonly dir: string;
  readonly prefix: string | undefined;
  readonly files: readonly TrailFile[];
  /** The head file, when the trail directory has one. */
  readonly headPath: string | undefined;
  /** Quarantine files found next to the trail (bytes set aside after crashes). */
  readonly quarantine: readonly string[];
  readonly totalBytes: number;
}

/** Options for locating a trail. */
export interface TrailLocationOptions {
  /** File prefix in a directory holding several trails. Default: the only prefix present. */
  prefix?: string;
}

function fileAccess(path: string, cause: unknown): PurposekitError {
  const code = (cause as { code?: string } | null)?.code ?? 'EIO';
  return new PurposekitError('PURPOSEKIT_ERR_FILE_ACCESS', `Cannot read ${path} (${code}).`, { cause, details: { path, code } });
}

/**
 * Lists a trail: `path` is a trail directory (every `<prefix>-<n>.jsonl`, in index
 * order, plus the head file) or a single trail file.
 * @throws PurposekitError PURPOSEKIT_ERR_FILE_ACCESS when `path` cannot be read;
 *   PURPOSEKIT_ERR_INVALID_OPTION when a directory holds several trails and no prefix is given.
 */
export async function locateTrail(path: string, options: TrailLocationOptions = {}): Promise<TrailLayout> {
  const abs = resolvePath(path);
  const wanted = options.prefix === undefined ? undefined : checkPrefix(options.prefix, 'audit trail');
  let stat;
  try {
    stat = await fsp.stat(abs);
  } catch (cause) {
    throw fileAccess(abs, cause);
  }
  if (stat.isFile()) {
    const parsed = parseTrailFileName(basename(abs));
    return {
      mode: 'file',
      dir: dirname(abs),
      prefix: parsed?.prefix,
      files: [{ name: basename(abs), path: abs, index: parsed?.index ?? 0, size: stat.size }],
      headPath: undefined,
      quarantine: [],
      totalBytes: stat.size,
    };
  }
  let names: string[];
  try {
    names = await fsp.readdir(abs);
  } catch (cause) {
    throw fileAccess(abs, cause);
  }
  const byPrefix = new Map<string, Array<{ name: string; index: number }>>();
  for (const name of names) {
    const parsed = parseTrailFileName(name);
    if (parsed === undefined) continue;
    const list = byPrefix.get(parsed.prefix) ?? [];
    list.push({ name, index: parsed.index });
    byPrefix.set(parsed.prefix, list);
  }
  let prefix = wanted;
  if (prefix === undefined) {
    if (byPrefix.size > 1) {
      throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${abs} holds several trails (${[...byPrefix.keys()].sort().join(', ')}); name one with the prefix option (--prefix).`, {
        details: { option: 'prefix' },
      });
    }
    prefix = byPrefix.keys().next().value ?? (names.some((n) => n === headFileName('audit')) ? 'audit' : undefined);
  }
  const listed = (prefix === undefined ? [] : byPrefix.get(prefix) ?? []).sort((a, b) => a.index - b.index);
  const files: TrailFile[] = [];
  let totalBytes = 0;
  for (const f of listed) {
    const p = join(abs, f.name);
    let size: number;
    try {
      size = (await fsp.stat(p)).size;
    } catch (cause) {
      throw fileAccess(p, cause);
    }
    totalBytes += size;
    files.push({ name: f.name, path: p, index: f.index, size });
  }
  const headName = prefix === undefined ? undefined : headFileName(prefix);
  return {
    mode: 'dir',
    dir: abs,
    prefix,
    files,
    headPath: headName !== undefined && names.includes(headName) ? join(abs, headName) : undefined,
    quarantine: prefix === undefined ? [] : names.filter((n) => isQuarantineName(n, prefix)).sort(),
    totalBytes,
  };
}

/** One line of a trail file. */
export interface TrailLine {
  readonly file: TrailFile;
  /** 1-based line number in its file. */
  readonly line: number;
  readonly text: string;
  /** False for a last line with no newline after it (a torn write). */
  readonly terminated: boolean;
  /** Whether this is the last line of the last file. */
  readonly lastOfTrail: boolean;
}

const CHUNK = 1 << 20;

/**
 * Yields the lines of a trail's files, in batches, oldest first. `onBytes` reports
 * progress in bytes read.
 */
export async function* trailLines(layout: TrailLayout, onBytes?: (bytes: number) => void): AsyncGenerator<TrailLine[]> {
  let read = 0;
  for (let f = 0; f < layout.files.length; f++) {
    const file = layout.files[f]!;
    const lastFile = f === layout.files.length - 1;
    let handle;
    try {
      handle = await fsp.open(file.path, 'r');
    } catch (cause) {
      throw fileAccess(file.path, cause);
    }
    try {
      let carry: Buffer = Buffer.alloc(0);
      let lineNo = 0;
      const buf = Buffer.allocUnsafe(CHUNK);
      for (;;) {
        const { bytesRead } = await handle.read(buf, 0, CHUNK, null);
        if (bytesRead === 0) break;
        read += bytesRead;
        const chunk = carry.length === 0 ? buf.subarray(0, bytesRead) : Buffer.concat([carry, buf.subarray(0, bytesRead)]);
        const out: TrailLine[] = [];
        let start = 0;
        for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
          out.push({ file, line: ++lineNo, text: chunk.toString('utf8', start, nl), terminated: true, lastOfTrail: false });
          start = nl + 1;
        }
        carry = Buffer.from(chunk.subarray(start));
        onBytes?.(read);
        if (out.length > 0) yield out;
      }
      if (carry.length > 0) {
        yield [{ file, line: ++lineNo, text: carry.toString('utf8'), terminated: false, lastOfTrail: lastFile }];
      }
    } finally {
      await handle.close();
    }
  }
}

/** A record read from a trail, with where it was found. */
export interface AuditTrailEntry {
  readonly record: AuditRecord;
  /** File name (no directory). */
  readonly file: string;
  /** 1-based line number. */
  readonly line: number;
}

/** Options of {@link readAuditTrail}. */
export interface ReadAuditTrailOptions extends TrailLocationOptions {
  /** Progress in bytes. */
  onProgress?: (bytesRead: number, bytesTotal: number) => void;
}

/**
 * Reads every record of a trail in order (checkpoints included). A torn last line (a
 * crash during a write, never acknowledged) is skipped. This does not verify the chain:
 * use {@link verifyAuditTrail} for that.
 * @throws PurposekitError PURPOSEKIT_ERR_AUDIT_CORRUPT for a line that is not a record
 *   (`details: { file, line }`); PURPOSEKIT_ERR_FILE_ACCESS when a file cannot be read.
 */
export async function* readAuditTrail(path: string, options: ReadAuditTrailOptions = {}): AsyncGenerator<AuditTrailEntry> {
  const layout = await locateTrail(path, options.prefix === undefined ? {} : { prefix: options.prefix });
  const progress = options.onProgress;
  for await (const lines of trailLines(layout, progress === undefined ? undefined : (n) => progress(n, layout.totalBytes))) {
    for (const l of lines) {
      if (!l.terminated && l.lastOfTrail) continue;
      const record = parseRecordLine(l.text);
      if (record === undefined) {
        throw new PurposekitError('PURPOSEKIT_ERR_AUDIT_CORRUPT', `${l.file.name}:${l.line} is not an audit record.`, { details: { file: l.file.name, line: l.line } });
      }
      yield { record, file: l.file.name, line: l.line };
    }
  }
}

/** Parses one line into a record-shaped object (v, seq, kind, hash present), else `undefined`. */
export function parseRecordLine(text: string): AuditRecord | undefined {
  const { value } = parseJsonObjectSafely(text);
  if (value === undefined) return undefined;
  const r = value;
  if (typeof r['seq'] !== 'number' || typeof r['kind'] !== 'string' || typeof r['hash'] !== 'string' || r['v'] === undefined) return undefined;
  return value as unknown as AuditRecord;
}
