import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPurposekitError } from '../errors';
import { loadPolicy } from './load-policy';

const dir = mkdtempSync(join(tmpdir(), 'pk-policy-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return isPurposekitError(e) ? e.code : `not a purposekit error: ${String(e)}`;
  }
  return 'no error';
};

describe('loadPolicy', () => {
  it('loads YAML', () => {
    const p = loadPolicy(file('ok.yaml', 'id: demo\nversion: "1"\njurisdictions: [US]\npurposes:\n  diagnostics:\n    basis: legitimate-interests\n    data: [ip-address]\n    retention: P30D\n'));
    expect(p.purposes['diagnostics']!.basis).toBe('legitimate-interests');
  });

  it('loads JSON', () => {
    const p = loadPolicy(file('ok.json', JSON.stringify({ id: 'demo', version: '1', jurisdictions: ['US'], purposes: { security: { basis: 'legitimate-interests', data: ['ip-address'] } } })));
    expect(Object.keys(p.purposes)).toEqual(['security']);
  });

  it.each([
    ['a missing file', () => loadPolicy(join(dir, 'nope.yaml')), 'PURPOSEKIT_ERR_POLICY_LOAD'],
    ['an unsupported extension', () => loadPolicy(file('p.toml', 'id = 1')), 'PURPOSEKIT_ERR_POLICY_LOAD'],
    ['broken YAML', () => loadPolicy(file('bad.yaml', 'id: [unclosed\n')), 'PURPOSEKIT_ERR_POLICY_LOAD'],
    ['broken JSON', () => loadPolicy(file('bad.json', '{"id": ')), 'PURPOSEKIT_ERR_POLICY_LOAD'],
    ['a YAML alias bomb', () => loadPolicy(file('bomb.yaml', `a: &a [x,x,x,x,x,x,x,x,x,x]\n${Array.from({ length: 12 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`).join('\n')}\n`)), 'PURPOSEKIT_ERR_POLICY_LOAD'],
    ['a file that parses but is invalid', () => loadPolicy(file('invalid.yaml', 'id: demo\nversion: "1"\njurisdictions: [US]\npurposes: {}\n')), 'PURPOSEKIT_ERR_POLICY_INVALID'],
    ['a file that is not an object', () => loadPolicy(file('list.yaml', '- a\n- b\n')), 'PURPOSEKIT_ERR_POLICY_INVALID'],
  ])('rejects %s with a typed error', (_name, fn, code) => {
    expect(codeOf(fn)).toBe(code);
  });
});
