import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPurposekit, openinfra } from '@purposekit/core';
import type { Policy } from '@purposekit/core';
import type { Art30Policy, Art30Purpose } from '../src/policy/art30';
import { buildRopa } from '../src/ropa/build-ropa';
import { ropaHtml } from '../src/ropa/render-ropa-html';
import { ropaMarkdown } from '../src/ropa/render-ropa-md';
import { declarePurpose } from '@purposekit/core/adapter';
import { cli } from './support';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'officer-ropa-'));
  // The route table as a running app exports it: the engine's own describeRoutes().
  const kit = createPurposekit({ policy: openinfra, audit: { append: async () => undefined, flush: async () => undefined, close: async () => undefined }, subjectKey: { id: 'k1', secret: 'r'.repeat(32) } });
  declarePurpose(kit, 'service.registration', { method: 'POST', path: '/members', data: ['name', 'email', 'employer'] });
  declarePurpose(kit, 'marketing.email', { method: 'POST', path: '/newsletter', data: ['email', 'name'] });
  // diagnostics may not touch the email address: flagged.
  declarePurpose(kit, 'diagnostics', { method: 'GET', path: '/status', data: ['ip-address', 'email'] });
  writeFileSync(join(work, 'routes.json'), JSON.stringify(kit.describeRoutes()));
  writeFileSync(join(work, 'stale-routes.json'), JSON.stringify([...kit.describeRoutes(), { method: 'GET', path: '/ads', purpose: 'advertising', categories: ['cookie-id'] }]));
  writeFileSync(join(work, 'bad-routes.json'), JSON.stringify([{ method: 'GET', path: '/x' }]));
});

