/**
 * The verifier: re-computes every record's hash, follows every link, checks every
 * checkpoint signature and the head file, and names the first thing that is wrong.
 * Memory stays flat: it keeps a window of records behind and ahead (to tell a swap from
 * a deletion or an insertion), never the whole trail.
 */
import { readFile } from 'node:fs/promises';
import type { KeyObject } from 'node:crypto';
import { PurposekitError } from '../errors';
import { toAnchoredHead } from './anchors';
import { verifyCheckpointSignature } from './checkpoint';
import { AUDIT_FORMAT_VERSION, AUDIT_GENESIS_HASH, hashAuditRecord } from './encode';
import { auditKeyId, toVerifyKey } from './keys';
import { locateTrail, trailLines } from './trail';
import type { TrailFile, TrailLayout, TrailLine } from './trail';
import { parseJsonObjectSafely } from './safe-json';
import type { AnchoredHead, AuditAnchor } from './types';

/** What can be wrong with a trail. */
export type AuditProblemKind =
  /** A record's content no longer matches its hash, or a record was changed and re-hashed. */
  | 'edited'
  /** Records are absent from the chain (deleted lines, a removed or cut file). */
  | 'missing'
  /** Records are present but out of order. */
  | 'reordered'
  /** A record that does not belong to the chain was added. */
  | 'inserted'
  /** The trail ends before its head checkpoint, or a file ends in the middle of a record. */
  | 'truncated'
  /** A checkpoint (or the head file) is not signed by a supplied key. */
  | 'bad-signature'
  /** A line is not a well-formed record. */
  | 'malformed'
  /** A record of a format version this verifier does not know. */
  | 'unsupported-version'
  /** The trail holds a different record at a seq an anchor (or the expected head) names: it was rewritten after that head was published. */
  | 'forked'
  /** The trail and its head file end before a head an anchor (or the expected head) holds: the directory was restored to an older state. */
  | 'rolled-back'
  /** The newest checkpoint is older than `maxCheckpointAge` allows: the writer stopped, or the trail was cut (a running writer signs at least once per heartbeat). */
  | 'stale';

/** The first problem found. */
export interface AuditProblem {
  readonly kind: AuditProblemKind;
  /** One sentence naming the record and what is wrong. */
  readonly message: string;
  /** File name (no directory) of the record named. */
  readonly file: string;
  /** 1-based line of the record named (0 for the head file). */
  readonly line: number;
  /** Sequence number of the record named, when known. */
  readonly seq?: number;
}

/** A public key for checkpoints: a KeyObject / PEM (looked up by its RFC 7638 thumbprint), or one with an explicit id. */
export type AuditPublicKey = KeyObject | string | { readonly id: string; readonly key: KeyObject | string };

/** Options of {@link verifyAuditTrail}. */
export interface AuditVerifyOptions {
  /**
   * Keys that may sign checkpoints. A checkpoint's `keyId` picks the key; when exactly
   * one key is given it is also tried for a `keyId` that matches none (custom key ids).
   * Without keys, signatures are not checked (`signaturesChecked: false`).
   */
  publicKeys?: readonly AuditPublicKey[];
  /** File prefix in a directory holding several trails. */
  prefix?: string;
  /** Accept a trail whose first records were removed (retention): the first record present anchors the chain. Default false. */
  partial?: boolean;
  /** Progress in bytes. */
  onProgress?: (bytesRead: number, bytesTotal: number) => void;
  /**
   * Heads published outside the trail: anchors (their `heads()` are read), or the heads
   * themselves. The trail must hold every one exactly (same `hash` at its `seq`), and must
   * not end before the newest: truncation, rollback and forks are found.
   */
  anchors?: ReadonlyArray<AuditAnchor | AnchoredHead> | AsyncIterable<AnchoredHead>;
  /** One head an auditor kept (`purposekit audit verify` prints it): checked like an anchored head. */
  expectHead?: { readonly seq: number; readonly hash: string };
  /** Which stream's heads to use from the anchors. Default: the trail's prefix (the sink's default stream). */
  stream?: string;
  /**
   * The newest checkpoint must be at most `ms` older than `at` (default: now). A running
   * writer signs at least once per `heartbeatIntervalMs` (default one hour), so for a copy
   * of a live trail `ms` = heartbeat + checkpoint interval + copy delay tells a quiet
   * writer from a trail cut back (with its head file) or a writer that stopped.
   */
  maxCheckpointAge?: { readonly ms: number; readonly at?: number | Date };
}

