import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSubjectPseudonymizer } from '../pseudonym';
import { KEY_FILES, generateKeyDirectory, openKeyDirectory } from './key-directory';

const fresh = () => mkdtempSync(join(tmpdir(), 'pk-keys-'));

describe('key directories', () => {
  it('generates the four files with exact modes and opens them', () => {
    const dir = join(fresh(), 'keys');
    const ids = generateKeyDirectory(dir);
    expect(readdirSync(dir).sort()).toEqual(Object.values(KEY_FILES).map((f) => f.name).sort());
    for (const f of Object.values(KEY_FILES)) expect(statSync(join(dir, f.name)).mode & 0o777).toBe(f.mode);
    const keys = openKeyDirectory(dir);
    expect(keys.signingKey).toContain('BEGIN PRIVATE KEY');
    expect(keys.subjectKey.id).toBe(ids.subjectKeyId);
    expect(keys.lockoutSecret).toHaveLength(32);
    expect(createSubjectPseudonymizer(keys.subjectKey)('u1')).toMatch(new RegExp(`^hmac-sha256:${ids.subjectKeyId}:[0-9a-f]{64}$`));
  });

  it('never overwrites: a second generate refuses and changes nothing', () => {
    const dir = fresh();
    generateKeyDirectory(dir);
    const before = openKeyDirectory(dir);
    expect(() => generateKeyDirectory(dir)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_FILE_ACCESS' }));
    expect(openKeyDirectory(dir)).toEqual(before);
  });

  it('fails on a missing key with the command that creates one, unless asked to create a fresh directory', () => {
    const dir = fresh();
    expect(() => openKeyDirectory(dir)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_FILE_ACCESS', message: expect.stringContaining('purposekit keys generate') }));
    const created = openKeyDirectory(dir, { createIfMissing: true });
    expect(openKeyDirectory(dir, { createIfMissing: true })).toEqual(created); // the second start reuses the keys
  });

  it('does not paper over a half key set, even with createIfMissing', () => {
    const dir = fresh();
    writeFileSync(join(dir, KEY_FILES.lockout.name), 'ab'.repeat(32));
    expect(() => openKeyDirectory(dir, { createIfMissing: true })).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_FILE_ACCESS' }));
  });

  it('rejects a short lockout key', () => {
    const dir = fresh();
    generateKeyDirectory(dir);
    writeFileSync(join(dir, KEY_FILES.lockout.name), 'abcd');
    expect(() => openKeyDirectory(dir)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_KEY' }));
  });
});
