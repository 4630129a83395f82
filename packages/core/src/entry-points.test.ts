/**
 * Pins the names each entry point exports (values and types), so any change to the public
 * API shows up as a diff of `packages/core/api/exports.json` in review.
 * After an intended change: `npm run api:exports` (rewrites the file), then commit it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const FILE = path.join(__dirname, '../api/exports.json');
const ENTRIES = { '@purposekit/core': 'index.ts', '@purposekit/core/adapter': 'adapter.ts' } as const;

function exportedNames(): Record<string, { values: string[]; types: string[] }> {
  const files = Object.values(ENTRIES).map((f) => path.join(__dirname, f));
  const program = ts.createProgram(files, { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, noEmit: true, skipLibCheck: true, types: ['node'] });
  const checker = program.getTypeChecker();
  const out: Record<string, { values: string[]; types: string[] }> = {};
  for (const [entry, file] of Object.entries(ENTRIES)) {
    const source = program.getSourceFile(path.join(__dirname, file))!;
    const symbols = checker.getExportsOfModule(checker.getSymbolAtLocation(source)!);
    const values: string[] = [];
    const types: string[] = [];
    for (const s of symbols) {
      const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
      const typeOnly = s.declarations?.some((d) => ts.isTypeOnlyExportDeclaration(d) || (ts.isExportSpecifier(d) && (d.isTypeOnly || d.parent.parent.isTypeOnly))) ?? false;
      if (!typeOnly && target.flags & ts.SymbolFlags.Value) values.push(s.name);
      else types.push(s.name);
    }
    out[entry] = { values: values.sort(), types: types.sort() };
  }
  return out;
}

describe('entry points', () => {
  it('export exactly the names in api/exports.json', () => {
    const actual = `${JSON.stringify(exportedNames(), null, 2)}\n`;
    if (process.env['PURPOSEKIT_UPDATE_API'] === '1') writeFileSync(FILE, actual);
    expect(actual).toBe(readFileSync(FILE, 'utf8'));
  }, 60_000);

  it('the runtime modules export exactly the pinned values', () => {
    const pinned = JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, { values: string[] }>;
    expect(Object.keys(require('./index') as object).sort()).toEqual(pinned['@purposekit/core']!.values);
    expect(Object.keys(require('./adapter') as object).sort()).toEqual(pinned['@purposekit/core/adapter']!.values);
  });

  it('the package exports map and typesVersions name both entries', () => {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '../package.json'), 'utf8')) as { exports: Record<string, unknown>; typesVersions: Record<string, Record<string, string[]>> };
    expect(pkg.exports['./adapter']).toEqual({ types: './dist/adapter.d.ts', default: './dist/adapter.js' });
    expect(pkg.typesVersions['*']!['adapter']).toEqual(['./dist/adapter.d.ts']);
  });
});