/** The outcome of {@link verifyAuditTrail}. */
export interface AuditVerifyResult {
  /** True when every hash, link, signature and the head hold. */
  readonly ok: boolean;
  /** The first problem, when `ok` is false. */
  readonly problem?: AuditProblem;
  /** Records checked (checkpoints included), up to the problem. */
  readonly records: number;
  /** Checkpoints whose signature was checked and holds. */
  readonly checkpoints: number;
  readonly files: readonly string[];
  readonly firstSeq?: number;
  readonly lastSeq?: number;
  readonly lastHash?: string;
  /** The last checkpoint of the trail. */
  readonly lastCheckpoint?: { readonly seq: number; readonly hash: string; readonly keyId: string; readonly ts: string };
  /** Records after the last checkpoint: protected by the hash chain against edits, but not against being cut off. */
  readonly unsignedTail: number;
  readonly signaturesChecked: boolean;
  /** The head file's checkpoint, when there is one. */
  readonly head?: { readonly seq: number; readonly hash: string };
  /** Facts worth knowing that are not failures (a torn last line, quarantine files, no head file…). */
  readonly notes: readonly string[];
  /** Anchored heads (and the expected head) the trail was checked against. */
  readonly anchorsChecked: number;
  /** The newest anchored head the trail holds exactly, when anchors were given. */
  readonly anchored?: { readonly seq: number; readonly hash: string; readonly ts: string };
  /** Records after {@link anchored} (or all records when none is): not yet protected by an anchor. */
  readonly unanchoredTail?: number;
}

const WINDOW = 64;
const HEX64 = /^[0-9a-f]{64}$/;
const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const EVENT_KINDS = new Set(['access', 'consent', 'age-gate', 'rights', 'retention']);

interface Item {
  readonly l: TrailLine;
  record: Record<string, unknown> | undefined;
  parsed: boolean;
  computed: string | undefined;
  /** Why the line is not a usable JSON object. */
  why?: string;
}

function loc(item: Item): string {
  return `${item.l.file.name}:${item.l.line}`;
}

/**
 * True when some object in the JSON text names a member twice. JSON.parse keeps the last
 * value, while another reader may show the first: the record hashed would not be the
 * record displayed. A single linear scan (strings skipped, one set of names per object).
 */
export function hasDuplicateMembers(text: string): boolean {
  const stack: Array<Set<string> | undefined> = []; // undefined: an array level
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top !== undefined) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          return false; // not JSON at all: JSON.parse will say so
        }
        if (top.has(key)) return true;
        top.add(key);
        expectKey = false;
      }
      i = j;
    } else if (ch === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (ch === '[') {
      stack.push(undefined);
    } else if (ch === '}' || ch === ']') {
      stack.pop();
    } else if (ch === ',') {
      expectKey = stack[stack.length - 1] !== undefined;
    }
  }
  return false;
}

/** Any `null` value, at any depth (the format never writes one). */
function hasNull(v: unknown): boolean {
  if (v === null) return true;
  if (typeof v !== 'object') return false;
  return Object.values(v as Record<string, unknown>).some(hasNull);
}

function parse(item: Item): Record<string, unknown> | undefined {
  if (!item.parsed) {
    item.parsed = true;
    const text = item.l.text;
    const { value, problem } = parseJsonObjectSafely(text);
    item.why = problem ?? (text.includes('\r') ? 'it contains a CR' : value !== undefined && hasNull(value) ? 'it holds a null value' : hasDuplicateMembers(text) ? 'an object names a member twice' : undefined);
    item.record = item.why === undefined ? value : undefined;
  }
  return item.record;
}

/** The record when it parses, has the core fields and matches its own hash; else undefined. */
function sound(item: Item): Record<string, unknown> | undefined {
  const r = parse(item);
  if (r === undefined || typeof r['seq'] !== 'number' || typeof r['hash'] !== 'string' || typeof r['prev'] !== 'string') return undefined;
  item.computed ??= safeHash(r);
  return item.computed === r['hash'] ? r : undefined;
}

function safeHash(r: Record<string, unknown>): string {
  try {
    return hashAuditRecord(r);
  } catch {
    return ''; // no canonical form: matches no hash
  }
}

