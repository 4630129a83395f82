/** Options of the file sink: validated once, defaults applied, frozen. */
import { resolve as resolvePath, sep } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { PurposekitError } from '../errors';
import { validateOptions } from '../options';
import type { OptionsSpec } from '../options';
import { didYouMean, show } from '../policy/suggest';
import type { AuditFileIo } from './file-io';
import { checkPrefix } from './files';
import { AUDIT_KEY_ID_PATTERN, auditKeyId, toSigningKey } from './keys';
import type { AnchoredHead, AuditAnchor, AuditAnchorErrorInfo, AuditDurability, FileAuditSinkOptions } from './types';

/** Options after validation and defaults. */
export interface ResolvedFileAuditSinkOptions {
  readonly dir: string;
  readonly prefix: string;
  readonly signingKey: KeyObject;
  readonly keyId: string;
  readonly durability: AuditDurability;
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number;
  readonly heartbeatIntervalMs: number;
  readonly maxFileBytes: number;
  readonly anchors: readonly AuditAnchor[];
  readonly onAnchorError: ((error: unknown, info: AuditAnchorErrorInfo) => void) | undefined;
  readonly stream: string;
}

/** Test and tooling seams (not part of the public options). */
export interface FileAuditSinkInternals {
  /** File system boundary. Default: node:fs. */
  io?: AuditFileIo;
  /** Clock, ms since the epoch. Default: `Date.now`. */
  now?: () => number;
  /** Anchor retry backoff: first delay and cap in ms. Default 1000 and 300 000. */
  anchorBackoff?: { firstMs: number; maxMs: number };
  /** How long close() waits for anchors to take the last heads. Default 2000. */
  anchorCloseWaitMs?: number;
  /** Batches whose fdatasync may be in flight at once (1: no pipelining). Default 2. */
  writeDepth?: number;
  /** Size of the buffers records are encoded into. Default 1 MiB. */
  slabBytes?: number;
}

/** The option names, for "did you mean". */
export const FILE_SINK_OPTION_KEYS = [
  'dir',
  'prefix',
  'signingKey',
  'keyId',
  'durability',
  'checkpointEvery',
  'checkpointIntervalMs',
  'heartbeatIntervalMs',
  'maxFileBytes',
  'anchors',
  'onAnchorError',
  'stream',
] as const;
export const FILE_SINK_FACTORY = 'createFileAuditSink';
const SPEC: OptionsSpec = {
  ...Object.fromEntries(FILE_SINK_OPTION_KEYS.map((k) => [k, null])),
  signingKey: { secret: true },
  anchors: { kind: 'array', expected: 'an array of anchors (createFileAuditAnchor(…), an object with name and publish(), or a function)' },
  onAnchorError: { kind: 'function', expected: 'a function (error, info) => void' },
};
const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;
/** One hour: CloudTrail's digest cadence; a quiet trail costs 24 small records a day. */
export const DEFAULT_HEARTBEAT_MS = 3_600_000;
const STREAM_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

