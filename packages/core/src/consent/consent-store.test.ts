import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NO_SUBJECT_FACTS, validateConsentRecord } from './consent-store';
import type { ConsentRecord } from './consent-store';
import { createFileConsentStore } from './file-consent-store';
import type { FileConsentStore } from './file-consent-store';

const rec = (over: Partial<ConsentRecord> = {}): ConsentRecord => ({
  subject: 'u1',
  purpose: 'marketing.email',
  state: 'given',
  type: 'explicit',
  source: 'form',
  policyVersion: '2024-current',
  at: '2026-06-01T10:00:00.000Z',
  ...over,
});

let dir: string;
const open: FileConsentStore[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pk-consent-'));
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});
function fileStore(path = join(dir, 'consent.jsonl'), warnings: string[] = []): FileConsentStore {
  const s = createFileConsentStore({ path, onWarning: (m, code) => warnings.push(`${code}: ${m}`) });
  open.push(s);
  return s;
}

// The store contract (memory, file, PostgreSQL) is one suite in @purposekit/testing:
// runConsentStoreContract (packages/testing/src/consent-store-contract.test.ts runs it here).

describe('validateConsentRecord', () => {
  it('keeps only the known fields and freezes the copy', () => {
    const input = { ...rec(), email: 'someone@example.org' } as ConsentRecord;
    const out = validateConsentRecord(input);
    expect(out).toEqual(rec());
    expect(Object.isFrozen(out)).toBe(true);
    expect(input).toHaveProperty('email');
  });
});

describe('createFileConsentStore', () => {
  it.each([
    ['no options', undefined, 'options must be an object { path }'],
    ['an unknown option, with a hint', { path: 'x', pth: 1 }, 'Did you mean "path"?'],
    ['no path', {}, '"path" is required: a file path'],
    ['a non-function onWarning', { path: 'x', onWarning: 1 }, '"onWarning" must be a function'],
  ])('rejects %s', (_n, options, text) => {
    expect(() => createFileConsentStore(options as never)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION', message: expect.stringContaining(text) }));
  });

  it('creates the file with mode 0600 and writes one JSON line per change, durable before it resolves', async () => {
    const path = join(dir, 'sub', 'consent.jsonl');
    const s = fileStore(path);
    await s.setConsent(rec());
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
    expect(lines.map((l) => JSON.parse(l))).toEqual([{ v: 1, op: 'consent', record: rec() }]);
  });

  it('loads everything on open: a restart keeps every answer', async () => {
    const path = join(dir, 'consent.jsonl');
    const a = fileStore(path);
    await a.setConsent(rec());
    await a.setConsent(rec({ state: 'withdrawn' }));
    await a.setObjection('u1', 'diagnostics', true);
    await a.setErased('u7', true);
    await a.close();
    const b = fileStore(path);
    expect(b.facts('u1', 'marketing.email').consent?.state).toBe('withdrawn');
    expect(b.facts('u1', 'diagnostics').objected).toBe(true);
    expect(b.facts('u7', 'anything').erased).toBe(true);
    expect(b.facts('u1', 'anything').erased).toBe(false);
    expect(b.history('u1')).toHaveLength(2);
  });

  it('group-commits concurrent writes: one batch per write in flight, every write acknowledged', async () => {
    const path = join(dir, 'consent.jsonl');
    const s = fileStore(path);
    await Promise.all(Array.from({ length: 50 }, (_, i) => s.setConsent(rec({ subject: `u${i}` }))));
    const text = readFileSync(path, 'utf8');
    // Each batch begins with the torn-line guard (an empty line): far fewer batches than writes.
    const batches = text.split('\n\n').length;
    expect(batches).toBeLessThan(50);
    expect(batches).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < 50; i++) expect(s.facts(`u${i}`, 'marketing.email').consent?.state).toBe('given');
  });

  it('skips a line torn by a crash, with a warning that never shows the content, and keeps later records', async () => {
    const path = join(dir, 'consent.jsonl');
    const first = fileStore(path);
    await first.setConsent(rec({ subject: 'before' }));
    await first.close();
    // A crash in the middle of a write: a fragment with no newline.
    appendFileSync(path, '\n{"v":1,"op":"consent","record":{"subject":"torn-secret-id","purp');
    const warnings: string[] = [];
    const s = fileStore(path, warnings);
    expect(s.facts('before', 'marketing.email').consent?.state).toBe('given');
    expect(warnings).toEqual([]); // a trailing fragment may be a write in progress: not read yet
    await s.setConsent(rec({ subject: 'after' }));
    expect(s.facts('after', 'marketing.email').consent?.state).toBe('given');
    expect(s.history('torn-secret-id')).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^PURPOSEKIT_WARN_CONSENT_STORE_TORN_LINE: .*skipped an unreadable line at byte \d+/);
    expect(warnings[0]).not.toContain('torn-secret-id');
    // And a restart reads the same state.
    const again = fileStore(path, []);
    expect(again.facts('after', 'marketing.email').consent?.state).toBe('given');
  });

  it('does not read another writer\'s line until its newline arrives', () => {
    const path = join(dir, 'consent.jsonl');
    writeFileSync(path, '');
    const s = fileStore(path);
    const line = JSON.stringify({ v: 1, op: 'consent', record: rec({ subject: 'slow' }) });
    appendFileSync(path, `\n${line.slice(0, 20)}`);
    expect(s.facts('slow', 'marketing.email')).toBe(NO_SUBJECT_FACTS);
    appendFileSync(path, `${line.slice(20)}\n`);
    expect(s.facts('slow', 'marketing.email').consent?.state).toBe('given');
  });

  it('two instances on one file see each other\'s writes on their next read', async () => {
    const path = join(dir, 'consent.jsonl');
    const a = fileStore(path);
    const b = fileStore(path);
    await a.setConsent(rec({ state: 'given' }));
    expect(b.facts('u1', 'marketing.email').consent?.state).toBe('given');
    await b.setConsent(rec({ state: 'withdrawn' }));
    expect(a.facts('u1', 'marketing.email').consent?.state).toBe('withdrawn');
    await Promise.all([a.setRestriction('u9', true), b.setObjection('u9', 'diagnostics', true)]);
    for (const s of [a, b]) expect(s.facts('u9', 'diagnostics')).toEqual({ consent: undefined, objected: true, restricted: true, erased: false });
    // Both agree on the order (file order), so the history is identical.
    expect(a.history('u1')).toEqual(b.history('u1'));
  });

  it('fails writes after close with PURPOSEKIT_ERR_FILE_ACCESS, and waits for queued writes first', async () => {
    const s = createFileConsentStore({ path: join(dir, 'c.jsonl') });
    const pending = s.setConsent(rec());
    await s.close();
    await expect(pending).resolves.toBeUndefined();
    await expect(s.setConsent(rec())).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_FILE_ACCESS' });
    expect(() => s.facts('u1', 'x')).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_FILE_ACCESS' }));
  });

  it('reports a file it cannot open with PURPOSEKIT_ERR_FILE_ACCESS and the system code', () => {
    writeFileSync(join(dir, 'not-a-dir'), '');
    expect(() => createFileConsentStore({ path: join(dir, 'not-a-dir', 'c.jsonl') })).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_FILE_ACCESS', details: expect.objectContaining({ code: expect.stringMatching(/^E/) }) }));
  });
});
