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

const missingFrom = (seed: string, quote: string): string[] =>
  normalise(quote)
    .split(/\s*(?:…|\.\.\.)\s*/)
    .map((f) => f.replace(/^[\s:;,.]+|[\s:;,.]+$/g, ''))
    .filter((f) => f.length > 0 && !seed.includes(f));

describe.each(SEEDS)('preset %#: every source quote is in its seed', (policy, file) => {
  const seed = normalise(readFileSync(join(__dirname, '__tests__/seeds', file), 'utf8'));
  const quotes = [
    ...Object.values(policy.purposes).map((r) => [`purposes.${r.id}`, r.source] as const),
    ...Object.values(policy.ageGates).map((g) => [`ageGates.${g.name}`, g.source] as const),
    ...Object.values(policy.purposes).flatMap((r) => [
      ...(r.retentionRule?.source !== undefined ? [[`purposes.${r.id}.retention`, r.retentionRule.source] as const] : []),
      ...r.transfers.map((t, i) => [`purposes.${r.id}.transfers[${i}]`, t.source] as const),
      ...Object.entries(r.rights).flatMap(([right, rule]) => rule.exceptions.map((e, i) => [`purposes.${r.id}.rights.${right}.exceptions[${i}]`, e.source] as const)),
    ]),
    ...Object.entries(policy.recipients).filter(([name]) => name !== 'public').map(([name, r]) => [`recipients.${name}`, r.source] as const),
    ...policy.security.map((m, i) => [`security[${i}]`, m] as const),
  ];
  it.each(quotes)('%s', (_where, source) => {
    expect(typeof source).toBe('string');
    expect(missingFrom(seed, source!)).toEqual([]);
  });
});

/**
 * docs/presets/<preset>.md lists every sentence of the seed that binds processing: each
 * table row whose first cell is a quote ("…") must be in the seed, like the presets' own.
 */
describe.each(SEEDS)('docs/presets for preset %#: every quoted sentence is in its seed', (policy, file) => {
  const seed = normalise(readFileSync(join(__dirname, '__tests__/seeds', file), 'utf8'));
  const doc = readFileSync(join(__dirname, '../../../../docs/presets', `${policy.id}.md`), 'utf8');
  const quotes = doc
    .split('\n')
    .filter((l) => l.startsWith('| "'))
    .map((l) => l.slice(2, l.indexOf('" |') + 1));
  it('lists sentences', () => {
    expect(quotes.length).toBeGreaterThan(10);
  });
  it.each(quotes.map((q, i) => [i + 1, q] as const))('quote %i', (_n, quote) => {
    expect(quote.endsWith('"')).toBe(true);
    expect(missingFrom(seed, quote.slice(1, -1))).toEqual([]);
  });
});
