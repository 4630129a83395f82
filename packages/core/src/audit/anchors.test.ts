// Time-bounded and heartbeat checkpoints, and anchors (issue 12): each checkpoint's signed
// head is published outside the trail directory, never blocking an append, retried with
// backoff, and kept in a durable outbox across restarts and SIGKILL.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFileAuditAnchor } from './anchors';
import { anchorOutboxName } from './anchor-outbox';
import { openFileAuditSink } from './file-sink';
import { verifyAuditTrail } from './verify';
import type { FileAuditSink } from './file-sink';
import type { FileAuditSinkInternals } from './file-sink-options';
import type { AnchoredHead, FileAuditSinkOptions } from './types';
import { accessEvent, captureWarnings, cleanupDirs, keyPair, readRecords, tempDir, trailFiles } from './__tests__/helpers';

const keys = keyPair();
const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);

afterEach(cleanupDirs);

function openSink(dir: string, options: Partial<FileAuditSinkOptions> = {}, internals: FileAuditSinkInternals = {}): Promise<FileAuditSink> {
  return openFileAuditSink({ dir, signingKey: keys.privateKey, ...options }, { now: () => T0, anchorCloseWaitMs: 50, ...internals });
}

/** The heads the trail's checkpoints should have produced (an oracle reading the files). */
function trailHeads(dir: string, stream = 'audit'): AnchoredHead[] {
  return readRecords(dir)
    .filter((r) => r['kind'] === 'checkpoint')
    .map((r) => ({ stream, seq: r['seq'], hash: r['hash'], ts: r['ts'], keyId: r['keyId'], sig: r['sig'], prev: r['prev'] }) as AnchoredHead);
}

function anchorLines(path: string): AnchoredHead[] {
  return existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as AnchoredHead)
    : [];
}

function fakeTimers(): void {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
}

/** Lets the sink's promise chains (real file I/O) settle while timers are fake. */
async function settle(until: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!until()) {
    if (Date.now() > deadline) throw new Error('condition not reached within 5 s');
    await new Promise<void>((r) => setImmediate(r));
  }
}

