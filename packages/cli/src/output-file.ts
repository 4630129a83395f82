import { open } from 'node:fs/promises';
import { PurposekitError } from '@purposekit/core';
import type { CliIo } from './io';
import { absolute } from './paths';

/**
 * Writes `content` to a new file (mode 0600: reports name pseudonyms) and syncs it.
 * Never overwrites, like `audit export --output`.
 * @throws PurposekitError PURPOSEKIT_ERR_FILE_ACCESS when the file exists or cannot be created.
 */
export async function writeNewFile(io: CliIo, path: string, content: string): Promise<string> {
  const out = absolute(io, path);
  let handle;
  try {
    handle = await open(out, 'wx', 0o600);
  } catch (cause) {
    const code = (cause as { code?: string }).code ?? 'EIO';
    throw new PurposekitError('PURPOSEKIT_ERR_FILE_ACCESS', code === 'EEXIST' ? `${out} already exists; refusing to overwrite it.` : `Cannot create ${out} (${code}).`, { cause, details: { path: out, code } });
  }
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  return out;
}