describe('purposekit ropa', () => {
  it('lists each purpose with its declared routes and flags a route touching data its purpose does not allow', async () => {
    const ran = await cli(['ropa', 'openinfra', '--routes', 'routes.json'], work);
    expect(ran).toMatchObject({ code: 0, stderr: '' });
    expect(ran.stdout).toContain('and the 3 routes the application declared');
    expect(ran.stdout).toMatch(/### 2\. `service\.registration`[\s\S]*?\| Routes declaring it \| `POST \/members` \(email, employer, name\) \|/);
    expect(ran.stdout).toMatch(/### 7\. `diagnostics`[\s\S]*?\| Routes declaring it \| `GET \/status` \(email, ip-address\) \*\*FLAGGED: touches email, not allowed for this purpose\*\* \|/);
    expect(ran.stdout).toMatch(/### 1\. `service\.provision`[\s\S]*?\| Routes declaring it \| none \|/);
    expect(ran.stdout).toContain('3 routes declared, 1 flagged.');
  });

  it('flags a route whose purpose the policy does not have', async () => {
    const ran = await cli(['ropa', 'openinfra', '--routes', 'stale-routes.json', '--format', 'json'], work);
    const r = JSON.parse(ran.stdout);
    expect(r.routes).toEqual({ given: true, total: 4, flagged: 2, unknownPurpose: [{ method: 'GET', path: '/ads', purpose: 'advertising', categories: ['cookie-id'], outside: ['cookie-id'] }] });
    expect(r.activities.find((a: { purpose: string }) => a.purpose === 'diagnostics').routes).toEqual([{ method: 'GET', path: '/status', categories: ['email', 'ip-address'], outside: ['email'] }]);
  });

  it.each([
    [['ropa', 'openinfra', '--routes', 'bad-routes.json'], /^PURPOSEKIT_ERR_INVALID_OPTION: ropa --routes bad-routes\.json: entry 0: "purpose" must be a string/],
    [['ropa', 'openinfra', '--routes', 'missing.json'], /^PURPOSEKIT_ERR_FILE_ACCESS: Cannot read .*missing\.json \(ENOENT\)/],
    [['ropa', 'openinfra', '--format', 'pdf'], /^PURPOSEKIT_ERR_INVALID_OPTION: ropa: --format must be md, json or html/],
    [['ropa', 'nosuchpreset'], /^PURPOSEKIT_ERR_POLICY_LOAD: /],
  ])('%j fails with exit 2', async (argv, message) => {
    const ran = await cli(argv, work);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(message);
  });

  it('writes a self-contained HTML page with --output, and never overwrites', async () => {
    const first = await cli(['ropa', 'openinfra', '--routes', 'routes.json', '--format', 'html', '--output', 'ropa.html'], work);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    const page = readFileSync(join(work, 'ropa.html'), 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).not.toMatch(/<script|<link|src="http|href="http/i);
    expect(page).toContain('<span data-metric="activities">12</span>');
    expect(page).toContain('<span data-metric="routes.flagged">1</span>');
    const again = await cli(['ropa', 'openinfra', '--format', 'html', '--output', 'ropa.html'], work);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists; refusing to overwrite it/);
  });
});

describe('the Art. 30 fields (issue 13 contract), when the policy states them', () => {
  const purposes = openinfra.purposes as Record<string, Art30Purpose>;
  const withArt30 = {
    ...openinfra,
    controller: { name: 'OpenInfra Foundation', contact: 'privacy@openinfra.dev', address: 'Austin, Texas', dpo: 'dpo@openinfra.dev' },
    security: ['Access to member data is limited to staff who need it.'],
    recipients: { 'email-service-provider': { name: 'Mail Co', role: 'processor', country: 'US', consentRequired: false, source: undefined } },
    purposes: {
      ...purposes,
      'marketing.email': {
        ...purposes['marketing.email']!,
        sources: ['data-subject'],
        subjects: ['newsletter subscribers'],
        transfers: [{ to: 'email-service-provider', country: 'US', mechanism: 'eu-us-dpf', source: undefined }],
        retentionRule: { duration: 'P2Y', from: 'withdrawal', onExpiry: 'erase', holds: ['litigation'], source: undefined },
        rights: { access: { applies: true, exceptions: [] }, portability: { applies: false, exceptions: [] }, erasure: { applies: true, exceptions: [{ reason: 'proof of consent', source: 'we keep a record of your consent' }] } },
        survivesErasure: false,
      },
      diagnostics: { ...purposes['diagnostics']!, retentionRule: { duration: 'as-long-as-necessary', from: 'collection', onExpiry: 'erase', holds: [], source: undefined } },
    },
  } as unknown as Art30Policy;

  it('renders controller, subjects, sources, recipients with role and country, transfers with their safeguard, retention rule, rights and security', () => {
    const text = ropaMarkdown(buildRopa(withArt30 as Policy));
    expect(text).toContain('| Name | OpenInfra Foundation |\n| Contact | privacy@openinfra.dev |\n| Address | Austin, Texas |\n| Data protection officer | dpo@openinfra.dev |\n| Representative | *not stated in the policy* |');
    const m = text.split('\n### ').find((section) => section.startsWith('4. `marketing.email`'))!;
    expect(m).toContain('| Categories of data subjects | newsletter subscribers |');
    expect(m).toContain('| Where the data comes from | data-subject |');
    expect(m).toContain('| Recipients | Mail Co (processor, US) |');
    expect(m).toContain('| Transfers to third countries | Mail Co in US: EU-U.S. Data Privacy Framework (adequacy decision, GDPR Art. 45) |');
    expect(m).toContain('| Retention | 2 years (P2Y), from the withdrawal of consent, then erased; kept longer under: litigation |');
    expect(m).toContain('| Rights | access, erasure; not applying: portability |');
    expect(m).toContain('| Exception to erasure | proof of consent (“we keep a record of your consent”) |');
    expect(text).toContain('## Security measures\n\n- Access to member data is limited to staff who need it.');
    expect(text).toContain('| Mail Co | processor | US |');
    // No clock and no expiry action for a retention that is not a duration.
    expect(text).toMatch(/\| 7 \| `diagnostics` \| legitimate-interests \| device-info, ip-address \| as long as necessary \|/);
  });

  it('escapes what the policy says in HTML and Markdown', () => {
    const hostile = { ...withArt30, controller: { name: '<img src=x onerror=alert(1)>', contact: 'a|b\nc' } } as unknown as Policy;
    const page = ropaHtml(buildRopa(hostile));
    expect(page).not.toContain('<img');
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(ropaMarkdown(buildRopa(hostile))).toContain('| Contact | a\\|b c |');
  });
});
