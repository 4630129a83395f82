/** `purposekit audit export <path> --format json|csv [--output <file>]` */
import { open } from 'node:fs/promises';
import { PurposekitError, exportAuditTrail } from '@purposekit/core';
import type { AuditExportFormat } from '@purposekit/core';
import { writeOut } from '../io';
import type { CliIo, CliStream } from '../io';
import { absolute } from '../paths';
import { progressFor } from '../progress';
import { trailSize } from '../trail-size';

export interface ExportFlags {
  format: string;
  output?: string;
  prefix?: string;
}

export async function auditExport(io: CliIo, path: string, flags: ExportFlags): Promise<number> {
  if (flags.format !== 'json' && flags.format !== 'csv') {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `audit export: --format must be json or csv; got ${JSON.stringify(flags.format)}.`, { details: { option: 'format' } });
  }
  const trail = absolute(io, path);
  const progress = progressFor(io, 'export', await trailSize(trail, flags.prefix));
  let handle;
  if (flags.output !== undefined) {
    const out = absolute(io, flags.output);
    try {
      handle = await open(out, 'wx', 0o600);
    } catch (cause) {
      const code = (cause as { code?: string }).code ?? 'EIO';
      throw new PurposekitError('PURPOSEKIT_ERR_FILE_ACCESS', code === 'EEXIST' ? `${out} already exists; refusing to overwrite it.` : `Cannot create ${out} (${code}).`, { cause, details: { path: out, code } });
    }
  }
  const target: CliStream | undefined = handle === undefined ? io.stdout : undefined;
  try {
    const chunks = exportAuditTrail(trail, {
      format: flags.format as AuditExportFormat,
      ...(flags.prefix === undefined ? {} : { prefix: flags.prefix }),
      ...(progress.onProgress === undefined ? {} : { onProgress: progress.onProgress }),
    });
    for await (const chunk of chunks) {
      if (target !== undefined) await writeOut(target, chunk);
      else await handle!.write(chunk);
    }
    if (handle !== undefined) await handle.sync();
  } finally {
    progress.stop();
    await handle?.close();
  }
  return 0;
}