describe('time-bounded and heartbeat checkpoints', () => {
  afterEach(() => jest.useRealTimers());

  it('signs unsigned records after checkpointEvery records or checkpointIntervalMs, whichever first', async () => {
    fakeTimers();
    const dir = tempDir();
    const sink = await openSink(dir, { checkpointEvery: 3, checkpointIntervalMs: 1000 });
    for (let i = 0; i < 3; i++) await sink.append(accessEvent(i));
    await sink.flush();
    expect(readRecords(dir).map((r) => r['kind'])).toEqual(['access', 'access', 'access', 'checkpoint']);
    await sink.append(accessEvent(9));
    jest.advanceTimersByTime(1000);
    await sink.flush();
    expect(readRecords(dir).map((r) => r['kind']).slice(4)).toEqual(['access', 'checkpoint']);
    await sink.close();
  });

  it('writes a heartbeat checkpoint after heartbeatIntervalMs without any, and none before', async () => {
    fakeTimers();
    const dir = tempDir();
    const sink = await openSink(dir, { checkpointIntervalMs: 1000, heartbeatIntervalMs: 10_000 });
    await sink.append(accessEvent(1));
    jest.advanceTimersByTime(1000); // the interval checkpoint (seq 2)
    await sink.flush();
    jest.advanceTimersByTime(9_999);
    await sink.flush();
    expect(readRecords(dir).map((r) => r['kind'])).toEqual(['access', 'checkpoint']);
    jest.advanceTimersByTime(1_000);
    await sink.flush();
    expect(readRecords(dir).map((r) => [r['seq'], r['kind']])).toEqual([
      [1, 'access'],
      [2, 'checkpoint'],
      [3, 'checkpoint'],
    ]);
    jest.advanceTimersByTime(10_000);
    await sink.flush();
    expect(readRecords(dir)).toHaveLength(4);
    await sink.close();
    expect(readRecords(dir)).toHaveLength(4); // nothing unsigned: no extra checkpoint on close
  });

  it('heartbeats an empty trail too, and defaults to one hour', async () => {
    fakeTimers();
    const dir = tempDir();
    const sink = await openSink(dir);
    jest.advanceTimersByTime(3_600_000 - 5000);
    await sink.flush();
    expect(trailFiles(dir)).toEqual([]);
    jest.advanceTimersByTime(5000);
    await sink.flush();
    expect(readRecords(dir).map((r) => [r['seq'], r['kind']])).toEqual([[1, 'checkpoint']]);
    await sink.close();
    jest.useRealTimers();
    expect(await verifyAuditTrail(dir, { publicKeys: [keys.publicKey] })).toMatchObject({ ok: true, records: 1, checkpoints: 1 });
  });

  it.each([
    ['a heartbeat shorter than the checkpoint interval', { checkpointIntervalMs: 5000, heartbeatIntervalMs: 2000 }, /"heartbeatIntervalMs" must be at least checkpointIntervalMs/],
    ['a heartbeat under a second', { heartbeatIntervalMs: 10 }, /"heartbeatIntervalMs" must be an integer from 1000/],
    ['an anchor without publish', { anchors: [{ name: 'x' }] }, /"anchors\[0\]" must be an anchor/],
    ['two anchors with one name', { anchors: [{ name: 'x', publish: async () => undefined }, { name: 'x', publish: async () => undefined }] }, /"anchors\[1\]\.name" must be unique/],
    ['a bad stream name', { stream: '../x' }, /"stream" must be/],
  ])('refuses %s', async (_name, options, message) => {
    await expect(openSink(tempDir(), options as Partial<FileAuditSinkOptions>)).rejects.toThrow(message);
  });

  it('refuses a file anchor inside the trail directory', async () => {
    const dir = tempDir();
    await expect(openSink(dir, { anchors: [createFileAuditAnchor({ path: join(dir, 'sub', 'anchor.jsonl') })] })).rejects.toMatchObject({
      code: 'PURPOSEKIT_ERR_INVALID_OPTION',
      message: expect.stringMatching(/outside the trail directory/),
    });
  });
});

