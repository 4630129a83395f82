/**
 * The generated pages in a real browser: Debian's Chromium, headless, driven by
 * playwright-core. For each page: the visible text (headings, counts, the overdue mark),
 * no network request other than the file itself, no console error, no serious or
 * critical axe-core violation; a screenshot under packages/cli/test-output/ (git-ignored).
 *
 * In CI (CI=true) Chromium must be there (.ci/run installs it) and this never skips;
 * elsewhere it skips with a message when /usr/bin/chromium is missing.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { createPurposekit, kubevirt } from '@purposekit/core';
import { declarePurpose } from '@purposekit/core/adapter';
import { cli } from './support';

const CHROMIUM = '/usr/bin/chromium';
const CI = process.env['CI'] === 'true';
const available = existsSync(CHROMIUM);
const OUTPUT = join(__dirname, '..', 'test-output', 'screenshots');
const FIXTURES = join(__dirname, 'fixtures', 'app-trails');
const AT = '2027-02-01T00:00:00.000Z';
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

if (!available && !CI) {
  console.warn(`browser checks skipped: ${CHROMIUM} is missing (apt-get install -y chromium). In CI they never skip.`);
}
const describeBrowser = available || CI ? describe : describe.skip;
jest.setTimeout(90_000);

let work: string;
let profile: string;
let context: BrowserContext;
const pages: Record<string, string> = {};
let reportJson: { records: number; decisions: { allow: number; deny: number }; rights: { requests: number; overdue: number }; ageGate: { refusals: number }; consent: { changes: number } };
let subjectEntries: number;

describeBrowser('generated pages in Chromium', () => {
  beforeAll(async () => {
    if (!available) throw new Error(`CI=true but ${CHROMIUM} is missing: .ci/run installs it with apt-get install -y chromium.`);
    work = mkdtempSync(join(tmpdir(), 'officer-browser-'));
    mkdirSync(OUTPUT, { recursive: true });
    const trail = join(FIXTURES, 'kubevirt', 'audit');
    // The trail report, and its JSON over the same trail.
    const report = await cli(['audit', 'report', trail, '--json', '--html', join(work, 'report.html'), '--at', AT], work);
    expect(report.code).toBe(0);
    reportJson = JSON.parse(report.stdout);
    pages['report'] = join(work, 'report.html');
    // One person's timeline (the KubeVirt e2e user who consented, withdrew and erased).
    const lines = readFileSync(join(trail, 'audit-00000001.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; subject?: string });
    const subject = lines.find((r) => r.kind === 'consent')!.subject!;
    subjectEntries = lines.filter((r) => r.subject === subject).length;
    expect((await cli(['audit', 'report', trail, '--subject', subject, '--html', join(work, 'subject.html'), '--at', AT], work)).code).toBe(0);
    pages['subject'] = join(work, 'subject.html');
    // The record of processing, with the routes an engine recorded (one flagged).
    const kit = createPurposekit({ policy: kubevirt, audit: { append: async () => undefined, flush: async () => undefined, close: async () => undefined }, subjectKey: { id: 'k1', secret: 'r'.repeat(32) } });
    declarePurpose(kit, 'service.registration', { method: 'POST', path: '/accounts', data: ['name', 'email', 'username'] });
    declarePurpose(kit, 'diagnostics', { method: 'GET', path: '/status', data: ['ip-address', 'email'] });
    writeFileSync(join(work, 'routes.json'), JSON.stringify(kit.describeRoutes()));
    expect((await cli(['ropa', 'kubevirt', '--routes', 'routes.json', '--format', 'html', '--output', 'ropa.html'], work)).code).toBe(0);
    pages['ropa'] = join(work, 'ropa.html');

    profile = mkdtempSync(join(tmpdir(), 'officer-chromium-profile-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1100, height: 900 },
    });
  });

  afterAll(async () => {
    await context?.close();
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
  });

  /** Opens a page, counting requests other than the file and console errors; runs axe; saves a screenshot. */
  async function open(name: string): Promise<{ page: Page; requests: string[]; errors: string[]; serious: string[] }> {
    const file = pathToFileURL(pages[name]!).href;
    const page = await context.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.route('**/*', async (route) => {
      if (route.request().url() === file) return route.continue();
      requests.push(route.request().url());
      return route.abort();
    });
    await page.goto(file, { waitUntil: 'load' });
    await page.screenshot({ path: join(OUTPUT, `${name}.png`), fullPage: true });
    // axe runs through the DevTools protocol, so the page's CSP (no script at all) stays on.
    await page.evaluate(AXE);
    const violations = await page.evaluate(async () => {
      const axe = (globalThis as unknown as { axe: { run: (c: unknown, o: unknown) => Promise<{ violations: Array<{ id: string; impact: string | null; nodes: unknown[] }> }> } }).axe;
      return (await axe.run((globalThis as unknown as { document: unknown }).document, { resultTypes: ['violations'] })).violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
    });
    const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}, ${v.nodes} nodes)`);
    return { page, requests, errors, serious };
  }

  const metric = async (page: Page, name: string): Promise<number> => Number(await page.locator(`[data-metric="${name}"]`).innerText());

  it('the trail report shows the same numbers as --json, the overdue mark, and is clean', async () => {
    const { page, requests, errors, serious } = await open('report');
    expect(await page.locator('h1').innerText()).toBe('Audit trail report');
    expect(await page.locator('h2').allInnerTexts()).toEqual(['At a glance', 'Decisions per purpose over time', 'Denials by reason', 'Consent changes', 'Age-gate refusals', 'Rights requests']);
    expect(await metric(page, 'records')).toBe(reportJson.records);
    expect(await metric(page, 'decisions.allow')).toBe(reportJson.decisions.allow);
    expect(await metric(page, 'decisions.deny')).toBe(reportJson.decisions.deny);
    expect(await metric(page, 'consent.changes')).toBe(reportJson.consent.changes);
    expect(await metric(page, 'ageGate.refusals')).toBe(reportJson.ageGate.refusals);
    expect(await metric(page, 'rights.requests')).toBe(reportJson.rights.requests);
    expect(await metric(page, 'rights.overdue')).toBe(reportJson.rights.overdue);
    expect(reportJson.rights.overdue).toBeGreaterThan(0);
    const overdue = page.getByText('OVERDUE', { exact: true });
    expect(await overdue.count()).toBe(reportJson.rights.overdue);
    expect(await overdue.first().isVisible()).toBe(true);
    expect(await page.locator('figure svg[role="img"]').isVisible()).toBe(true);
    expect({ requests, errors, serious }).toEqual({ requests: [], errors: [], serious: [] });
  });

  it('the subject timeline speaks plainly to the person, and is clean', async () => {
    const { page, requests, errors, serious } = await open('subject');
    expect(await page.locator('h1').innerText()).toBe('Your personal data: what happened');
    expect(await page.locator('ol.timeline > li').count()).toBe(subjectEntries);
    expect(await metric(page, 'entries')).toBe(subjectEntries);
    const items = await page.locator('ol.timeline > li').allInnerTexts();
    expect(items.some((t) => /^\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d — you withdrew consent for statistics on how the site is used$/.test(t))).toBe(true);
    expect(items.some((t) => / — the organisation collected your usage of the site and IP address for statistics on how the site is used \(consent\): not allowed, because you withdrew consent$/.test(t))).toBe(true);
    expect({ requests, errors, serious }).toEqual({ requests: [], errors: [], serious: [] });
  });

  it('the record of processing lists the activities and flags the route, and is clean', async () => {
    const { page, requests, errors, serious } = await open('ropa');
    expect(await page.locator('h1').innerText()).toBe('Record of processing activities');
    expect(await metric(page, 'activities')).toBe(Object.keys(kubevirt.purposes).length);
    expect(await metric(page, 'routes.flagged')).toBe(1);
    const flagged = page.locator('ul.routes li', { hasText: 'FLAGGED' });
    expect(await flagged.count()).toBe(1);
    expect(await flagged.innerText()).toMatch(/^GET \/status email, ip-address FLAGGED touches email, not allowed for this purpose$/);
    expect(await page.getByText('not stated in the policy').first().isVisible()).toBe(true);
    expect({ requests, errors, serious }).toEqual({ requests: [], errors: [], serious: [] });
  });

  it('a page that fetches or lacks alt text is caught (the checks can fail)', async () => {
    writeFileSync(join(work, 'leaky.html'), '<!doctype html><html lang="en"><head><title>x</title></head><body><main><h1>x</h1><img src="https://example.org/pixel.png"></main></body></html>');
    pages['leaky'] = join(work, 'leaky.html');
    const { requests, errors, serious } = await open('leaky');
    expect(requests).toEqual(['https://example.org/pixel.png']);
    expect(errors.length).toBeGreaterThan(0);
    expect(serious).toEqual([expect.stringMatching(/^image-alt \(critical, 1 nodes\)$/)]);
  });
});
