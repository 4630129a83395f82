/**
 * Public types of the audit trail. The record format itself is specified in
 * docs/audit-format.md; keep the two in step (a format change bumps
 * {@link AUDIT_FORMAT_VERSION}).
 */
import type { KeyObject } from 'node:crypto';

/** Kinds of event the engine records. */
export type AuditEventKind = 'access' | 'consent' | 'age-gate' | 'rights' | 'retention';

/** Every record kind in a trail: the event kinds plus signed checkpoints. */
export type AuditRecordKind = AuditEventKind | 'checkpoint';

/** An attribute value: a short string, a finite number or a boolean. */
export type AuditAttributeValue = string | number | boolean;

/**
 * What the engine hands to a sink: the facts of one event, without the chain fields
 * (sequence number, timestamp, hashes), which the sink assigns.
 *
 * Never personal values: `subject` is already a keyed pseudonym
 * (`createSubjectPseudonymizer`), and sinks refuse strings that look like an IP
 * address, an email address or a date of birth (`PURPOSEKIT_ERR_AUDIT_REJECTED`).
 */
export interface AuditEventInput {
  kind: AuditEventKind;
  /** Who acted (an application user id, a service name). Not a personal value such as an email. */
  actor?: string;
  /** Whose data: ALREADY a pseudonym, `hmac-sha256:<keyId>:<64 hex>`. */
  subject?: string;
  /** Data categories touched. */
  data?: readonly string[];
  /** What was done: collect, read, use, update, delete, share, export. */
  action?: string;
  /** The purpose in force. */
  purpose?: string;
  /** The legal basis of the purpose. */
  basis?: string;
  /** The policy that decided. */
  policy: { id: string; version: string };
  /** Correlates the records of one request or job. */
  requestId?: string;
  /** The access decision. */
  decision?: 'allow' | 'deny';
  /** Reason code of the decision. */
  reason?: string;
  /** The third party the data went to. */
  recipient?: string;
  /** Further non-personal facts: gate name, consent state, right, due date… */
  attributes?: Readonly<Record<string, AuditAttributeValue>>;
}

/**
 * Where audit events go. Every sink assigns sequence numbers and timestamps, chains
 * the records, and fails closed.
 */
export interface AuditSink {
  /**
   * Appends one event. Resolves when the record is durable per the sink's durability
   * mode (for the file sink's default `sync`: after the fdatasync covering it).
   *
   * @throws (rejects) PurposekitError PURPOSEKIT_ERR_AUDIT_UNAVAILABLE when the record
   *   cannot be written (the caller must not proceed); PURPOSEKIT_ERR_AUDIT_REJECTED when
   *   the event is malformed or looks like it carries personal data (nothing written).
   */
  append(event: AuditEventInput): Promise<void>;
  /** Resolves once every record appended so far is durable. Rejects with PURPOSEKIT_ERR_AUDIT_UNAVAILABLE when it cannot be. */
  flush(): Promise<void>;
  /** Writes a final checkpoint (when the sink signs), flushes and releases the sink. Later appends reject with PURPOSEKIT_ERR_AUDIT_UNAVAILABLE. */
  close(): Promise<void>;
}

/** Fields every record carries (format version 1). */
export interface AuditRecordBase {
  /** Format version: 1. */
  readonly v: 1;
  /** Sequence number: 1 for the first record of a trail, then +1 per record, across rotated files. */
  readonly seq: number;
  /** When the sink sequenced the record: ISO 8601, UTC, milliseconds (`2026-01-31T12:00:00.000Z`). */
  readonly ts: string;
  /** Hash of the previous record (lower-case hex SHA-256); {@link AUDIT_GENESIS_HASH} for seq 1. */
  readonly prev: string;
  /** SHA-256 (lower-case hex) of the RFC 8785 encoding of this record without `hash`. */
  readonly hash: string;
}

/** A record of one event. */
export interface AuditEventRecord extends AuditRecordBase {
  readonly kind: AuditEventKind;
  readonly actor?: string;
  readonly subject?: string;
  readonly data?: readonly string[];
  readonly action?: string;
  readonly purpose?: string;
  readonly basis?: string;
  readonly policy: { readonly id: string; readonly version: string };
  readonly requestId?: string;
  readonly decision?: 'allow' | 'deny';
  readonly reason?: string;
  readonly recipient?: string;
  readonly attributes?: Readonly<Record<string, AuditAttributeValue>>;
}

/** A signed checkpoint: an Ed25519 signature over the chain up to the record before it. */
export interface AuditCheckpointRecord extends AuditRecordBase {
  readonly kind: 'checkpoint';
  /** Signature algorithm: `Ed25519`. */
  readonly alg: 'Ed25519';
  /** Id of the signing key (default: the RFC 7638 JWK thumbprint of its public key). */
  readonly keyId: string;
  /** Base64url signature (no padding) over the RFC 8785 encoding of this record without `sig` and `hash`. */
  readonly sig: string;
}

