/** `purposekit rights due <path> [--at <instant>] [--json] [--fail-on-overdue]` */
import { PurposekitError, listOpenRightsRequests, readAuditTrail } from '@purposekit/core';
import type { RightsTrailRecord } from '@purposekit/core';
import { writeOut } from '../io';
import type { CliIo } from '../io';
import { absolute } from '../paths';
import { progressFor } from '../progress';
import { trailSize } from '../trail-size';
import { shortId } from '../render/text-table';

export interface RightsDueFlags {
  at?: string;
  json?: boolean;
  failOnOverdue?: boolean;
  prefix?: string;
}

/**
 * Lists the data-subject requests received and not yet closed (completed, refused or
 * partly completed), soonest due first, with their state (`received`, or `extended`
 * with the new deadline; GDPR Art. 12(3): one month, extendable by two). Exit 0; with `--fail-on-overdue`, exit 1 when any is
 * overdue (for a scheduled check that pages someone).
 */
export async function rightsDue(io: CliIo, path: string, flags: RightsDueFlags): Promise<number> {
  const now = flags.at === undefined ? Date.now() : Date.parse(flags.at);
  if (!Number.isFinite(now)) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `rights due: --at must be an ISO 8601 instant such as 2026-12-01T00:00:00Z; got ${JSON.stringify(flags.at)}.`, { details: { option: 'at' } });
  }
  const trail = absolute(io, path);
  const progress = progressFor(io, 'read', await trailSize(trail, flags.prefix));
  const rights: RightsTrailRecord[] = [];
  try {
    for await (const { record } of readAuditTrail(trail, {
      ...(flags.prefix === undefined ? {} : { prefix: flags.prefix }),
      ...(progress.onProgress === undefined ? {} : { onProgress: progress.onProgress }),
    })) {
      if (record.kind === 'rights') rights.push(record);
    }
  } finally {
    progress.stop();
  }
  const open = listOpenRightsRequests(rights, now);
  if (flags.json) {
    await writeOut(io.stdout, `${JSON.stringify({ at: new Date(now).toISOString(), open }, null, 2)}\n`);
  } else if (open.length === 0) {
    await writeOut(io.stdout, `No open data-subject requests (as of ${new Date(now).toISOString()}).\n`);
  } else {
    const rows = open.map((r) => [r.due, r.overdue ? 'OVERDUE' : '', r.right, r.state, r.receivedAt ?? '', r.requestId, r.subject === undefined ? '' : shortId(r.subject)]);
    const head = ['due', 'overdue', 'right', 'state', 'received', 'request', 'subject (pseudonym)'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
    const overdue = open.filter((r) => r.overdue).length;
    await writeOut(io.stdout, `${[line(head), ...rows.map(line)].join('\n')}\n${open.length} open, ${overdue} overdue (as of ${new Date(now).toISOString()}).\n`);
  }
  return flags.failOnOverdue && open.some((r) => r.overdue) ? 1 : 0;
}
