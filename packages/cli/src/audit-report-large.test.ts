// `audit report` in table mode for a subject with 1,000,000 records: streamed, with flat
// memory (the child runs under a heap cap). The trail is generated directly (the report reads records, it does not verify
// them: see `audit verify`), one buffered write per 20,000 lines.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

const RECORDS = 1_000_000;
const SUBJECT = `hmac-sha256:k1:${'ab'.repeat(32)}`;

/** Counts lines and keeps the first and last few kilobytes. */
class Counter extends Writable {
  lines = 0;
  head = '';
  tail = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    const text = chunk.toString();
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.lines++;
    if (this.head.length < 4096) this.head += text.slice(0, 4096);
    this.tail = (this.tail + text).slice(-4096);
    done();
  }
}

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'pk-cli-large-'));
  mkdirSync(join(work, 'trail'));
  const fd = openSync(join(work, 'trail', 'audit-00000001.jsonl'), 'w');
  try {
    let batch = '';
    for (let seq = 1; seq <= RECORDS; seq++) {
      batch += `{"action":"read","hash":"h","kind":"access","policy":{"id":"p","version":"1"},"prev":"p","requestId":"r${seq}","seq":${seq},"subject":"${SUBJECT}","ts":"2026-01-01T00:00:00.000Z","v":1}\n`;
      if (seq % 20_000 === 0) {
        writeSync(fd, batch);
        batch = '';
      }
    }
  } finally {
    closeSync(fd);
  }
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Old-space cap for the child: far below what holding 1,000,000 entries (or their text) takes. */
const HEAP_CAP_MB = 96;
const REGISTER = join(__dirname, '../../../tools/test-support/register-ts.cjs');
const BIN = join(__dirname, 'bin.ts');

it('lists 1,000,000 records about one subject in table mode within a small fixed heap', async () => {
  // The report runs in a child process whose V8 heap is capped: a report that kept its
  // entries or its text would die of "JavaScript heap out of memory" (exit code != 0).
  // A cap is a property of the process, not a sample of heapUsed, so garbage not yet
  // collected on a loaded machine cannot make this fail.
  const stdout = new Counter();
  let stderr = '';
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_CAP_MB}`, '-r', REGISTER, BIN, 'audit', 'report', '--subject', SUBJECT, 'trail'], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(stdout);
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4096)));
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? -1));
  });
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  expect(stdout.head.split('\n').slice(0, 4)).toEqual(['Subject access report', 'Trail:      trail', `Pseudonyms: ${SUBJECT}`, `Records:    ${RECORDS} about this subject (of ${RECORDS} read)`]);
  // 5 header lines + column names + rule + one row per record + blank + footer
  expect(stdout.lines).toBe(7 + RECORDS + 2);
  expect(stdout.tail).toMatch(new RegExp(`r${RECORDS}\\n\\nThis report does not check integrity`));
}, 180_000);
