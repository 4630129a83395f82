import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryConsentStore, createFileConsentStore } from '@purposekit/core';
import type { FileConsentStore } from '@purposekit/core';
import { runConsentStoreContract } from './consent-store-contract';

let dir: string;
const open: FileConsentStore[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pk-consent-contract-'));
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});
function fileStore(path: string): FileConsentStore {
  const s = createFileConsentStore({ path });
  open.push(s);
  return s;
}

runConsentStoreContract('InMemoryConsentStore', { make: () => new InMemoryConsentStore() });
runConsentStoreContract('FileConsentStore', {
  make: () => fileStore(join(dir, 'consent.jsonl')),
  makePair: async () => [fileStore(join(dir, 'shared.jsonl')), fileStore(join(dir, 'shared.jsonl'))],
});
