/**
 * Signed checkpoints. A checkpoint is a record of the chain like any other (seq, ts,
 * prev, hash); its Ed25519 signature covers the RFC 8785 encoding of the record without
 * `sig` and `hash`, so through `prev` it commits to every record before it.
 */
import { sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { canonicalJson, sha256Hex } from './encode';
import type { AuditCheckpointRecord } from './types';

/** The members of a checkpoint that its signature covers. */
export type UnsignedCheckpoint = Omit<AuditCheckpointRecord, 'sig' | 'hash'>;

/** The exact bytes an Ed25519 checkpoint signature is made over. */
export function checkpointSigningInput(cp: Readonly<Record<string, unknown>>): Buffer {
  const { sig: _sig, hash: _hash, ...rest } = cp;
  return Buffer.from(canonicalJson(rest), 'utf8');
}

/** Signs a checkpoint and returns the full record and its line (RFC 8785, no newline). */
export function makeCheckpoint(fields: { seq: number; ts: string; prev: string; keyId: string }, key: KeyObject): { record: AuditCheckpointRecord; line: string } {
  const unsigned: UnsignedCheckpoint = { alg: 'Ed25519', keyId: fields.keyId, kind: 'checkpoint', prev: fields.prev, seq: fields.seq, ts: fields.ts, v: 1 };
  const sig = sign(null, checkpointSigningInput(unsigned), key).toString('base64url');
  const signed = { ...unsigned, sig };
  const hash = sha256Hex(canonicalJson(signed));
  const record: AuditCheckpointRecord = { ...signed, hash };
  return { record, line: canonicalJson(record) };
}

/** True when `cp.sig` is a valid Ed25519 signature by `key` over {@link checkpointSigningInput}. */
export function verifyCheckpointSignature(cp: Readonly<Record<string, unknown>>, key: KeyObject): boolean {
  if (typeof cp['sig'] !== 'string' || !/^[A-Za-z0-9_-]+$/.test(cp['sig'])) return false;
  try {
    return verify(null, checkpointSigningInput(cp), key, Buffer.from(cp['sig'], 'base64url'));
  } catch {
    return false;
  }
}