/** What is structurally wrong with a parsed record, or undefined. */
function structureProblem(r: Record<string, unknown>): string | undefined {
  const seq = r['seq'];
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return '"seq" is not a positive integer';
  if (typeof r['ts'] !== 'string' || !TS.test(r['ts'])) return '"ts" is not an ISO 8601 UTC timestamp with milliseconds';
  if (typeof r['prev'] !== 'string' || !HEX64.test(r['prev'])) return '"prev" is not 64 lower-case hex digits';
  if (typeof r['hash'] !== 'string' || !HEX64.test(r['hash'])) return '"hash" is not 64 lower-case hex digits';
  const kind = r['kind'];
  if (kind === 'checkpoint') {
    if (r['alg'] !== 'Ed25519') return 'checkpoint "alg" is not Ed25519';
    if (typeof r['keyId'] !== 'string' || r['keyId'].length === 0) return 'checkpoint has no "keyId"';
    if (typeof r['sig'] !== 'string') return 'checkpoint has no "sig"';
    // 86 base64url characters carry 4 spare bits: only the canonical encoding is accepted,
    // or anyone could re-spell a signature (and so change the head hash) without the key.
    if (!/^[A-Za-z0-9_-]{86}$/.test(r['sig']) || Buffer.from(r['sig'], 'base64url').toString('base64url') !== r['sig']) return 'checkpoint "sig" is not the canonical base64url of 64 bytes';
    return undefined;
  }
  if (typeof kind !== 'string' || !EVENT_KINDS.has(kind)) return `unknown record kind ${JSON.stringify(kind)}`;
  const policy = r['policy'] as Record<string, unknown> | undefined;
  if (typeof policy !== 'object' || policy === null || typeof policy['id'] !== 'string' || typeof policy['version'] !== 'string') return '"policy" is not { id, version }';
  return undefined;
}

interface KeyRing {
  byId: Map<string, KeyObject>;
  sole: KeyObject | undefined;
}

function keyRing(keys: readonly AuditPublicKey[] | undefined): KeyRing | undefined {
  if (keys === undefined || keys.length === 0) return undefined;
  const byId = new Map<string, KeyObject>();
  for (const k of keys) {
    if (typeof k === 'object' && k !== null && 'id' in k && 'key' in k) byId.set(k.id, toVerifyKey(k.key, 'publicKeys'));
    else {
      const key = toVerifyKey(k, 'publicKeys');
      byId.set(auditKeyId(key), key);
    }
  }
  return { byId, sole: byId.size === 1 ? byId.values().next().value : undefined };
}

function signatureProblem(r: Record<string, unknown>, ring: KeyRing): string | undefined {
  const keyId = String(r['keyId']);
  const key = ring.byId.get(keyId) ?? ring.sole;
  if (key === undefined) return `it is signed with key id ${keyId}, which is not among the supplied public keys`;
  if (!verifyCheckpointSignature(r, key)) {
    return ring.byId.has(keyId)
      ? `its signature does not verify with the public key of key id ${keyId}`
      : `it names key id ${keyId}, and its signature does not verify with the supplied public key`;
  }
  return undefined;
}

/**
 * Verifies a trail (a directory, or one file): every record's hash, every link, every
 * checkpoint signature (with `publicKeys`), and the head file; names the first problem.
 * Resolves with `ok: false` and `problem` for a tampered trail; it does not throw for one.
 *
 * @throws PurposekitError PURPOSEKIT_ERR_FILE_ACCESS when the trail cannot be read;
 *   PURPOSEKIT_ERR_INVALID_KEY for an unusable public key; PURPOSEKIT_ERR_INVALID_OPTION
 *   for a directory with several trails and no prefix.
 */
export async function verifyAuditTrail(path: string, options: AuditVerifyOptions = {}): Promise<AuditVerifyResult> {
  const layout = await locateTrail(path, options.prefix === undefined ? {} : { prefix: options.prefix });
  let headText: string | undefined;
  if (layout.headPath !== undefined) {
    try {
      headText = await readFile(layout.headPath, 'utf8');
    } catch {
      headText = '';
    }
  }
  const headName = layout.headPath === undefined ? '' : layout.headPath.slice(layout.dir.length + 1);
  const source = trailLines(layout, options.onProgress === undefined ? undefined : (n) => options.onProgress!(n, layout.totalBytes));
  return verifyTrailLines(layout, source, headText, headName, `No trail files were found at ${path}.`, options);
}

/** Options of {@link verifyAuditLines}: as for {@link verifyAuditTrail} (`stream` names the chain the anchors' heads are matched by). */
export type AuditLinesVerifyOptions = Pick<AuditVerifyOptions, 'publicKeys' | 'partial' | 'anchors' | 'expectHead' | 'stream' | 'maxCheckpointAge'>;

