/** `purposekit retention due <items> --policy <file|preset> [--at <instant>] [--within <duration>] [--json] [--fail-on-expired]` */
import { readFile } from 'node:fs/promises';
import { PurposekitError, bitnami, coreos, kubevirt, loadPolicy, openinfra, parseDuration, addDuration, retentionDue } from '@purposekit/core';
import type { ListedRetentionItem, Policy } from '@purposekit/core';
import { writeOut } from '../io';
import type { CliIo } from '../io';
import { absolute } from '../paths';

export interface RetentionDueFlags {
  policy: string;
  at?: string;
  within?: string;
  json?: boolean;
  failOnExpired?: boolean;
}

const PRESETS: Readonly<Record<string, Policy>> = Object.freeze({ openinfra, bitnami, coreos, kubevirt });

function invalid(option: string, message: string): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `retention due: ${message}`, { details: { option } });
}

/** Reads the items file: JSON lines (or one JSON array) of `{ store, purpose, id, clockStart, holds? }`. */
async function readItems(path: string): Promise<ListedRetentionItem[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new PurposekitError('PURPOSEKIT_ERR_FILE_ACCESS', `retention due: cannot read ${path} (${(cause as NodeJS.ErrnoException).code ?? 'error'}).`, { cause });
  }
  const trimmed = text.trim();
  const values: unknown[] = [];
  try {
    if (trimmed.startsWith('[')) values.push(...(JSON.parse(trimmed) as unknown[]));
    else for (const line of trimmed.split('\n')) if (line.trim() !== '') values.push(JSON.parse(line));
  } catch {
    // Never echo the content: it is the app's inventory of personal data.
    throw invalid('items', `${path} is not JSON lines (or a JSON array) of { store, purpose, id, clockStart, holds? }.`);
  }
  return values.filter((v): v is ListedRetentionItem => typeof v === 'object' && v !== null && typeof (v as ListedRetentionItem).store === 'string' && typeof (v as ListedRetentionItem).purpose === 'string');
}

/**
 * Lists the items that expire by `--at` + `--within` (default now + P30D), soonest
 * first, from an export of the app's stores (what `kit.retention.due()` reads through
 * the port, written as JSON lines). Exit 0; with `--fail-on-expired`, exit 1 when an
 * item already expired and no hold suspends it (a scheduled check that the sweep runs).
 */
export async function retentionDueCommand(io: CliIo, itemsPath: string, flags: RetentionDueFlags): Promise<number> {
  const now = flags.at === undefined ? Date.now() : Date.parse(flags.at);
  if (!Number.isFinite(now)) throw invalid('at', `--at must be an ISO 8601 instant such as 2026-12-01T00:00:00Z; got ${JSON.stringify(flags.at)}.`);
  const within = parseDuration(flags.within ?? 'P30D');
  if (within === undefined) throw invalid('within', `--within must be an ISO 8601 duration such as P30D; got ${JSON.stringify(flags.within)}.`);
  const policy = Object.hasOwn(PRESETS, flags.policy) ? PRESETS[flags.policy]! : loadPolicy(absolute(io, flags.policy), { onWarning: () => undefined });
  const due = retentionDue(policy, await readItems(absolute(io, itemsPath)), addDuration(new Date(now), within));
  const expired = due.filter((d) => Date.parse(d.expiresAt) <= now && d.heldBy.length === 0);
  if (flags.json) {
    await writeOut(io.stdout, `${JSON.stringify({ at: new Date(now).toISOString(), policy: { id: policy.id, version: policy.version }, due }, null, 2)}\n`);
  } else if (due.length === 0) {
    await writeOut(io.stdout, `Nothing expires by ${addDuration(new Date(now), within).toISOString()} (policy ${policy.id}).\n`);
  } else {
    const rows = due.map((d) => [d.expiresAt, Date.parse(d.expiresAt) <= now ? 'EXPIRED' : '', d.onExpiry, d.heldBy.length > 0 ? `held: ${d.heldBy.join(',')}` : '', d.purpose, d.store, d.item]);
    const head = ['expires', 'expired', 'then', 'holds', 'purpose', 'store', 'item'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
    await writeOut(io.stdout, `${[line(head), ...rows.map(line)].join('\n')}\n${due.length} due, ${expired.length} expired and not held (as of ${new Date(now).toISOString()}).\n`);
  }
  return flags.failOnExpired && expired.length > 0 ? 1 : 0;
}
