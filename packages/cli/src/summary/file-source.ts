/** Records of a file trail, as the iterable the summaries read (a PostgreSQL source is another such iterable). */
import { readAuditTrail } from '@purposekit/core';
import type { AuditRecord } from '@purposekit/core';
import type { CliIo } from '../io';
import { absolute } from '../paths';
import { progressFor } from '../progress';
import { trailSize } from '../trail-size';

/** Reads the file trail at `path` (directory or file), with a progress bar on a terminal for large trails. */
export async function* fileTrailRecords(io: CliIo, path: string, prefix: string | undefined, label = 'read'): AsyncGenerator<AuditRecord> {
  const trail = absolute(io, path);
  const progress = progressFor(io, label, await trailSize(trail, prefix));
  try {
    for await (const { record } of readAuditTrail(trail, {
      ...(prefix === undefined ? {} : { prefix }),
      ...(progress.onProgress === undefined ? {} : { onProgress: progress.onProgress }),
    })) {
      yield record;
    }
  } finally {
    progress.stop();
  }
}