/** Any record of a trail. */
export type AuditRecord = AuditEventRecord | AuditCheckpointRecord;

/** Durability of the file sink. See {@link FileAuditSinkOptions.durability}. */
export type AuditDurability = 'sync' | 'batched' | 'async';

/** Options of `createFileAuditSink`. */
export interface FileAuditSinkOptions {
  /** Directory of the trail (created with mode 0700 when missing). Required. */
  dir: string;
  /** File name prefix: files are `<prefix>-<8-digit index>.jsonl`. Default `audit`. */
  prefix?: string;
  /** Ed25519 private key for checkpoints: a KeyObject or a PKCS#8 PEM string. Required. */
  signingKey: KeyObject | string;
  /** Key id written into checkpoints. Default: the RFC 7638 JWK thumbprint of the public key (what `purposekit audit verify` looks keys up by). */
  keyId?: string;
  /**
   * - `sync` (default): `append()` resolves only after the fdatasync covering the record.
   * - `batched`: resolves once the record is written to the file (it survives a crash of
   *   the process, not of the machine); the fdatasync follows with the batch.
   * - `async`: resolves at once; a crash of the process can lose queued records.
   * Name a weaker mode only when the policy does (`audit.durability`).
   */
  durability?: AuditDurability;
  /** A signed checkpoint after this many records. Default 1000. */
  checkpointEvery?: number;
  /** …or after this many milliseconds with unsigned records, whichever first. Default 5000. */
  checkpointIntervalMs?: number;
  /**
   * A heartbeat checkpoint after this many milliseconds without any checkpoint, even with
   * no new records, so that a verifier (and every anchor) can tell a quiet writer from a
   * trail cut short. Default 3 600 000 (one hour, like CloudTrail's hourly digest); from
   * 1000 ms to one day, and at least `checkpointIntervalMs`.
   */
  heartbeatIntervalMs?: number;
  /**
   * Where each checkpoint's signed head is also published, outside the trail directory:
   * {@link AuditAnchor}s (`createFileAuditAnchor`, a PostgreSQL anchor…) or plain
   * functions. Publishing never delays an append; a head waits in a durable outbox in the
   * trail directory until every anchor took it, and is retried with backoff (also after a
   * restart). Default: none.
   */
  anchors?: ReadonlyArray<AuditAnchor | AuditAnchorFunction>;
  /**
   * Called when publishing a head to an anchor failed (it will be retried). Default: a
   * `PURPOSEKIT_WARN_AUDIT_ANCHOR` process warning.
   */
  onAnchorError?: (error: unknown, info: AuditAnchorErrorInfo) => void;
  /** The stream name in published heads (tells trails apart in a shared anchor). Default: the prefix. */
  stream?: string;
  /** Rotate to a new file once the current one reaches this size. Default 64 MiB. */
  maxFileBytes?: number;
}

/**
 * A checkpoint's signed head as published to an anchor: enough to hold the trail to it
 * (`seq`, `hash`) and to check the signature (with `prev`, when the anchor keeps it).
 */
export interface AnchoredHead {
  /** Which trail (the sink's `stream` option; default its prefix). */
  readonly stream: string;
  /** The checkpoint's sequence number. */
  readonly seq: number;
  /** The checkpoint record's `hash` (covers its signature and, through `prev`, the whole chain). */
  readonly hash: string;
  /** The checkpoint's `ts`. */
  readonly ts: string;
  /** The checkpoint's `keyId`. */
  readonly keyId: string;
  /** The checkpoint's `sig`. */
  readonly sig: string;
  /** The checkpoint's `prev` (optional for an anchor to keep; with it the signature can be checked alone). */
  readonly prev?: string;
}

/**
 * A place outside the trail directory that keeps published heads: an append-only file
 * on another mount, a database table, an object store with a retention lock.
 * `publish` must be idempotent (a head can be published twice after a crash).
 */
export interface AuditAnchor {
  /** A short name for warnings and the outbox (unique among a sink's anchors). */
  readonly name: string;
  /** Stores one head durably; rejects when it could not. */
  publish(head: AnchoredHead): Promise<void>;
  /** Every head kept, oldest first (what `verifyAuditTrail` checks the trail against). */
  heads?(): AsyncIterable<AnchoredHead>;
}

/** A function anchor: any code that takes a head (a log shipper, a webhook). */
export type AuditAnchorFunction = (head: AnchoredHead) => void | Promise<void>;

/** What {@link FileAuditSinkOptions.onAnchorError} is told besides the error. */
export interface AuditAnchorErrorInfo {
  /** The anchor's name. */
  readonly anchor: string;
  /** The head that could not be published. */
  readonly head: AnchoredHead;
  /** 1 for the first failure of this head on this anchor. */
  readonly attempt: number;
  /** When the next attempt is made. */
  readonly retryInMs: number;
}