/** A chain of records held outside trail files (e.g. one stream of a database trail). */
export interface AuditLinesSource {
  /** What problems name as the "file" (e.g. `stream web-1`). */
  readonly name: string;
  /** The records' texts in chain order, in batches; each text is one record's JSON. */
  readonly lines: AsyncIterable<readonly string[]>;
  /** The latest durable checkpoint's JSON (the role of the head file, §6), if the store keeps one. */
  readonly head?: string;
  /** What problems name as the head's "file". Default `<name> head`. */
  readonly headName?: string;
}

/**
 * Verifies one chain given as record texts instead of files, with exactly the checks of
 * {@link verifyAuditTrail}: hashes, links, signatures and the head. `problem.line` is the
 * 1-based position of the record in `lines`; `problem.file` is `source.name`.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_KEY for an unusable public key.
 */
export async function verifyAuditLines(source: AuditLinesSource, options: AuditLinesVerifyOptions = {}): Promise<AuditVerifyResult> {
  const file: TrailFile = { name: source.name, path: source.name, index: 1, size: 0 };
  const layout = { mode: 'dir' as const, dir: '', prefix: undefined, files: [file], headPath: source.head === undefined ? undefined : source.name, quarantine: [], totalBytes: 0 };
  async function* lines(): AsyncGenerator<TrailLine[]> {
    let n = 0;
    for await (const batch of source.lines) {
      if (batch.length === 0) continue;
      yield batch.map((text) => ({ file, line: ++n, text, terminated: true, lastOfTrail: false }));
    }
  }
  return verifyTrailLines(layout, lines(), source.head, source.headName ?? `${source.name} head`, `No records were found in ${source.name}.`, options);
}

