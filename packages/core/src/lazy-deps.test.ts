/** `yaml` is loaded for YAML policies only: a service on a preset or a JSON policy never loads it. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REGISTER = join(__dirname, '../../../tools/test-support/register-ts.cjs');

test('requiring the core and loading a JSON policy does not load yaml; a YAML policy does', () => {
  const dir = mkdtempSync(join(tmpdir(), 'adoption-lazy-'));
  const policy = { id: 'p', version: '1', jurisdictions: ['EU'], purposes: { diagnostics: { basis: 'legitimate-interests', data: ['ip-address'] } }, rights: { honoured: [] } };
  writeFileSync(join(dir, 'p.json'), JSON.stringify(policy));
  writeFileSync(join(dir, 'p.yaml'), 'id: p\nversion: "1"\njurisdictions: [EU]\npurposes:\n  diagnostics: { basis: legitimate-interests, data: [ip-address] }\nrights: { honoured: [] }\n');
  const script = `
    const yamlLoaded = () => Object.keys(require.cache).some((f) => /[\\\\/]node_modules[\\\\/]yaml[\\\\/]/.test(f));
    const core = require('@purposekit/core');
    const out = [yamlLoaded()];
    core.loadPolicy(${JSON.stringify(join(dir, 'p.json'))});
    out.push(yamlLoaded());
    core.loadPolicy(${JSON.stringify(join(dir, 'p.yaml'))});
    out.push(yamlLoaded());
    process.stdout.write(JSON.stringify(out));`;
  const out = execFileSync(process.execPath, ['-r', REGISTER, '-e', script], { encoding: 'utf8' });
  expect(JSON.parse(out)).toEqual([false, false, true]);
});
