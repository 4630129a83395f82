/** The terminal tables over a real app trail: rights and consent rows say what happened; pseudonyms are shortened. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from './support';

const FIXTURES = join(__dirname, 'fixtures', 'app-trails');
const trail = join(FIXTURES, 'kubevirt', 'audit');
const records = readFileSync(join(trail, 'audit-00000001.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; subject?: string });
const subject = records.find((r) => r.kind === 'consent')!.subject!;

describe('audit report --subject (terminal)', () => {
  it('shows the right and its status on rights rows, the state on consent rows', async () => {
    const ran = await cli(['audit', 'report', trail, '--subject', subject], FIXTURES);
    expect(ran).toMatchObject({ code: 0, stderr: '' });
    const rows = ran.stdout.split('\n');
    const row = (kind: string, action: string) => rows.filter((l) => new RegExp(`^\\S+ \\S+ +\\S+ +${kind} +${action} `).test(l));
    expect(row('rights', 'withdraw-consent').map((l) => / (received, due \d{4}-\d\d-\d\d|completed) /.exec(l)?.[1])).toEqual([expect.stringMatching(/^received, due 20\d\d-\d\d-\d\d$/), 'completed']);
    expect(row('consent', 'consent').map((l) => / consent +(given|withdrawn) /.exec(l)?.[1])).toEqual(['given', 'withdrawn']);
    expect(ran.stdout).not.toMatch(/ rights +- /);
  });

  it('keeps the whole pseudonym in --json', async () => {
    const ran = await cli(['audit', 'report', trail, '--subject', subject, '--json'], FIXTURES);
    expect(JSON.parse(ran.stdout).entries.every((e: { subject: string }) => e.subject === subject)).toBe(true);
  });
});

describe('tables shorten pseudonyms', () => {
  const [, keyId, hex] = /^hmac-sha256:([^:]+):([0-9a-f]{64})$/.exec(subject)!;
  it.each([
    ['rights due', ['rights', 'due', trail, '--at', '2027-02-01T00:00:00Z']],
    ['audit report (trail)', ['audit', 'report', trail, '--at', '2027-02-01T00:00:00Z']],
  ])('%s', async (_name, argv) => {
    const ran = await cli(argv, FIXTURES);
    expect(ran.code).toBe(0);
    expect(ran.stdout).not.toMatch(/hmac-sha256:/);
    expect(ran.stdout).not.toContain(hex!.slice(0, 11));
    expect(ran.stdout).toMatch(new RegExp(`${keyId!.slice(0, 12)}…:[0-9a-f]{10}…`));
  });
});
