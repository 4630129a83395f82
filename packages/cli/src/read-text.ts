/** Reads a small text file (a key, an anchor file), or throws a typed error naming it. */
import { readFile } from 'node:fs/promises';
import { PurposekitError } from '@purposekit/core';

/** The file's text. @throws PurposekitError PURPOSEKIT_ERR_FILE_ACCESS when it cannot be read. */
export async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as { code?: string }).code ?? 'EIO';
    throw new PurposekitError('PURPOSEKIT_ERR_FILE_ACCESS', `Cannot read ${path} (${code}).`, { cause, details: { path, code } });
  }
}