async function verifyTrailLines(
  layout: TrailLayout,
  source: AsyncGenerator<TrailLine[]>,
  headText: string | undefined,
  headName: string,
  emptyMessage: string,
  options: AuditVerifyOptions,
): Promise<AuditVerifyResult> {
  const ring = keyRing(options.publicKeys);
  const fresh = options.maxCheckpointAge;
  if (fresh !== undefined && (typeof fresh !== 'object' || fresh === null || typeof fresh.ms !== 'number' || !(fresh.ms >= 0) || !(fresh.at === undefined || typeof fresh.at === 'number' || fresh.at instanceof Date))) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'verifyAuditTrail(): "maxCheckpointAge" must be { ms: a number ≥ 0, at?: a time (ms since the epoch or a Date) }.', { details: { option: 'maxCheckpointAge' } });
  }
  const notes: string[] = [];
  const firstFile = layout.files[0];
  const partial = options.partial === true || (layout.mode === 'file' && firstFile !== undefined && firstFile.index > 1);
  if (layout.mode === 'file') notes.push('A single file was verified: links to other files and the head file were not checked.');
  for (const q of layout.quarantine) notes.push(`Quarantine file ${q} holds bytes set aside at start-up or recovery (not part of the chain).`);

  let records = 0;
  let checkpoints = 0;
  let firstSeq: number | undefined;
  let lastSeq: number | undefined;
  let lastHash: string | undefined;
  let lastCheckpoint: AuditVerifyResult['lastCheckpoint'];
  let unsignedTail = 0;
  const behind: Array<{ item: Item; seq: number; hash: string }> = [];

  // head file (checked at the end, read first so that its seq's hash can be remembered)
  let head: Record<string, unknown> | undefined;
  let headProblem: AuditProblem | undefined;
  if (headText !== undefined) {
    try {
      const v = parseJsonObjectSafely(headText).value;
      if (v !== undefined && v['kind'] === 'checkpoint') head = v;
    } catch {
      head = undefined;
    }
    if (head === undefined || structureProblem(head) !== undefined) {
      headProblem = { kind: 'malformed', message: `The head file ${headName} does not hold a well-formed checkpoint.`, file: headName, line: 0 };
    }
  } else if (layout.mode === 'dir' && layout.files.length > 0) {
    notes.push('No head file: records cut off after the last checkpoint cannot be detected.');
  }
  let hashAtHeadSeq: string | undefined;

  // anchored heads (and the expected head), by seq
  const checkAnchors = options.anchors !== undefined || options.expectHead !== undefined;
  const anchoredBySeq = await collectAnchoredHeads(options, options.stream ?? layout.prefix ?? 'audit', ring);
  let anchored: { seq: number; hash: string; ts: string } | undefined;

  const result = (problem?: AuditProblem): AuditVerifyResult => ({
    ok: problem === undefined,
    ...(problem === undefined ? {} : { problem }),
    records,
    checkpoints,
    files: layout.files.map((f) => f.name),
    ...(firstSeq === undefined ? {} : { firstSeq }),
    ...(lastSeq === undefined ? {} : { lastSeq }),
    ...(lastHash === undefined ? {} : { lastHash }),
    ...(lastCheckpoint === undefined ? {} : { lastCheckpoint }),
    unsignedTail,
    signaturesChecked: ring !== undefined,
    ...(head !== undefined && typeof head['seq'] === 'number' && typeof head['hash'] === 'string' ? { head: { seq: head['seq'], hash: head['hash'] } } : {}),
    notes,
    anchorsChecked: anchoredBySeq instanceof Map ? anchoredBySeq.size : 0,
    ...(anchored === undefined ? {} : { anchored }),
    ...(checkAnchors ? { unanchoredTail: lastSeq === undefined ? 0 : anchored === undefined ? records : lastSeq - anchored.seq } : {}),
  });
  if (!(anchoredBySeq instanceof Map)) return result(anchoredBySeq);
  if (headProblem !== undefined) return result(headProblem);

  // lookahead over the lines of every file
  const ahead: Item[] = [];
  let exhausted = false;
  const fill = async (): Promise<void> => {
    while (ahead.length < WINDOW && !exhausted) {
      const next = await source.next();
      if (next.done === true) exhausted = true;
      else for (const l of next.value) ahead.push({ l, record: undefined, parsed: false, computed: undefined });
    }
  };
  const problem = (kind: AuditProblemKind, item: Item, message: string, seq?: number): AuditProblem => ({
    kind,
    message,
    file: item.l.file.name,
    line: item.l.line,
    ...(seq === undefined ? {} : { seq }),
  });

  // An empty trail proves nothing: a wrong path must not verify.
  if (layout.files.length === 0) return result({ kind: 'missing', message: emptyMessage, file: '', line: 0 });

  const classify = (cur: Item, r: Record<string, unknown>, expected: number, prevHash: string): AuditProblem => {
    const s = r['seq'] as number;
    const hash = r['hash'] as string;
    const next = ahead[0];
    const nextRecord = next === undefined ? undefined : sound(next);
    const last = behind[behind.length - 1]!;
    const boundary = last.item.l.file !== cur.l.file;
    if (s === expected) {
      if (nextRecord !== undefined && nextRecord['seq'] === s && nextRecord['prev'] === prevHash) {
        return problem('inserted', cur, `Record at ${loc(cur)} (seq ${s}) does not belong to the chain: the record after it holds seq ${s} and links to seq ${s - 1}. It was inserted.`, s);
      }
      if (nextRecord === undefined || nextRecord['prev'] === hash) {
        return problem('edited', last.item, `Record seq ${last.seq} at ${loc(last.item)} was changed after it was written (and re-hashed): seq ${s} at ${loc(cur)} links to a different hash.`, last.seq);
      }
      return problem('edited', cur, `Record seq ${s} at ${loc(cur)} was replaced: it does not link to seq ${s - 1}, and seq ${s + 1} does not link to it.`, s);
    }
    if (s < expected) {
      const earlier = behind.find((b) => b.seq === s);
      if (earlier !== undefined && earlier.hash === hash) {
        return problem('inserted', cur, `Record at ${loc(cur)} is a copy of seq ${s} (first at ${loc(earlier.item)}): it was inserted.`, s);
      }
      if (earlier !== undefined && earlier === last && r['prev'] === (behind[behind.length - 2]?.hash ?? AUDIT_GENESIS_HASH) && nextRecord !== undefined && nextRecord['prev'] === hash) {
        return problem('inserted', earlier.item, `Record at ${loc(earlier.item)} (seq ${s}) does not belong to the chain: the chain continues from the record at ${loc(cur)}, which holds the same seq. It was inserted.`, s);
      }
      return problem('inserted', cur, `Record at ${loc(cur)} claims seq ${s}, which the chain already passed${earlier === undefined ? '' : ` (at ${loc(earlier.item)})`}: it was inserted.`, s);
    }
    const laterSame = ahead.find((a) => sound(a)?.['seq'] === s);
    if (laterSame !== undefined) {
      return problem('inserted', cur, `Record at ${loc(cur)} claims seq ${s}, which appears again at ${loc(laterSame)} in its place: it was inserted.`, s);
    }
    const expectedItem = ahead.find((a) => sound(a)?.['seq'] === expected);
    if (expectedItem !== undefined) {
      const predecessor = ahead.some((a) => sound(a)?.['seq'] === s - 1 && a.computed === r['prev']) || behind.some((b) => b.seq === s - 1 && b.hash === r['prev']);
      if (predecessor) {
        return problem('reordered', cur, `Record seq ${s} at ${loc(cur)} comes before seq ${expected} (at ${loc(expectedItem)}): records were reordered.`, s);
      }
      return problem('inserted', cur, `Record at ${loc(cur)} (seq ${s}) does not belong to the chain, which continues with seq ${expected} at ${loc(expectedItem)}: it was inserted.`, s);
    }
    const range = expected === s - 1 ? `Record seq ${expected} is` : `Records seq ${expected}–${s - 1} are`;
    return problem(
      'missing',
      cur,
      `${range} missing before ${loc(cur)}${boundary ? ` (the end of ${last.item.l.file.name} or a whole file was removed)` : ''}.`,
      expected,
    );
  };

  let expected: number | undefined;
  let prevHash = AUDIT_GENESIS_HASH;
  try {
    for (;;) {
      await fill();
      const cur = ahead.shift();
      if (cur === undefined) break;
      if (!cur.l.terminated) {
        if (cur.l.lastOfTrail) {
          notes.push(`${loc(cur)} is an incomplete last line (a crash during a write; never acknowledged). The sink moves it to a quarantine file when it next starts.`);
          break;
        }
        return result(problem('truncated', cur, `${cur.l.file.name} ends in the middle of a record (line ${cur.l.line}): the file was cut.`));
      }
      const r = parse(cur);
      if (r === undefined) return result(problem('malformed', cur, `${loc(cur)} is not a well-formed record: ${cur.why ?? 'not a JSON object'}.`));
      if (r['v'] !== AUDIT_FORMAT_VERSION) {
        return result(problem('unsupported-version', cur, `${loc(cur)} has format version ${JSON.stringify(r['v'])}; this verifier knows version ${AUDIT_FORMAT_VERSION}.`));
      }
      const structural = structureProblem(r);
      if (structural !== undefined) return result(problem('malformed', cur, `${loc(cur)}: ${structural}.`, typeof r['seq'] === 'number' ? r['seq'] : undefined));
      const s = r['seq'] as number;
      const hash = r['hash'] as string;
      cur.computed ??= safeHash(r);
      if (cur.computed !== hash) {
        return result(problem('edited', cur, `Record seq ${s} at ${loc(cur)} was edited: its content does not match its hash.`, s));
      }
      if (expected === undefined) {
        if (!partial && s !== 1) {
          return result(
            problem('missing', cur, `The trail starts at seq ${s} (${loc(cur)}): records 1–${s - 1} are missing. If older files were removed on purpose (retention), verify with the partial option (--partial).`, 1),
          );
        }
        if (!partial && r['prev'] !== AUDIT_GENESIS_HASH) {
          return result(problem('edited', cur, `Record seq 1 at ${loc(cur)} does not start from the genesis hash.`, s));
        }
        if (partial && s !== 1) notes.push(`The trail starts at seq ${s}: earlier records were not checked (partial).`);
      } else if (s !== expected || r['prev'] !== prevHash) {
        return result(classify(cur, r, expected, prevHash));
      }
      // §3: a writer rotates only after a checkpoint, so every file but the last ends with one.
      const before = behind[behind.length - 1];
      if (before !== undefined && before.item.l.file !== cur.l.file && before.item.record?.['kind'] !== 'checkpoint') {
        return result(
          problem('missing', before.item, `${before.item.l.file.name} ends with seq ${before.seq} (${loc(before.item)}), not with the checkpoint that ends every file but the last: the end of the file was removed or the trail rewritten.`, before.seq),
        );
      }
      if (r['kind'] === 'checkpoint') {
        if (ring !== undefined) {
          const why = signatureProblem(r, ring);
          if (why !== undefined) return result(problem('bad-signature', cur, `Checkpoint seq ${s} at ${loc(cur)} has a bad signature: ${why}.`, s));
          checkpoints++;
        }
        lastCheckpoint = { seq: s, hash, keyId: String(r['keyId']), ts: String(r['ts']) };
        unsignedTail = 0;
      } else {
        unsignedTail++;
      }
      records++;
      firstSeq ??= s;
      lastSeq = s;
      lastHash = hash;
      if (head !== undefined && s === head['seq']) hashAtHeadSeq = hash;
      const a = anchoredBySeq.get(s);
      if (a !== undefined) {
        if (a.hash !== hash) {
          return result(problem('forked', cur, `Record seq ${s} at ${loc(cur)} is not the one ${a.source} holds (hash ${a.hash}): the trail was rewritten after that head was published.`, s));
        }
        anchored = { seq: s, hash, ts: String(r['ts']) };
      }
      expected = s + 1;
      prevHash = hash;
      behind.push({ item: cur, seq: s, hash });
      if (behind.length > WINDOW) behind.shift();
    }

    if (head !== undefined) {
      const hs = head['seq'] as number;
      const headItem = { l: { file: { name: headName } as TrailFile, line: 0 } } as Item;
      if (hashAuditRecord(head) !== head['hash']) return result(problem('edited', headItem, `The head file ${headName} was edited: its content does not match its hash.`, hs));
      if (ring !== undefined) {
        const why = signatureProblem(head, ring);
        if (why !== undefined) return result(problem('bad-signature', headItem, `The head checkpoint (${headName}, seq ${hs}) has a bad signature: ${why}.`, hs));
      }
      if (lastSeq === undefined || hs > lastSeq) {
        return result(
          problem('truncated', headItem, `The trail ends at ${lastSeq === undefined ? 'no record' : `seq ${lastSeq}`}, but its head checkpoint (${headName}) shows seq ${hs} was written: records were cut off.`, hs),
        );
      }
      if (hs >= (firstSeq ?? 1) && hashAtHeadSeq !== head['hash']) {
        return result(problem('edited', headItem, `Record seq ${hs} differs from the head checkpoint (${headName}): the trail was changed after that checkpoint was written.`, hs));
      }
    }
    let newest: AnchoredEntry | undefined;
    let before = 0;
    for (const e of anchoredBySeq.values()) {
      if (newest === undefined || e.seq > newest.seq) newest = e;
      if (firstSeq !== undefined && e.seq < firstSeq) before++;
    }
    if (newest !== undefined && (lastSeq === undefined || newest.seq > lastSeq)) {
      const where = { l: { file: { name: newest.source } as TrailFile, line: 0 } } as Item;
      const end = lastSeq === undefined ? 'holds no record' : `ends at seq ${lastSeq}`;
      return result(
        head !== undefined
          ? problem('rolled-back', where, `The trail ${end} and its head file agree, but ${newest.source} holds seq ${newest.seq} (signed ${newest.ts}): the trail directory was restored to an older state, or cut and its head file replaced.`, newest.seq)
          : problem('truncated', where, `The trail ${end}, but ${newest.source} holds seq ${newest.seq} (signed ${newest.ts}): records were cut off.`, newest.seq),
      );
    }
    if (before > 0) notes.push(`${before} anchored head(s) precede the first record present (seq ${firstSeq}) and were not checked.`);
    if (fresh !== undefined) {
      const at = fresh.at === undefined ? Date.now() : typeof fresh.at === 'number' ? fresh.at : fresh.at.getTime();
      const signedAt = lastCheckpoint === undefined ? Number.NaN : Date.parse(lastCheckpoint.ts);
      if (!(signedAt >= at - fresh.ms)) {
        const where = { l: { file: { name: layout.files.at(-1)?.name ?? '' } as TrailFile, line: 0 } } as Item;
        return result(
          problem(
            'stale',
            where,
            lastCheckpoint === undefined
              ? 'The trail holds no checkpoint at all, so nothing shows that its writer was running.'
              : `The newest checkpoint (seq ${lastCheckpoint.seq}) was signed at ${lastCheckpoint.ts}, more than ${Math.round(fresh.ms / 1000)} s before ${new Date(at).toISOString()}: the writer stopped then, or the trail was cut back (a running writer signs at least once per heartbeat).`,
            lastCheckpoint?.seq,
          ),
        );
      }
    }
    return result();
  } finally {
    await source.return(undefined);
  }
}