function bad(option: string, value: unknown, expected: string): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${FILE_SINK_FACTORY}(): "${option}" must be ${expected}; got ${show(value)}.`, { details: { option } });
}

function integer(options: FileAuditSinkOptions, name: 'checkpointEvery' | 'checkpointIntervalMs' | 'heartbeatIntervalMs' | 'maxFileBytes', fallback: number, min: number, max: number): number {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) throw bad(name, value, `an integer from ${min} to ${max}`);
  return value;
}

/** Wraps a plain function as an anchor. */
function functionAnchor(fn: (head: AnchoredHead) => void | Promise<void>, index: number): AuditAnchor {
  const name = fn.name !== '' && fn.name !== 'anonymous' ? fn.name : `function-${index + 1}`;
  return Object.freeze({ name, publish: async (head: AnchoredHead) => fn(head) });
}

function resolveAnchors(value: unknown): readonly AuditAnchor[] {
  if (value === undefined) return Object.freeze([]);
  if (!Array.isArray(value)) throw bad('anchors', value, 'an array of anchors (createFileAuditAnchor(…), an object with name and publish(), or a function)');
  const out: AuditAnchor[] = [];
  const names = new Set<string>();
  value.forEach((a: unknown, i) => {
    let anchor: AuditAnchor;
    if (typeof a === 'function') anchor = functionAnchor(a as (head: AnchoredHead) => void, i);
    else if (typeof a === 'object' && a !== null && typeof (a as AuditAnchor).name === 'string' && typeof (a as AuditAnchor).publish === 'function') anchor = a as AuditAnchor;
    else throw bad(`anchors[${i}]`, a, 'an anchor: an object with a string "name" and a publish(head) method, or a function');
    if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/.test(anchor.name)) throw bad(`anchors[${i}].name`, anchor.name, '1–64 characters of letters, digits, ".", "_", ":" or "-"');
    if (names.has(anchor.name)) throw bad(`anchors[${i}].name`, anchor.name, 'unique among the anchors');
    names.add(anchor.name);
    out.push(anchor);
  });
  return Object.freeze(out);
}

/**
 * Validates the options of `createFileAuditSink` once and freezes them.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION, PURPOSEKIT_ERR_INVALID_KEY
 */
export function resolveFileAuditSinkOptions(input: FileAuditSinkOptions): ResolvedFileAuditSinkOptions {
  // The shared validator: an object, every key known ("did you mean"), function options
  // are functions; the checks with their own messages (and error codes) follow.
  const options = validateOptions<FileAuditSinkOptions>(`${FILE_SINK_FACTORY}()`, input, SPEC, { optional: false, usage: '{ dir, signingKey }' });
  if (typeof options.dir !== 'string' || options.dir.length === 0) throw bad('dir', options.dir, 'the path of the trail directory');
  const prefix = checkPrefix(options.prefix ?? 'audit', `${FILE_SINK_FACTORY}()`);
  if (options.signingKey === undefined) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_KEY', `${FILE_SINK_FACTORY}(): "signingKey" is required: an Ed25519 private key (generate one with \`purposekit keys generate\`).`);
  }
  const signingKey = toSigningKey(options.signingKey, `${FILE_SINK_FACTORY}(): signingKey`);
  let keyId: string;
  if (options.keyId === undefined) keyId = auditKeyId(signingKey);
  else if (typeof options.keyId === 'string' && AUDIT_KEY_ID_PATTERN.test(options.keyId)) keyId = options.keyId;
  else throw bad('keyId', options.keyId, '1–128 characters of letters, digits, ".", "_", ":" or "-"');
  const durability = options.durability ?? 'sync';
  if (durability !== 'sync' && durability !== 'batched' && durability !== 'async') {
    throw new PurposekitError(
      'PURPOSEKIT_ERR_INVALID_OPTION',
      `${FILE_SINK_FACTORY}(): "durability" must be "sync", "batched" or "async"; got ${show(durability)}.${didYouMean(String(durability), ['sync', 'batched', 'async'])}`,
      { details: { option: 'durability' } },
    );
  }
  const checkpointIntervalMs = integer(options, 'checkpointIntervalMs', 5000, 10, 86_400_000);
  const heartbeatIntervalMs = integer(options, 'heartbeatIntervalMs', Math.max(DEFAULT_HEARTBEAT_MS, checkpointIntervalMs), 1000, 86_400_000);
  if (heartbeatIntervalMs < checkpointIntervalMs) throw bad('heartbeatIntervalMs', heartbeatIntervalMs, `at least checkpointIntervalMs (${checkpointIntervalMs})`);
  const onAnchorError = options.onAnchorError;
  if (onAnchorError !== undefined && typeof onAnchorError !== 'function') throw bad('onAnchorError', onAnchorError, 'a function (error, info) => void');
  const stream = options.stream ?? prefix;
  if (typeof stream !== 'string' || !STREAM_PATTERN.test(stream)) throw bad('stream', stream, '1–128 characters of letters, digits, ".", "_", ":", "/" or "-", starting with a letter or digit');
  const dir = resolvePath(options.dir);
  const anchors = resolveAnchors(options.anchors);
  anchors.forEach((a, i) => {
    // An anchor inside the trail directory protects nothing: whoever rewrites the trail rewrites it too.
    const where = (a as { path?: unknown }).path;
    if (typeof where === 'string' && (resolvePath(where) + sep).startsWith(dir + sep)) {
      throw bad(`anchors[${i}]`, where, 'outside the trail directory (another mount or host): an anchor the trail\'s writer can rewrite proves nothing');
    }
  });
  return Object.freeze({
    dir,
    prefix,
    signingKey,
    keyId,
    durability,
    checkpointEvery: integer(options, 'checkpointEvery', 1000, 1, 10_000_000),
    checkpointIntervalMs,
    heartbeatIntervalMs,
    maxFileBytes: integer(options, 'maxFileBytes', DEFAULT_MAX_FILE_BYTES, 1024, Number.MAX_SAFE_INTEGER),
    anchors,
    onAnchorError,
    stream,
  });
}
