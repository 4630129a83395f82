/** Shared parsing of the summary options (`--by`, `--at`) of `audit stats` and `audit report`. */
import { PurposekitError } from '@purposekit/core';
import type { Period } from './trail-summary';

const PERIODS = ['day', 'week', 'month', 'auto'] as const;

/** `--by`: day, week, month or auto. */
export function parsePeriod(command: string, value: string | undefined): Period | 'auto' {
  if (value === undefined) return 'auto';
  if ((PERIODS as readonly string[]).includes(value)) return value as Period | 'auto';
  throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${command}: --by must be day, week, month or auto; got ${JSON.stringify(value)}.`, { details: { option: 'by' } });
}

/** `--at`: an ISO 8601 instant (default now), in ms since the epoch. */
export function parseAt(command: string, value: string | undefined): number {
  if (value === undefined) return Date.now();
  const at = Date.parse(value);
  if (!Number.isFinite(at)) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${command}: --at must be an ISO 8601 instant such as 2026-12-01T00:00:00Z; got ${JSON.stringify(value)}.`, { details: { option: 'at' } });
  }
  return at;
}