describe('anchors', () => {
  afterEach(() => jest.useRealTimers());

  it('publishes every checkpoint head to a file anchor and a function, across rotation', async () => {
    const dir = tempDir();
    const anchorPath = join(tempDir('anchor'), 'heads.jsonl');
    const seen: AnchoredHead[] = [];
    const sink = await openSink(dir, { checkpointEvery: 3, maxFileBytes: 2048, anchors: [createFileAuditAnchor({ path: anchorPath }), (h) => void seen.push(h)] });
    for (let i = 0; i < 25; i++) await sink.append(accessEvent(i));
    await sink.close();
    expect(trailFiles(dir).length).toBeGreaterThan(2);
    const expected = trailHeads(dir);
    expect(expected.length).toBeGreaterThan(8);
    expect(anchorLines(anchorPath)).toEqual(expected);
    expect(seen).toEqual(expected);
    // everything taken: the outbox keeps only its marker
    expect(readFileSync(join(dir, anchorOutboxName('audit')), 'utf8')).toBe(`{"publishedUpTo":${expected.at(-1)!.seq}}\n`);
  });

  it('an anchor that never answers does not delay appends or close', async () => {
    const dir = tempDir();
    const sink = await openSink(dir, { checkpointEvery: 2, anchors: [{ name: 'stuck', publish: () => new Promise<void>(() => undefined) }] });
    for (let i = 0; i < 6; i++) await sink.append(accessEvent(i));
    await sink.close();
    expect(readRecords(dir)).toHaveLength(9);
    expect(anchorLines(join(dir, anchorOutboxName('audit'))).map((h) => h.seq)).toEqual(trailHeads(dir).map((h) => h.seq));
  });

  it('retries a failing anchor with exponential backoff and reports each failure', async () => {
    fakeTimers();
    const dir = tempDir();
    const taken: number[] = [];
    let failures = 2;
    const reports: Array<{ anchor: string; seq: number; attempt: number; retryInMs: number; message: string }> = [];
    const sink = await openSink(
      dir,
      {
        anchors: [
          {
            name: 'flaky',
            publish: async (h) => {
              if (failures-- > 0) throw new Error('anchor down');
              taken.push(h.seq);
            },
          },
        ],
        onAnchorError: (error, info) => reports.push({ anchor: info.anchor, seq: info.head.seq, attempt: info.attempt, retryInMs: info.retryInMs, message: (error as Error).message }),
      },
      { anchorBackoff: { firstMs: 1000, maxMs: 60_000 } },
    );
    await sink.append(accessEvent(1));
    jest.advanceTimersByTime(5000); // the interval checkpoint, seq 2
    await sink.flush();
    await settle(() => reports.length === 1);
    expect(reports).toEqual([{ anchor: 'flaky', seq: 2, attempt: 1, retryInMs: 1000, message: 'anchor down' }]);
    jest.advanceTimersByTime(999);
    await settle(() => true);
    expect(reports).toHaveLength(1);
    jest.advanceTimersByTime(1);
    await settle(() => reports.length === 2);
    expect(reports[1]).toMatchObject({ attempt: 2, retryInMs: 2000 });
    jest.advanceTimersByTime(2000);
    await settle(() => taken.length === 1);
    expect(taken).toEqual([2]);
    await settle(() => sink.pendingAnchorHeads().length === 0); // the outbox is compacted once every anchor took every head
    await sink.close();
  });

  it('warns (PURPOSEKIT_WARN_AUDIT_ANCHOR) when no onAnchorError is given', async () => {
    const dir = tempDir();
    const { warnings } = await captureWarnings(async () => {
      const sink = await openSink(dir, { anchors: [{ name: 'down', publish: async () => Promise.reject(new Error('ECONNREFUSED')) }] });
      await sink.append(accessEvent(1));
      await sink.close();
    });
    expect(warnings.map((w) => w.code)).toContain('PURPOSEKIT_WARN_AUDIT_ANCHOR');
    expect(warnings.find((w) => w.code === 'PURPOSEKIT_WARN_AUDIT_ANCHOR')!.message).toMatch(/anchor "down" did not take the head of seq 2 .*ECONNREFUSED/);
  });

  it('heads an anchor missed while down are published after a restart, oldest first, and never twice', async () => {
    const dir = tempDir();
    const anchorPath = join(tempDir('anchor'), 'heads.jsonl');
    const down = { name: 'witness', publish: async () => Promise.reject(new Error('down')) };
    let sink = await openSink(dir, { checkpointEvery: 2, anchors: [down], onAnchorError: () => undefined });
    for (let i = 0; i < 5; i++) await sink.append(accessEvent(i));
    await sink.close();
    const heads = trailHeads(dir);
    expect(anchorLines(join(dir, anchorOutboxName('audit')))).toEqual(heads);
    const calls: number[] = [];
    const file = createFileAuditAnchor({ path: anchorPath, name: 'witness' });
    const counting = { name: 'witness', publish: async (h: AnchoredHead) => (calls.push(h.seq), file.publish(h)) };
    sink = await openSink(dir, { anchors: [counting] });
    await sink.close();
    expect(anchorLines(anchorPath)).toEqual(heads);
    // a third start finds the outbox drained: nothing is published again
    calls.length = 0;
    sink = await openSink(dir, { anchors: [counting] });
    await sink.close();
    expect(calls).toEqual([]);
  });

  it('a crash after a checkpoint is durable but before its head reached the outbox: the restart queues it from the trail', async () => {
    const dir = tempDir();
    let sink = await openSink(dir, { checkpointEvery: 2, anchors: [{ name: 'w', publish: async () => Promise.reject(new Error('down')) }], onAnchorError: () => undefined });
    for (let i = 0; i < 4; i++) await sink.append(accessEvent(i));
    await sink.close();
    unlinkSync(join(dir, anchorOutboxName('audit'))); // as if the process died before the outbox write
    const seen: number[] = [];
    sink = await openSink(dir, { anchors: [{ name: 'w', publish: async (h) => void seen.push(h.seq) }] });
    await sink.close();
    expect(seen).toEqual(trailHeads(dir).map((h) => h.seq));
  });

  it('survives SIGKILL between checkpoints and their publication (child process), across rotation', async () => {
    const dir = tempDir('anchored');
    const keyFile = join(tempDir('anchor-key'), 'signing.pem');
    writeFileSync(keyFile, keys.privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const REGISTER = join(__dirname, '../../../../tools/test-support/register-ts.cjs');
    const WRITER = join(__dirname, '__tests__', 'anchor-writer.ts');
    const { signal, stderr } = await new Promise<{ signal: NodeJS.Signals | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['-r', REGISTER, WRITER, dir, keyFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8');
      child.stderr.setEncoding('utf8');
      child.stdout.on('data', (c: string) => {
        out += c;
        if (out.includes('durable\n')) child.kill('SIGKILL');
      });
      child.stderr.on('data', (c: string) => (err += c));
      child.on('error', reject);
      child.on('close', (_code, sig) => resolve({ signal: sig, stderr: err }));
    });
    expect({ signal, stderr: stderr.includes('anchor-writer failed') ? stderr : '' }).toEqual({ signal: 'SIGKILL', stderr: '' });
    expect(existsSync(join(dir, 'audit.lock'))).toBe(true); // it really died holding the trail
    expect(trailFiles(dir).length).toBeGreaterThan(1);
    const before = trailHeads(dir);
    expect(before.length).toBeGreaterThanOrEqual(7);
    const anchorPath = join(tempDir('anchor'), 'heads.jsonl');
    const sink = await openFileAuditSink({ dir, signingKey: keys.privateKey, anchors: [createFileAuditAnchor({ path: anchorPath, name: 'witness' })] }, {});
    await sink.close();
    // every checkpoint of the killed run, plus the one sealing its unsigned tail, is anchored
    expect(anchorLines(anchorPath)).toEqual(trailHeads(dir));
    expect(anchorLines(anchorPath).slice(0, before.length)).toEqual(before);
  }, 30_000);
});

describe('createFileAuditAnchor', () => {
  const head = (seq: number, stream = 'audit'): AnchoredHead => ({ stream, seq, hash: 'a'.repeat(64), ts: '2026-11-22T12:00:00.000Z', keyId: 'k'.repeat(43), sig: 's'.repeat(86) });

  it('appends one JCS line per head, skips a head it already holds (also after a restart, in a large file), and keeps streams apart', async () => {
    const path = join(tempDir('file-anchor'), 'nested', 'heads.jsonl');
    const first = createFileAuditAnchor({ path });
    for (let seq = 1; seq <= 300; seq++) await first.publish(head(seq)); // one fdatasync each
    await first.publish(head(3, 'billing'));
    expect(readFileSync(path).length).toBeGreaterThan(64 * 1024);
    const again = createFileAuditAnchor({ path, name: 'again' }); // a new process: nothing cached
    await again.publish(head(300));
    await again.publish(head(3, 'billing'));
    await again.publish(head(301));
    const lines = anchorLines(path);
    expect(lines).toHaveLength(302);
    expect(lines.at(-1)).toEqual(head(301));
    expect(readFileSync(path, 'utf8').split('\n')[0]).toBe(`{"hash":"${'a'.repeat(64)}","keyId":"${'k'.repeat(43)}","seq":1,"sig":"${'s'.repeat(86)}","stream":"audit","ts":"2026-11-22T12:00:00.000Z"}`);
    const read: number[] = [];
    for await (const h of again.heads()) read.push(h.seq);
    expect(read).toHaveLength(302);
  }, 30_000);

  it.each([
    [{}, /"path" is required/],
    [{ path: '/x', name: 'bad name' }, /"name" must be/],
    [{ path: '/x', nmae: 'x' }, /unknown option "nmae"/],
  ])('refuses %j', (options, message) => {
    expect(() => createFileAuditAnchor(options as never)).toThrow(message);
  });
});
