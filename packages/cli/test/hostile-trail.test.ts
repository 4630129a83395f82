/**
 * A hostile trail (markup and control characters in every free field) must not inject
 * HTML into the pages nor escape sequences into the terminal.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIT_GENESIS_HASH, createFileAuditSink, generateAuditKeys, sealAuditRecord } from '@purposekit/core';
import type { AuditEventInput } from '@purposekit/core';
import { cli } from './support';

const EVIL = '<script>alert(1)</script>"><img src=x onerror=alert(2)>';
const SUBJECT = `hmac-sha256:k1:${'c'.repeat(64)}`;
const AT = '2026-06-01T00:00:00Z';
let work: string;

const hostile = (n: number): AuditEventInput[] => [
  { kind: 'access', actor: EVIL, subject: SUBJECT, data: [EVIL], action: 'read', purpose: `${EVIL}${n}`, basis: 'consent', policy: { id: EVIL.slice(0, 20), version: '1' }, requestId: `r${n}`, decision: 'deny', reason: EVIL },
  { kind: 'consent', actor: 'data-subject', subject: SUBJECT, purpose: EVIL, policy: { id: 'p', version: '1' }, requestId: `c${n}`, attributes: { state: EVIL } },
  { kind: 'age-gate', actor: 'service', policy: { id: 'p', version: '1' }, requestId: `g${n}`, decision: 'deny', reason: EVIL, attributes: { gate: EVIL } },
  { kind: 'rights', actor: 'rights-handler', subject: SUBJECT, purpose: 'rights-fulfilment', policy: { id: 'p', version: '1' }, requestId: EVIL, attributes: { right: EVIL, status: 'received', due: '2026-02-01T00:00:00.000Z' } },
];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'officer-hostile-'));
  // Markup passes the sink's checks (it is not personal data): the real sink writes it.
  const sink = await createFileAuditSink({ dir: join(work, 'markup'), signingKey: generateAuditKeys().signingPrivateKeyPem });
  for (const e of hostile(1)) await sink.append(e);
  await sink.close();
  // Control characters do not pass the sink: a forged file holds them (the report reads, it does not verify).
  mkdirSync(join(work, 'controls'));
  let prev = AUDIT_GENESIS_HASH;
  const lines = hostile(2).map((e, i) => {
    const bad = { ...e, ...(e.purpose === undefined ? {} : { purpose: `${e.purpose}\u001b[2J\u202e\u0007` }), ...(e.reason === undefined ? {} : { reason: `x\u001b]0;pwned\u0007` }) };
    const r = sealAuditRecord(bad, { seq: i + 1, ts: `2026-01-0${i + 1}T10:00:00.000Z`, prev });
    prev = r.hash;
    return JSON.stringify(r);
  });
  writeFileSync(join(work, 'controls', 'audit-00000001.jsonl'), `${lines.join('\n')}\n`);
});

describe.each(['markup', 'controls'])('a hostile %s trail', (name) => {
  it('cannot inject markup into the trail report page', async () => {
    const out = join(work, `${name}-report.html`);
    const ran = await cli(['audit', 'report', name, '--html', out, '--at', AT], work);
    expect(ran).toMatchObject({ code: 0, stderr: '' });
    const page = readFileSync(out, 'utf8');
    expect(page).not.toMatch(/<script|<img|onerror=alert\(2\)>/i);
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;');
    // eslint-disable-next-line no-control-regex -- the point
    expect(page).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(page.match(/<tr>/g)?.length).toBeGreaterThan(3);
  });

  it('cannot inject markup into the subject timeline', async () => {
    const out = join(work, `${name}-subject.html`);
    const ran = await cli(['audit', 'report', name, '--subject', SUBJECT, '--html', out, '--at', AT], work);
    expect(ran).toMatchObject({ code: 0, stderr: '' });
    const page = readFileSync(out, 'utf8');
    expect(page).not.toMatch(/<script|<img/i);
    expect((page.match(/<li class=/g) ?? []).length).toBe(3);
  });

  it('cannot send escape sequences to the terminal', async () => {
    for (const argv of [['audit', 'report', name, '--at', AT], ['audit', 'stats', name, '--at', AT], ['audit', 'report', name, '--subject', SUBJECT]]) {
      const ran = await cli(argv, work);
      expect(ran.code).toBe(0);
      // eslint-disable-next-line no-control-regex -- the point
      expect(ran.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    }
  });
});
