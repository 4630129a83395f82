/**
 * Reading the end of a trail file and setting bytes aside: what the file sink does at
 * start-up and after a write failure. Never on the hot path.
 */
import { join } from 'node:path';
import type { AuditFileIo } from './file-io';
import { quarantineFileName } from './files';
import { parseJsonObjectSafely } from './safe-json';

/** One complete line near the end of a file. */
export interface TailLine {
  /** Byte offset of the line's first byte. */
  readonly start: number;
  /** Byte offset of its LF. */
  readonly end: number;
  /** The parsed JSON object, or `undefined` for a line that is not one. */
  readonly record: Record<string, unknown> | undefined;
}

const TAIL_WINDOW = 64 * 1024;
const NL = 0x0a;

/** An `Error` with an errno-style `code`, as node:fs throws. */
export function fileError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** The errno-style code of an error, if it has one. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Parses one line as a JSON object; `undefined` for anything else. */
export function parseLine(text: string): Record<string, unknown> | undefined {
  return parseJsonObjectSafely(text).value;
}

/** True for a line a power loss can leave: only NUL bytes. */
function allZero(bytes: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

/**
 * Reads exactly `length` bytes at `position`. A read that returns 0 before the end is
 * an error (the file shrank under us): callers must never act on bytes they did not get.
 */
export async function readExactly(io: AuditFileIo, fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<void> {
  let got = 0;
  while (got < length) {
    const n = await io.read(fd, buffer, offset + got, length - got, position + got);
    if (!(n > 0)) throw fileError('EIO', `short read: got ${got} of ${length} bytes at offset ${position}`);
    got += n;
  }
}

/** Writes all of `buffer` (at the end of an append file). A write that makes no progress is an error, never a loop. */
export async function writeFully(io: AuditFileIo, fd: number, buffer: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) {
    const n = await io.write(fd, buffer, offset, buffer.length - offset, null);
    if (!(n > 0)) throw fileError('EIO', `write() wrote nothing (${offset} of ${buffer.length} bytes written)`);
    offset += n;
  }
}

/**
 * Reads the end of a file of `size` bytes: the complete lines of the last window, and
 * where the torn part begins. Torn: the bytes after the last LF (a write cut short), and
 * a last complete line made only of NUL bytes (what a power loss leaves). Any other line
 * that is not a JSON object is kept (with `record: undefined`) so that the caller refuses
 * it rather than setting aside evidence. `tornStart === size` when the file ends cleanly.
 */
export async function readTail(io: AuditFileIo, fd: number, size: number): Promise<{ lines: TailLine[]; tornStart: number }> {
  let window = Math.min(size, TAIL_WINDOW);
  for (;;) {
    const base = size - window;
    const bytes = Buffer.allocUnsafe(window);
    await readExactly(io, fd, bytes, 0, window, base);
    const lines: TailLine[] = [];
    let e = bytes.lastIndexOf(NL);
    if (e === -1) {
      if (base === 0) return { lines, tornStart: 0 };
      window = Math.min(size, window * 2);
      continue;
    }
    let tornStart = base + e + 1;
    // Walk complete lines backwards; the first segment is whole only when base is 0.
    while (e >= 0) {
      const s = e === 0 ? -1 : bytes.lastIndexOf(NL, e - 1);
      if (s === -1 && base > 0) break;
      if (lines.length === 0 && tornStart === base + e + 1 && allZero(bytes, s + 1, e)) {
        tornStart = base + s + 1; // zeros at the very end: part of the torn region
      } else {
        lines.unshift({ start: base + s + 1, end: base + e, record: parseLine(bytes.toString('utf8', s + 1, e)) });
      }
      e = s;
    }
    if (lines.length === 0 && base > 0) {
      window = Math.min(size, window * 2);
      continue;
    }
    return { lines, tornStart };
  }
}

/**
 * Finds the record with sequence number `seq` in a trail file, reading it front to back
 * in chunks. `undefined` when the file holds no such record.
 */
export async function findRecordInFile(io: AuditFileIo, path: string, seq: number): Promise<Record<string, unknown> | undefined> {
  const fd = await io.open(path, 'r', 0o600);
  try {
    const size = io.fstat(fd).size;
    const chunk = 1 << 20;
    let carry = Buffer.alloc(0);
    const needle = `"seq":${seq},`;
    const needleEnd = `"seq":${seq}}`;
    for (let pos = 0; pos < size; ) {
      const n = Math.min(chunk, size - pos);
      const buf = Buffer.allocUnsafe(n);
      await readExactly(io, fd, buf, 0, n, pos);
      pos += n;
      const all = carry.length === 0 ? buf : Buffer.concat([carry, buf]);
      let start = 0;
      for (let nl = all.indexOf(NL); nl !== -1; nl = all.indexOf(NL, start)) {
        const text = all.toString('utf8', start, nl);
        start = nl + 1;
        // cheap pre-filter; the parse below decides
        if (!text.includes(needle) && !text.includes(needleEnd) && !text.includes(`"seq": ${seq}`)) continue;
        const record = parseLine(text);
        if (record !== undefined && record['seq'] === seq) return record;
      }
      carry = Buffer.from(all.subarray(start));
    }
    return undefined;
  } finally {
    await io.close(fd);
  }
}

/**
 * Copies bytes [from, to) of the open trail file `fd` to a new quarantine file, makes it
 * durable, and only then truncates the trail file to `from`. Any short read or write
 * fails the whole move before the trail file is touched: no byte is lost.
 */
export async function quarantineBytes(io: AuditFileIo, dir: string, name: string, fd: number, from: number, to: number, at: Date): Promise<string> {
  const length = to - from;
  const buf = Buffer.allocUnsafe(length);
  await readExactly(io, fd, buf, 0, length, from);
  let qname = '';
  let qfd: number | undefined;
  for (let attempt = 0; qfd === undefined; attempt++) {
    qname = quarantineFileName(name, at, attempt);
    try {
      qfd = await io.open(join(dir, qname), 'wx', 0o600);
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST' || attempt >= 100) throw error;
    }
  }
  try {
    await writeFully(io, qfd, buf);
    await io.fdatasync(qfd);
  } finally {
    await io.close(qfd);
  }
  await io.fsyncDir(dir);
  await io.ftruncate(fd, from);
  await io.fdatasync(fd);
  return qname;
}
