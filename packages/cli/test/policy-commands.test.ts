import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openinfra } from '@purposekit/core';
import { cli } from './support';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'officer-policy-'));
  writeFileSync(
    join(work, 'bad.yaml'),
    [
      'id: shop',
      'version: "1"',
      'jurisdictions: [EU]',
      'purposes:',
      '  analytics:',
      '    basis: consnet',
      '    data: [usage-data, shoe-size]',
      '  marketing.email:',
      '    basis: consent',
      '    data: [email]',
      '    ageGate: kids',
      '    retension: P1Y',
      '',
    ].join('\n'),
  );
  writeFileSync(join(work, 'good.json'), JSON.stringify({ id: 'shop', version: '1', jurisdictions: ['EU'], purposes: { analytics: { basis: 'consent', consentType: 'implied', data: ['usage-data'] } }, rights: { honoured: [] } }));
  writeFileSync(join(work, 'broken.yaml'), 'id: shop\npurposes: [\n');
  writeFileSync(join(work, 'policy.ts'), 'export default {}\n');
});

describe('policy check', () => {
  it('lists every problem with its path and hint, exit 1', async () => {
    const ran = await cli(['policy', 'check', 'bad.yaml'], work);
    expect(ran.code).toBe(1);
    const lines = ran.stdout.split('\n');
    expect(lines[0]).toBe('INVALID bad.yaml: 4 problems.');
    const paths = lines.filter((l) => l.startsWith('  error ')).map((l) => /^ {2}error (\S+):/.exec(l)![1]);
    expect(paths.sort()).toEqual(['purposes.analytics.basis', 'purposes.analytics.data[1]', 'purposes["marketing.email"].ageGate', 'purposes["marketing.email"].retension'].sort());
    expect(ran.stdout).toMatch(/Did you mean "consent"\?/);
    expect(ran.stdout).toMatch(/\n {6}hint: /);
  });

  it('--json gives the same problems as data', async () => {
    const ran = await cli(['policy', 'check', 'bad.yaml', '--json'], work);
    expect(ran.code).toBe(1);
    const r = JSON.parse(ran.stdout);
    expect(r.valid).toBe(false);
    expect(r.errors).toHaveLength(4);
    expect(r.errors[0]).toEqual(expect.objectContaining({ path: expect.any(String), rule: expect.any(String), message: expect.any(String) }));
  });

  it('accepts a valid file, exit 0, and lists its warnings', async () => {
    const ran = await cli(['policy', 'check', 'good.json'], work);
    expect(ran).toMatchObject({ code: 0, stderr: '' });
    expect(ran.stdout).toMatch(/^OK good\.json: policy shop 1, 1 purpose, 0 age gates, 1 warning\.\n {2}warning purposes\.analytics\.consentType: .*implied/);
  });

  it.each([
    ['broken.yaml', /^PURPOSEKIT_ERR_POLICY_LOAD: Policy ".*broken\.yaml" is not valid YAML/],
    ['missing.json', /^PURPOSEKIT_ERR_POLICY_LOAD: Cannot read policy/],
    ['policy.ts', /^PURPOSEKIT_ERR_POLICY_LOAD: .*must end in \.json, \.yaml or \.yml/],
  ])('exit 2 for %s', async (file, message) => {
    const ran = await cli(['policy', 'check', file], work);
    expect(ran.code).toBe(2);
    expect(ran.stdout).toBe('');
    expect(ran.stderr).toMatch(message);
  });
});

describe('policy show', () => {
  it('explains a preset as tables', async () => {
    const ran = await cli(['policy', 'show', 'openinfra'], work);
    expect(ran).toMatchObject({ code: 0, stderr: '' });
    expect(ran.stdout).toMatch(/^purpose +basis +data categories +retention +recipients +age gate +opt-outs$/m);
    expect(ran.stdout).toMatch(/^marketing\.email +consent \(explicit\) +email, name +as-long-as-necessary +email-service-provider +any-collection +GPC, objection$/m);
    expect(ran.stdout).toMatch(/^registration +18 /m);
    expect(ran.stdout).toContain('Answer within: P1M');
  });

  it('--json lists every purpose of the policy with its categories', async () => {
    const ran = await cli(['policy', 'show', 'openinfra', '--json'], work);
    const v = JSON.parse(ran.stdout);
    expect(v.purposes.map((p: { id: string }) => p.id)).toEqual(Object.keys(openinfra.purposes));
    for (const p of v.purposes) expect(p.categories).toEqual([...openinfra.purposes[p.id]!.data].sort());
    expect(v.ageGates.map((g: { name: string; minimumAge: number }) => [g.name, g.minimumAge])).toEqual([['registration', 18], ['any-collection', 13]]);
  });

  it('reads a file, and an invalid one fails with every problem (exit 2)', async () => {
    expect((await cli(['policy', 'show', 'good.json'], work)).stdout).toMatch(/^analytics +consent \(implied\) +usage-data/m);
    const bad = await cli(['policy', 'show', 'bad.yaml'], work);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^PURPOSEKIT_ERR_POLICY_INVALID: The privacy policy is invalid \(4 problems\)/);
  });
});
