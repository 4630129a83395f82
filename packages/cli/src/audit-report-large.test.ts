// `audit report` in table mode for a subject with 1,000,000 records: streamed, with flat
// memory. The trail is generated directly (the report reads records, it does not verify
// them: see `audit verify`), one buffered write per 20,000 lines.
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { run } from './index';

const RECORDS = 1_000_000;
const SUBJECT = `hmac-sha256:k1:${'ab'.repeat(32)}`;

/** Counts lines and keeps the first and last few; samples heap use while output flows. */
class Counter extends Writable {
  lines = 0;
  head = '';
  tail = '';
  peakHeap = 0;
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    const text = chunk.toString();
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.lines++;
    if (this.head.length < 4096) this.head += text.slice(0, 4096);
    this.tail = (this.tail + text).slice(-4096);
    this.peakHeap = Math.max(this.peakHeap, process.memoryUsage().heapUsed);
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

it('lists 1,000,000 records about one subject in table mode with bounded memory', async () => {
  global.gc?.();
  const baseline = process.memoryUsage().heapUsed;
  const stdout = new Counter();
  const stderr = new Counter();
  const code = await run(['audit', 'report', '--subject', SUBJECT, 'trail'], { stdout, stderr, cwd: work });
  expect(code).toBe(0);
  expect(stdout.head.split('\n').slice(0, 4)).toEqual(['Subject access report', 'Trail:      trail', `Pseudonyms: ${SUBJECT}`, `Records:    ${RECORDS} about this subject (of ${RECORDS} read)`]);
  // 5 header lines + column names + rule + one row per record + blank + footer
  expect(stdout.lines).toBe(7 + RECORDS + 2);
  expect(stdout.tail).toMatch(new RegExp(`r${RECORDS}\\n\\nThis report does not check integrity`));
  // holding the entries (or the text) would take several hundred MB
  expect(stdout.peakHeap - baseline).toBeLessThan(150 * 1024 * 1024);
}, 180_000);
