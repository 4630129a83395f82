import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WARNING_CATALOG, warningText } from './warnings';

const DOC = join(__dirname, '../../../docs/warnings.md');
const PACKAGES = join(__dirname, '../..');

/** Renders docs/warnings.md from the catalog (the single source of truth). */
function renderWarningsDoc(): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const rows = Object.entries(WARNING_CATALOG).map(([code, w]) => `| \`${code}\` | ${esc(w.message)} | ${esc(w.action)} | ${esc(w.when)} |`);
  return [
    '# Warning codes',
    '',
    'Warnings are for things that work but should be fixed, or that an operator should know',
    'happened. Each has a stable `code`: filter on it (`process.on(\'warning\', (w) => w.code …)`',
    'or in the `onWarning(message, code)` option of the factory that gives it), never on the',
    'message. A warning never carries a personal value.',
    '',
    'This file is generated from `packages/core/src/warnings.ts` by `npm run docs:warnings`;',
    'a test fails when the two differ. Errors are in [errors.md](errors.md).',
    '',
    '| code | what | what to do | when, and through which channel |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

/** Every .ts source file (not tests, not build output) of every package. */
function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name === '__tests__') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

describe('warning catalog', () => {
  it('docs/warnings.md matches the catalog', () => {
    const expected = renderWarningsDoc();
    if (process.env['PURPOSEKIT_UPDATE_DOCS'] === '1') writeFileSync(DOC, expected);
    expect(readFileSync(DOC, 'utf8')).toBe(expected);
  });

  it.each(Object.entries(WARNING_CATALOG))('%s has a PURPOSEKIT_WARN_ code, a message, an action and a channel', (code, w) => {
    expect(code).toMatch(/^PURPOSEKIT_WARN_[A-Z0-9_]+$/);
    for (const text of [w.message, w.action, w.when]) expect(text.length).toBeGreaterThan(20);
    expect(w.message).toMatch(/\.$/);
    expect(w.action).toMatch(/\.$/);
  });

  it('every PURPOSEKIT_WARN_ code the packages use is in the catalog', () => {
    const used = new Set<string>();
    for (const file of sources(PACKAGES)) {
      for (const m of readFileSync(file, 'utf8').matchAll(/PURPOSEKIT_WARN_[A-Z0-9_]+/g)) used.add(m[0]);
    }
    expect(used.size).toBeGreaterThan(0);
    expect([...used].filter((c) => !(c in WARNING_CATALOG)).sort()).toEqual([]);
  });

  it('warningText names the subject, then says what is wrong and what to do', () => {
    expect(warningText('PURPOSEKIT_WARN_TRUST_ALL_PROXIES', 'Koa "app.proxy"')).toBe(
      `Koa "app.proxy": ${WARNING_CATALOG.PURPOSEKIT_WARN_TRUST_ALL_PROXIES.message} ${WARNING_CATALOG.PURPOSEKIT_WARN_TRUST_ALL_PROXIES.action}`,
    );
  });
});