interface AnchoredEntry {
  readonly seq: number;
  readonly hash: string;
  readonly ts: string;
  /** Where the head came from, for messages: `anchor "name"`, `the expected head`. */
  readonly source: string;
}

const HEAD_HASH = /^[0-9a-f]{64}$/;

/**
 * Reads every anchored head of `stream` (and the expected head) into a map by seq. Two
 * different heads for one seq are a fork: returned as the problem. A head that carries
 * `prev` is signature-checked when keys are given (a forged head in an anchor must not
 * pass for evidence, nor raise a false alarm unnoticed).
 */
async function collectAnchoredHeads(options: AuditVerifyOptions, stream: string, ring: KeyRing | undefined): Promise<Map<number, AnchoredEntry> | AuditProblem> {
  const map = new Map<number, AnchoredEntry>();
  const add = (h: AnchoredHead | { seq: number; hash: string; ts?: string; prev?: string; keyId?: string; sig?: string }, source: string): AuditProblem | undefined => {
    if ('prev' in h && h.prev !== undefined && ring !== undefined && typeof h.keyId === 'string' && typeof h.sig === 'string' && typeof h.ts === 'string') {
      const cp = { alg: 'Ed25519', keyId: h.keyId, kind: 'checkpoint', prev: h.prev, seq: h.seq, ts: h.ts, v: AUDIT_FORMAT_VERSION, sig: h.sig };
      const why = signatureProblem(cp, ring) ?? (safeHash(cp) === h.hash ? undefined : 'its hash is not the hash of the checkpoint it describes');
      if (why !== undefined) return { kind: 'bad-signature', message: `The head of seq ${h.seq} that ${source} holds is not a checkpoint of this trail's keys: ${why}.`, file: source, line: 0, seq: h.seq };
    }
    const known = map.get(h.seq);
    if (known !== undefined && known.hash !== h.hash) {
      return { kind: 'forked', message: `${known.source} and ${source} hold different heads for seq ${h.seq} (${known.hash} and ${h.hash}): the writer's key signed two histories.`, file: source, line: 0, seq: h.seq };
    }
    if (known === undefined) map.set(h.seq, { seq: h.seq, hash: h.hash, ts: h.ts ?? 'an unknown time', source });
    return undefined;
  };
  const take = (value: unknown, source: string): AuditProblem | undefined => {
    const h = toAnchoredHead(value);
    if (h === undefined) throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `verifyAuditTrail(): ${source} gave something that is not an anchored head.`, { details: { option: 'anchors' } });
    return h.stream === stream ? add(h, source) : undefined;
  };
  const anchors = options.anchors;
  if (anchors !== undefined) {
    if (Symbol.asyncIterator in (anchors as object)) {
      for await (const h of anchors as AsyncIterable<AnchoredHead>) {
        const p = take(h, 'the anchored heads');
        if (p !== undefined) return p;
      }
    } else if (Array.isArray(anchors)) {
      for (const a of anchors as ReadonlyArray<AuditAnchor | AnchoredHead>) {
        if (typeof (a as AuditAnchor).publish === 'function' || typeof (a as AuditAnchor).heads === 'function') {
          const anchor = a as AuditAnchor;
          if (anchor.heads === undefined) throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `verifyAuditTrail(): anchor "${anchor.name}" cannot list its heads (no heads()).`, { details: { option: 'anchors' } });
          for await (const h of anchor.heads()) {
            const p = take(h, `anchor "${anchor.name}"`);
            if (p !== undefined) return p;
          }
        } else {
          const p = take(a, 'the anchored heads');
          if (p !== undefined) return p;
        }
      }
    } else {
      throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'verifyAuditTrail(): "anchors" must be an array of anchors or heads, or an async iterable of heads.', { details: { option: 'anchors' } });
    }
  }
  const e = options.expectHead;
  if (e !== undefined) {
    if (typeof e !== 'object' || e === null || !Number.isSafeInteger(e.seq) || e.seq < 1 || typeof e.hash !== 'string' || !HEAD_HASH.test(e.hash)) {
      throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'verifyAuditTrail(): "expectHead" must be { seq: a positive integer, hash: 64 lower-case hex digits }.', { details: { option: 'expectHead' } });
    }
    const p = add({ seq: e.seq, hash: e.hash }, 'the expected head');
    if (p !== undefined) return p;
  }
  return map;
}

/** @internal for the CLI: throws when a verification failed, with the problem as details. */
export function verifyFailure(problem: AuditProblem): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_AUDIT_CORRUPT', `${problem.kind}: ${problem.message}`, { details: { ...problem } });
}
