import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bitnami, coreos, kubevirt, openinfra } from './index';
import type { Policy } from '../policy/types';

/**
 * Every rule of a preset quotes the sentence of its seed policy it comes from. The seeds
 * are kept beside this test (copies of ../shared/seeds, the project's source texts), and
 * each quote must appear in its seed — verbatim up to whitespace, quote marks, markdown
 * emphasis and case; "…" or "..." marks an omission between fragments.
 */
const SEEDS: Array<[Policy, string]> = [
  [coreos, '000_3dd571abc78bbe1d.txt'],
  [bitnami, '001_f23911866d7fad4d.txt'],
  [kubevirt, '002_1c446e74c6623011.txt'],
  [openinfra, '003_593805a1e95fc536.txt'],
];

const normalise = (t: string): string =>
  t
    .replace(/\*\*|__/g, '')
    .replace(/[“”„"]/g, '"')
    .replace(/[‘’`']/g, "'")
    .replace(/\s+/g, ' ')
    .toLowerCase()
    .trim();

describe.each(SEEDS)('preset %#: every source quote is in its seed', (policy, file) => {
  const seed = normalise(readFileSync(join(__dirname, '__tests__/seeds', file), 'utf8'));
  const quotes = [
    ...Object.values(policy.purposes).map((r) => [`purposes.${r.id}`, r.source] as const),
    ...Object.values(policy.ageGates).map((g) => [`ageGates.${g.name}`, g.source] as const),
  ];
  it.each(quotes)('%s', (_where, source) => {
    expect(typeof source).toBe('string');
    const missing = normalise(source!)
      .split(/\s*(?:…|\.\.\.)\s*/)
      .map((f) => f.replace(/^[\s:;,.]+|[\s:;,.]+$/g, ''))
      .filter((f) => f.length > 0 && !seed.includes(f));
    expect(missing).toEqual([]);
  });
});
