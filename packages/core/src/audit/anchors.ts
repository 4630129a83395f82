/**
 * Anchors: places outside the trail directory that keep each checkpoint's signed head, so
 * that truncation, rollback and forks of the trail can be detected by whoever reads them
 * (docs/audit-format.md §12). This file holds the append-only file anchor and the
 * helpers shared by the sink's outbox and the verifier.
 */
import { promises as fsp } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { PurposekitError } from '../errors';
import { canonicalJson } from './encode';
import type { AnchoredHead, AuditAnchor } from './types';
import { validateOptions } from '../options';

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
  if (typeof options !== 'object' || options === null || typeof options.path !== 'string' || options.path.length === 0) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'createFileAuditAnchor(): "path" must be the path of the anchor file.', { details: { option: 'path' } });
  }
  validateOptions('createFileAuditAnchor()', options, { path: null, name: null });
  const name = options.name ?? 'file';
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/.test(name)) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'createFileAuditAnchor(): "name" must be 1–64 characters of letters, digits, ".", "_", ":" or "-".', { details: { option: 'name' } });
  }
  const path = resolvePath(options.path);
  /** Highest seq in the file per stream, once read. */
  let highest: Map<string, number> | undefined;
  let chain: Promise<void> = Promise.resolve();

  async function* heads(): AsyncGenerator<AnchoredHead> {
    let text: string;
    try {
      text = await fsp.readFile(path, 'utf8');
    } catch (cause) {
      if ((cause as { code?: string }).code === 'ENOENT') return;
      throw new PurposekitError('PURPOSEKIT_ERR_FILE_ACCESS', `Cannot read the anchor file ${path}.`, { cause, details: { path } });
    }
    let lineNo = 0;
    for (const line of text.split('\n')) {
      lineNo++;
      if (line === '') continue;
      let head: AnchoredHead | undefined;
      try {
        head = toAnchoredHead(JSON.parse(line));
      } catch {
        head = undefined;
      }
      if (head === undefined) {
        throw new PurposekitError('PURPOSEKIT_ERR_AUDIT_CORRUPT', `The anchor file ${path} line ${lineNo} is not an anchored head.`, { details: { path, line: lineNo } });
      }
      yield head;
    }
  }

  async function append(head: AnchoredHead): Promise<void> {
    if (highest === undefined) {
      const seen = new Map<string, number>();
      for await (const h of heads()) seen.set(h.stream, Math.max(seen.get(h.stream) ?? 0, h.seq));
      highest = seen;
    }
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
