/**
 * The record of processing of each preset is kept in docs/ropa/<preset>.md and reviewed
 * in the diff. `npm run docs:ropa` regenerates the files; this test fails when they are
 * stale.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from './support';

const DOCS = join(__dirname, '..', '..', '..', 'docs', 'ropa');
const UPDATE = process.env['PURPOSEKIT_UPDATE_DOCS'] === '1';
const PRESETS = ['bitnami', 'coreos', 'kubevirt', 'openinfra'];

describe.each(PRESETS)('docs/ropa/%s.md', (preset) => {
  it('is what `purposekit ropa` prints for the preset', async () => {
    const ran = await cli(['ropa', preset], __dirname);
    expect(ran).toMatchObject({ code: 0, stderr: '' });
    const file = join(DOCS, `${preset}.md`);
    if (UPDATE) {
      mkdirSync(DOCS, { recursive: true });
      writeFileSync(file, ran.stdout);
    }
    expect(existsSync(file)).toBe(true);
    expect(ran.stdout).toBe(readFileSync(file, 'utf8'));
  });
});
