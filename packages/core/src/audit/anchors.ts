/**
 * Anchors: places outside the trail directory that keep each checkpoint's signed head, so
 * that truncation, rollback and forks of the trail can be detected by whoever reads them
 * (docs/audit-format.md §12). This file holds the append-only file anchor and the
 * helpers shared by the sink's outbox and the verifier.
 */
import { promises as fsp } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { PurposekitError } from '../errors';
import { validateOptions } from '../options';
import { canonicalJson } from './encode';
import type { AnchoredHead, AuditAnchor } from './types';

const HEX64 = /^[0-9a-f]{64}$/;

/** The head of a checkpoint record, as anchors keep it. */
export function anchoredHeadOf(stream: string, checkpoint: Readonly<Record<string, unknown>>): AnchoredHead {
  return {
    stream,
    seq: checkpoint['seq'] as number,
    hash: checkpoint['hash'] as string,
    ts: checkpoint['ts'] as string,
    keyId: checkpoint['keyId'] as string,
    sig: checkpoint['sig'] as string,
    prev: checkpoint['prev'] as string,
  };
}

/** Parses one anchored head (from a line or a database row); `undefined` when it is not one. */
export function toAnchoredHead(value: unknown): AnchoredHead | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  const { stream, seq, hash, ts, keyId, sig, prev } = v;
  if (typeof stream !== 'string' || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return undefined;
  if (typeof hash !== 'string' || !HEX64.test(hash) || typeof ts !== 'string' || typeof keyId !== 'string' || typeof sig !== 'string') return undefined;
  if (prev !== undefined && (typeof prev !== 'string' || !HEX64.test(prev))) return undefined;
  return { stream, seq, hash, ts, keyId, sig, ...(prev === undefined ? {} : { prev }) };
}

/** Options of {@link createFileAuditAnchor}. */
export interface FileAuditAnchorOptions {
  /** The anchor file: on another mount or host than the trail. Created (mode 0600) when missing. */
  path: string;
  /** Its name in warnings and the sink's outbox. Default `file`. */
  name?: string;
}

/** A file anchor: an {@link AuditAnchor} that appends one JSON line per head to a file. */
export interface FileAuditAnchor extends AuditAnchor {
  /** The anchor file (absolute). */
  readonly path: string;
  heads(): AsyncIterable<AnchoredHead>;
}

/**
 * An append-only file anchor: each head is one JSON line (RFC 8785), appended with
 * O_APPEND and made durable (fdatasync) before `publish` resolves. A head already in the
 * file is not written again. Put the file where the writer's host cannot rewrite it: another
 * mount, a directory with `chattr +a`, a file shipped off-host.
 *
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION for a missing path or a bad name.
 */
export function createFileAuditAnchor(options: FileAuditAnchorOptions): FileAuditAnchor {
  const o = validateOptions<FileAuditAnchorOptions>(
    'createFileAuditAnchor()',
    options,
    {
      path: { kind: 'non-empty-string', required: true, expected: 'the path of the anchor file' },
      name: { kind: 'string', check: (v) => /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/.test(v as string), expected: '1–64 characters of letters, digits, ".", "_", ":" or "-"' },
    },
    { optional: false, usage: '{ path }' },
  );
  const name = o.name ?? 'file';
  const path = resolvePath(o.path);
  /** Highest seq in the file per stream, once read. */
  let highest: Map<string, number> | undefined;
  let chain: Promise<void> = Promise.resolve();

  function parseHead(line: string, lineNo: number): AnchoredHead {
    let head: AnchoredHead | undefined;
    try {
      head = toAnchoredHead(JSON.parse(line));
    } catch {
      head = undefined;
    }
    if (head === undefined) {
      throw new PurposekitError('PURPOSEKIT_ERR_AUDIT_CORRUPT', `The anchor file ${path} line ${lineNo} is not an anchored head.`, { details: { path, line: lineNo } });
    }
    return head;
  }

  /** Every head in the file, read in chunks (memory stays flat for a large file). */
  async function* heads(): AsyncGenerator<AnchoredHead> {
    let handle;
    try {
      handle = await fsp.open(path, 'r');
    } catch (cause) {
      if ((cause as { code?: string }).code === 'ENOENT') return;
      throw new PurposekitError('PURPOSEKIT_ERR_FILE_ACCESS', `Cannot read the anchor file ${path}.`, { cause, details: { path } });
    }
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      let carry = '';
      let lineNo = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        const parts = (carry + buf.toString('utf8', 0, bytesRead)).split('\n');
        carry = parts.pop()!;
        for (const line of parts) {
          lineNo++;
          if (line !== '') yield parseHead(line, lineNo);
        }
      }
      if (carry !== '') yield parseHead(carry, lineNo + 1);
    } finally {
      await handle.close();
    }
  }

  /**
   * The highest seq of a stream near the end of the file (the last 64 KiB): heads are
   * appended in order, so a head at or below it is already there. Only a repeat is skipped;
   * a stream not seen near the end counts from 0 (at worst a head is written twice).
   */
  async function highestNearEnd(stream: string): Promise<number> {
    let handle;
    try {
      handle = await fsp.open(path, 'r');
    } catch (cause) {
      if ((cause as { code?: string }).code === 'ENOENT') return 0;
      throw cause;
    }
    try {
      const size = (await handle.stat()).size;
      const length = Math.min(size, 64 * 1024);
      const buf = Buffer.alloc(length);
      await handle.read(buf, 0, length, size - length);
      const lines = buf.toString('utf8').split('\n');
      if (length < size) lines.shift(); // a partial first line
      let best = 0;
      for (const line of lines) {
        if (line === '') continue;
        let h: AnchoredHead | undefined;
        try {
          h = toAnchoredHead(JSON.parse(line));
        } catch {
          h = undefined;
        }
        if (h !== undefined && h.stream === stream && h.seq > best) best = h.seq;
      }
      return best;
    } finally {
      await handle.close();
    }
  }

  async function append(head: AnchoredHead): Promise<void> {
    if (highest === undefined) highest = new Map();
    if (!highest.has(head.stream)) highest.set(head.stream, await highestNearEnd(head.stream));
    if ((highest.get(head.stream) ?? 0) >= head.seq) return; // already anchored (a retry after a crash)
    await fsp.mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const handle = await fsp.open(path, 'a', 0o600);
    try {
      await handle.appendFile(`${canonicalJson(head)}\n`);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    highest.set(head.stream, head.seq);
  }

  return Object.freeze({
    name,
    path,
    publish(head: AnchoredHead): Promise<void> {
      // one append at a time, in order
      const next = chain.then(() => append(head));
      chain = next.catch(() => {
        highest = undefined; // re-read after a failure
      });
      return next;
    },
    heads,
  });
}
