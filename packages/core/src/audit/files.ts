/** File naming of a trail directory (see docs/audit-format.md, "Files"). */
import { PurposekitError } from '../errors';

/** A prefix: starts with a letter or digit; letters, digits, `.`, `_`, `-`; at most 64. */
export const PREFIX_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const TRAIL_NAME = /^([A-Za-z0-9][A-Za-z0-9._-]{0,63})-(\d{8,})\.jsonl$/;

/** `<prefix>-<index, 8+ digits>.jsonl`. */
export function trailFileName(prefix: string, index: number): string {
  return `${prefix}-${String(index).padStart(8, '0')}.jsonl`;
}

/** Parses a trail file name; `undefined` for any other file. */
export function parseTrailFileName(name: string): { prefix: string; index: number } | undefined {
  const m = TRAIL_NAME.exec(name);
  if (m === null) return undefined;
  const index = Number(m[2]);
  return Number.isSafeInteger(index) && index >= 1 ? { prefix: m[1]!, index } : undefined;
}

/** The head file: a copy of the latest durable checkpoint. */
export function headFileName(prefix: string): string {
  return `${prefix}.head.json`;
}

/** The writer lock: the pid of the process that writes the trail. */
export function lockFileName(prefix: string): string {
  return `${prefix}.lock`;
}

/** Where bytes removed from a trail file go: `<file>.quarantine-<UTC time>`. */
export function quarantineFileName(trailName: string, at: Date, attempt: number): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('.', '');
  return `${trailName}.quarantine-${stamp}${attempt > 0 ? `-${attempt}` : ''}`;
}

/** True for quarantine files of a prefix. */
export function isQuarantineName(name: string, prefix: string): boolean {
  return name.startsWith(`${prefix}-`) && name.includes('.jsonl.quarantine-');
}

/** @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION */
export function checkPrefix(prefix: unknown, where: string): string {
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${where}: "prefix" must be 1–64 characters of letters, digits, ".", "_" or "-", starting with a letter or digit; got ${JSON.stringify(prefix)}.`);
  }
  return prefix;
}
