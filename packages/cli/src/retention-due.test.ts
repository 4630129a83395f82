import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { run } from './index';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'policy-retention-cli-'));
  const items = [
    { store: 'members-db', purpose: 'diagnostics', id: 'log-1', clockStart: '2026-05-01T00:00:00Z' },
    { store: 'members-db', purpose: 'diagnostics', id: 'log-2', clockStart: '2026-05-25T00:00:00Z' },
    { store: 'members-db', purpose: 'diagnostics', id: 'log-3', clockStart: '2026-05-31T00:00:00Z' },
    { store: 'orders', purpose: 'payment', id: 'pay-1', clockStart: '2016-05-01T00:00:00Z', holds: ['litigation'] },
    { store: 'orders', purpose: 'service.provision', id: 'x', clockStart: '2000-01-01T00:00:00Z' },
  ];
  writeFileSync(join(work, 'items.jsonl'), items.map((i) => JSON.stringify(i)).join('\n'));
  writeFileSync(
    join(work, 'policy.json'),
    JSON.stringify({
      id: 'cli-ret',
      version: '1',
      jurisdictions: ['US'],
      purposes: {
        diagnostics: { basis: 'legitimate-interests', data: ['ip-address'], retention: 'P30D' },
        payment: { basis: 'contract', data: ['payment'], retention: { duration: 'P10Y', from: 'contract-end', holds: ['litigation'] } },
        'service.provision': { basis: 'contract', data: ['usage-data'], retention: 'as-long-as-necessary' },
      },
    }),
  );
  writeFileSync(join(work, 'broken.jsonl'), '{"store":"a","purpose":"diagnostics","id":"alice@example.org"\n');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await run(argv, { stdout, stderr, cwd: work });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('purposekit retention due', () => {
  it('lists what expires within the window, soonest first, with holds, and can fail a scheduled check', async () => {
    const ran = await cli(['retention', 'due', 'items.jsonl', '--policy', 'policy.json', '--at', '2026-06-01T00:00:00Z', '--within', 'P7D', '--fail-on-expired']);
    expect(ran.code).toBe(1);
    const rows = ran.stdout.trim().split('\n');
    expect(rows.slice(1, -1).map((r) => r.split(/\s{2,}/))).toEqual([
      ['2026-05-01T00:00:00.000Z', 'EXPIRED', 'erase', 'held: litigation', 'payment', 'orders', 'pay-1'],
      ['2026-05-31T00:00:00.000Z', 'EXPIRED', 'erase', 'diagnostics', 'members-db', 'log-1'],
    ]);
    expect(rows.at(-1)).toBe('2 due, 1 expired and not held (as of 2026-06-01T00:00:00.000Z).');
  });

  it('--json: the items, and exit 0 without --fail-on-expired', async () => {
    const ran = await cli(['retention', 'due', 'items.jsonl', '--policy', 'policy.json', '--at', '2026-06-01T00:00:00Z', '--within', 'P30D', '--json']);
    expect(ran.code).toBe(0);
    const out = JSON.parse(ran.stdout) as { due: Array<{ item: string; expiresAt: string; heldBy: string[] }> };
    expect(out.due.map((d) => [d.item, d.expiresAt, d.heldBy])).toEqual([
      ['pay-1', '2026-05-01T00:00:00.000Z', ['litigation']],
      ['log-1', '2026-05-31T00:00:00.000Z', []],
      ['log-2', '2026-06-24T00:00:00.000Z', []],
      ['log-3', '2026-06-30T00:00:00.000Z', []],
    ]);
  });

  it('reads a preset by name', async () => {
    const ran = await cli(['retention', 'due', 'items.jsonl', '--policy', 'openinfra', '--at', '2026-06-01T00:00:00Z', '--json']);
    expect(ran.code).toBe(0);
    expect((JSON.parse(ran.stdout) as { policy: { id: string } }).policy.id).toBe('openinfra');
  });

  it.each([
    [['--within', 'soon'], 'PURPOSEKIT_ERR_INVALID_OPTION'],
    [['--at', 'tomorrow'], 'PURPOSEKIT_ERR_INVALID_OPTION'],
  ])('rejects %j with exit 2', async (extra, code) => {
    const ran = await cli(['retention', 'due', 'items.jsonl', '--policy', 'policy.json', ...extra]);
    expect([ran.code, ran.stderr.split(':')[0]]).toEqual([2, code]);
  });

  it('a malformed items file is an error that never echoes its content', async () => {
    const ran = await cli(['retention', 'due', 'broken.jsonl', '--policy', 'policy.json']);
    expect(ran.code).toBe(2);
    expect(ran.stderr).not.toContain('alice');
  });
});
