/**
 * Every `purposekit …` command printed in the README's shell blocks works when pasted:
 * run in order, in a fresh directory holding what the README assumes (keys from its own
 * first command, a trail written by the real file sink about `user-42`, a policy.yaml and
 * a routes.json from `kit.describeRoutes()`).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileAuditSink, createPurposekit, getPrivacyContext, openinfra, parseSubjectKey } from '@purposekit/core';
import { declarePurpose } from '@purposekit/core/adapter';
import { cli } from './support';

const README = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
const commands = [...README.matchAll(/```sh\n([\s\S]*?)```/g)]
  .flatMap((m) => m[1]!.split('\n'))
  .map((l) => l.replace(/\s+#.*$/, '').trim())
  .filter((l) => l.startsWith('purposekit '));

let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'officer-readme-'));
  expect(commands[0]).toBe('purposekit keys generate --out-dir ./keys');
  expect((await cli(commands[0]!.split(' ').slice(1), work)).code).toBe(0);
  const audit = await createFileAuditSink({ dir: join(work, 'audit'), signingKey: readFileSync(join(work, 'keys', 'audit-signing.key.pem'), 'utf8') });
  const kit = createPurposekit({ policy: openinfra, audit, subjectKey: parseSubjectKey(readFileSync(join(work, 'keys', 'subject-hmac.key.json'), 'utf8')) });
  declarePurpose(kit, 'marketing.email', { method: 'POST', path: '/newsletter', data: ['name', 'email'] });
  await kit.runAs({ purpose: 'marketing.email', actor: 'newsletter-job', subject: 'user-42' }, async () => {
    await kit.record('consent', undefined, { subject: 'user-42', actor: 'data-subject', attributes: { state: 'given', type: 'explicit', source: 'form' } });
    // No consent in the (in-memory) store: a denial, recorded like any decision.
    await expect(getPrivacyContext()!.access({ data: ['email'], action: 'read' })).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_ACCESS_DENIED' });
  });
  await kit.runAs({ purpose: 'service.provision', actor: 'web', subject: 'user-42' }, () => getPrivacyContext()!.access({ data: ['usage-data'], action: 'read' }));
  await kit.record('rights', undefined, { subject: 'user-42', actor: 'data-subject', purpose: 'rights-fulfilment', attributes: { right: 'access', status: 'received', due: '2026-01-31T00:00:00.000Z' } });
  await kit.close();
  writeFileSync(join(work, 'routes.json'), JSON.stringify(kit.describeRoutes()));
  writeFileSync(join(work, 'policy.yaml'), 'id: shop\nversion: "1"\njurisdictions: [EU]\npurposes:\n  service.provision:\n    basis: contract\n    data: [email]\n  rights-fulfilment:\n    basis: legal-obligation\n    data: [email]\n');
});

it('the README prints at least the commands of every section', () => {
  for (const c of ['keys generate', 'audit verify', 'audit report', 'audit export', 'audit stats', 'policy check', 'policy show', 'ropa']) {
    expect(commands.some((l) => l.startsWith(`purposekit ${c} `))).toBe(true);
  }
});

it.each(commands.slice(1).map((c) => [c]))('%s', async (command) => {
  const ran = await cli(command.split(' ').slice(1), work);
  expect(ran.stderr).toBe('');
  expect(ran.code).toBe(0);
  const output = /--(?:output|html) (\S+)/.exec(command)?.[1];
  if (output !== undefined) expect(existsSync(join(work, output))).toBe(true);
});
