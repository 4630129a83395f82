import { resolve } from 'node:path';
import type { CliIo } from './io';

export function absolute(io: CliIo, path: string): string {
  return resolve(io.cwd, path);
}
