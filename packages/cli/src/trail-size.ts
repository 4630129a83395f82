import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Bytes of the trail files at `path` (0 when it cannot tell: the command reports the real error). */
export async function trailSize(path: string, prefix: string | undefined): Promise<number> {
  try {
    const s = await stat(path);
    if (s.isFile()) return s.size;
    let total = 0;
    for (const name of await readdir(path)) {
      const m = /^(.+)-\d{8,}\.jsonl$/.exec(name);
      if (m !== null && (prefix === undefined || m[1] === prefix)) total += (await stat(join(path, name))).size;
    }
    return total;
  } catch {
    return 0;
  }
}
