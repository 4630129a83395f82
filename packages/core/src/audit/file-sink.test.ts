import { appendFileSync, existsSync, readFileSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isPurposekitError } from '../errors';
import { AUDIT_GENESIS_HASH, hashAuditRecord } from './encode';
import { createFileAuditSink, openFileAuditSink } from './file-sink';
import type { FileAuditSink } from './file-sink';
import type { FileAuditSinkOptions } from './types';
import { verifyAuditTrail } from './verify';
import { accessEvent, captureWarnings, cleanupDirs, errno, faultyIo, keyPair, readLines, readRecords, tempDir, trailFiles } from './__tests__/helpers';

const keys = keyPair();
const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);

afterEach(cleanupDirs);

async function rejection(p: Promise<unknown>): Promise<{ code: string; details: unknown }> {
  try {
    await p;
  } catch (error) {
    if (!isPurposekitError(error)) throw error;
    return { code: error.code, details: error.details };
  }
  throw new Error('expected a rejection');
}

async function openSink(dir: string, options: Partial<FileAuditSinkOptions> = {}, io = faultyIo()): Promise<FileAuditSink> {
  return openFileAuditSink({ dir, signingKey: keys.privateKey, ...options }, { io, now: () => T0 });
}

async function verified(dir: string): Promise<void> {
  const result = await verifyAuditTrail(dir, { publicKeys: [keys.publicKey] });
  expect(result.problem).toBeUndefined();
  expect(result.ok).toBe(true);
}

function requestIds(dir: string): string[] {
  return readRecords(dir)
    .filter((r) => r['kind'] !== 'checkpoint')
    .map((r) => String(r['requestId']));
}

describe('createFileAuditSink: options', () => {
  it.each([
    ['an unknown option, with a hint', { dir: '/x', signingKey: keys.privateKey, durabilty: 'sync' }, 'PURPOSEKIT_ERR_INVALID_OPTION', /unknown option "durabilty"\. Did you mean "durability"\?/],
    ['an unknown durability', { dir: '/x', signingKey: keys.privateKey, durability: 'fast' }, 'PURPOSEKIT_ERR_INVALID_OPTION', /"durability" must be "sync", "batched" or "async"/],
    ['a missing directory', { signingKey: keys.privateKey }, 'PURPOSEKIT_ERR_INVALID_OPTION', /"dir" must be/],
    ['a missing key', { dir: '/x' }, 'PURPOSEKIT_ERR_INVALID_KEY', /"signingKey" is required/],
    ['a key that is not Ed25519', { dir: '/x', signingKey: 'nope' }, 'PURPOSEKIT_ERR_INVALID_KEY', /not a PEM private key/],
    ['checkpointEvery 0', { dir: '/x', signingKey: keys.privateKey, checkpointEvery: 0 }, 'PURPOSEKIT_ERR_INVALID_OPTION', /"checkpointEvery" must be an integer from 1/],
    ['a bad prefix', { dir: '/x', signingKey: keys.privateKey, prefix: '../up' }, 'PURPOSEKIT_ERR_INVALID_OPTION', /"prefix" must be/],
    ['a bad key id', { dir: '/x', signingKey: keys.privateKey, keyId: 'has space' }, 'PURPOSEKIT_ERR_INVALID_OPTION', /"keyId" must be/],
  ])('refuses %s', async (_name, options, code, message) => {
    const promise = createFileAuditSink(options as unknown as FileAuditSinkOptions);
    await expect(promise).rejects.toMatchObject({ code });
    await expect(promise).rejects.toThrow(message);
  });

  it('does not touch the caller options', async () => {
    const dir = tempDir();
    const options = Object.freeze({ dir, signingKey: keys.privateKey });
    const sink = await createFileAuditSink(options);
    expect(sink).toMatchObject({ dir, prefix: 'audit', durability: 'sync' });
    await sink.close();
    expect(Object.keys(options)).toEqual(['dir', 'signingKey']);
  });
});

describe('file sink: records', () => {
  it('writes chained JSON lines with sequence numbers from 1 and a final checkpoint on close', async () => {
    const dir = tempDir();
    const sink = await openSink(dir);
    await sink.append(accessEvent(1));
    await sink.append(accessEvent(2, { decision: 'deny', reason: 'no-consent' }));
    await sink.close();
    const records = readRecords(dir);
    expect(records.map((r) => [r['seq'], r['kind']])).toEqual([
      [1, 'access'],
      [2, 'access'],
      [3, 'checkpoint'],
    ]);
    expect(records[0]).toMatchObject({ v: 1, ts: '2026-11-22T12:00:00.000Z', prev: AUDIT_GENESIS_HASH, requestId: 'req-1' });
    expect(records[1]!['prev']).toBe(records[0]!['hash']);
    expect(records[2]).toMatchObject({ prev: records[1]!['hash'], keyId: sink.keyId, alg: 'Ed25519' });
    for (const r of records) expect(hashAuditRecord(r)).toBe(r['hash']);
    expect(JSON.parse(readFileSync(join(dir, 'audit.head.json'), 'utf8'))).toEqual(records[2]);
    await verified(dir);
  });

  it('creates files with mode 0600 and removes its lock on close', async () => {
    const dir = tempDir();
    const sink = await openSink(dir);
    expect(readFileSync(join(dir, 'audit.lock'), 'utf8')).toMatch(new RegExp(`^${process.pid} [0-9a-f]{32}\n$`));
    await sink.append(accessEvent(1));
    await sink.close();
    expect(statSync(trailFiles(dir)[0]!).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dir, 'audit.lock'))).toBe(false);
  });

  it('refuses a malformed event without writing or breaking the chain', async () => {
    const dir = tempDir();
    const sink = await openSink(dir);
    await sink.append(accessEvent(1));
    expect(await rejection(sink.append(accessEvent(2, { actor: '192.0.2.1' })))).toEqual({ code: 'PURPOSEKIT_ERR_AUDIT_REJECTED', details: { field: 'actor', rule: 'ip-address' } });
    await sink.append(accessEvent(3));
    await sink.close();
    expect(requestIds(dir)).toEqual(['req-1', 'req-3']);
    await verified(dir);
  });

  it('refuses appends after close with PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', async () => {
    const sink = await openSink(tempDir());
    await sink.close();
    expect((await rejection(sink.append(accessEvent(1)))).code).toBe('PURPOSEKIT_ERR_AUDIT_UNAVAILABLE');
    await sink.close(); // idempotent
  });

  it('continues the chain when reopened, sealing nothing that is already sealed', async () => {
    const dir = tempDir();
    let sink = await openSink(dir);
    await sink.append(accessEvent(1));
    await sink.close();
    sink = await openSink(dir);
    await sink.append(accessEvent(2));
    await sink.close();
    expect(readRecords(dir).map((r) => r['kind'])).toEqual(['access', 'checkpoint', 'access', 'checkpoint']);
    await verified(dir);
  });
});

describe('file sink: group commit and durability', () => {
  it('sync: one write and one fdatasync cover many concurrent appends', async () => {
    const io = faultyIo();
    const sink = await openSink(tempDir(), {}, io);
    const before = { ...io.calls };
    await Promise.all(Array.from({ length: 200 }, (_, i) => sink.append(accessEvent(i))));
    // the first append starts a batch of one; the other 199 form the next batch while it syncs
    expect(io.calls.write - before.write).toBeLessThanOrEqual(3);
    expect(io.calls.fdatasync - before.fdatasync).toBeLessThanOrEqual(3);
    await sink.close();
  });

  it('sync: append resolves only after the fdatasync covering it', async () => {
    const io = faultyIo();
    const dir = tempDir();
    const sink = await openSink(dir, {}, io);
    const held = io.holdFdatasync();
    let acknowledged = false;
    const p = sink.append(accessEvent(1)).then(() => (acknowledged = true));
    await held.entered;
    expect(readLines(trailFiles(dir)[0]!)).toHaveLength(1); // written...
    await new Promise<void>((r) => setImmediate(r));
    expect(acknowledged).toBe(false); // ...but not acknowledged before its fdatasync completes
    held.release();
    await p;
    expect(acknowledged).toBe(true);
    await sink.close();
  });

  it('batched: append resolves once written, before the fdatasync', async () => {
    const io = faultyIo();
    const dir = tempDir();
    const sink = await openSink(dir, { durability: 'batched' }, io);
    const held = io.holdFdatasync();
    await sink.append(accessEvent(1)); // resolves while its fdatasync is held
    expect(readLines(trailFiles(dir)[0]!)).toHaveLength(1);
    held.release();
    await sink.flush();
    await sink.close();
  });

  it('async: append resolves at once; flush waits for durability', async () => {
    const io = faultyIo();
    const dir = tempDir();
    const sink = await openSink(dir, { durability: 'async' }, io);
    const held = io.holdFdatasync();
    await sink.append(accessEvent(1)); // resolves while nothing is durable
    let flushed = false;
    const flushing = sink.flush().then(() => (flushed = true));
    await held.entered;
    await new Promise<void>((r) => setImmediate(r));
    expect(flushed).toBe(false);
    held.release();
    await flushing;
    expect(requestIds(dir)).toEqual(['req-1']);
    await sink.close();
  });
});

describe('file sink: checkpoints', () => {
  it('writes a signed checkpoint after every N records', async () => {
    const dir = tempDir();
    const sink = await openSink(dir, { checkpointEvery: 3 });
    for (let i = 1; i <= 7; i++) await sink.append(accessEvent(i));
    await sink.flush();
    expect(readRecords(dir).map((r) => (r['kind'] === 'checkpoint' ? 'C' : 'a')).join('')).toBe('aaaCaaaCa');
    await sink.close();
    await verified(dir);
  });

  it('writes a checkpoint after checkpointIntervalMs with unsigned records, and none while idle', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      const dir = tempDir();
      const sink = await openSink(dir, { checkpointIntervalMs: 1000 });
      await sink.append(accessEvent(1));
      jest.advanceTimersByTime(999);
      await sink.flush();
      expect(readRecords(dir).map((r) => r['kind'])).toEqual(['access']);
      jest.advanceTimersByTime(1);
      await sink.flush();
      expect(readRecords(dir).map((r) => r['kind'])).toEqual(['access', 'checkpoint']);
      jest.advanceTimersByTime(5000);
      await sink.flush();
      expect(readRecords(dir)).toHaveLength(2);
      await sink.close();
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('file sink: rotation', () => {
  it('rotates by size, seals each file with a checkpoint and keeps the chain across files', async () => {
    const dir = tempDir();
    const sink = await openSink(dir, { maxFileBytes: 2048 });
    for (let i = 0; i < 30; i++) await sink.append(accessEvent(i));
    await sink.close();
    const files = trailFiles(dir);
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (let f = 0; f < files.length; f++) {
      const lines = readLines(files[f]!).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines[lines.length - 1]!['kind']).toBe('checkpoint');
      if (f > 0) {
        const previous = readLines(files[f - 1]!);
        expect(lines[0]!['prev']).toBe((JSON.parse(previous[previous.length - 1]!) as Record<string, unknown>)['hash']);
      }
      // a file exceeds the limit by at most one record and its checkpoint
      expect(statSync(files[f]!).size).toBeLessThan(2048 + 1200);
    }
    expect(requestIds(dir)).toEqual(Array.from({ length: 30 }, (_, i) => `req-${i}`));
    await verified(dir);
  });
});

describe('file sink: start-up after a crash', () => {
  it.each([
    ['half a record', (line: string) => line.slice(0, Math.floor(line.length / 2))],
    ['a record without its newline', (line: string) => line],
    ['zeros a power loss left', (_line: string) => '\0'.repeat(300)],
    ['zeros followed by a newline', (_line: string) => `${'\0'.repeat(300)}\n`],
  ])('quarantines a torn last line (%s), warns, and continues the chain', async (_name, torn) => {
    const dir = tempDir();
    let sink = await openSink(dir);
    await sink.append(accessEvent(1));
    await sink.append(accessEvent(2));
    await sink.close();
    const file = trailFiles(dir)[0]!;
    const lines = readLines(file);
    const tornBytes = torn(lines[lines.length - 1]!.replace('"seq":3', '"seq":4'));
    appendFileSync(file, tornBytes);
    const { result, warnings } = await captureWarnings(() => openSink(dir));
    sink = result;
    expect(warnings.map((w) => w.code)).toEqual(['PURPOSEKIT_WARN_AUDIT_TORN_LINE']);
    expect(warnings[0]!.message).toMatch(/audit-00000001\.jsonl ended with \d+ bytes of an incomplete record .* the chain continues from seq 3/);
    const quarantine = readdirSync(dir).filter((n) => n.includes('.quarantine-'));
    expect(quarantine).toHaveLength(1);
    expect(readFileSync(join(dir, quarantine[0]!), 'utf8')).toBe(tornBytes);
    await sink.append(accessEvent(3));
    await sink.close();
    expect(requestIds(dir)).toEqual(['req-1', 'req-2', 'req-3']);
    const result2 = await verifyAuditTrail(dir, { publicKeys: [keys.publicKey] });
    expect(result2).toMatchObject({ ok: true, notes: [expect.stringMatching(/^Quarantine file audit-00000001\.jsonl\.quarantine-/)] });
  });

  it('seals a tail an earlier run left unsigned', async () => {
    const dir = tempDir();
    const sink = await openSink(dir);
    await sink.append(accessEvent(1));
    await sink.close();
    // drop the final checkpoint and the head, as if the process had died before close()
    const file = trailFiles(dir)[0]!;
    writeFileSync(file, `${readLines(file)[0]}\n`);
    unlinkSync(join(dir, 'audit.head.json'));
    const reopened = await openSink(dir);
    expect(readRecords(dir).map((r) => r['kind'])).toEqual(['access', 'checkpoint']);
    await reopened.close();
    await verified(dir);
  });

  it('takes over the lock of a process that is gone, and refuses a live one', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'audit.lock'), '2147483646\n');
    const sink = await openSink(dir);
    const second = await rejection(openSink(dir));
    expect(second.code).toBe('PURPOSEKIT_ERR_AUDIT_UNAVAILABLE');
    await sink.close();
  });

  it('refuses to extend a trail that is shorter than its head checkpoint', async () => {
    const dir = tempDir();
    const sink = await openSink(dir, { checkpointEvery: 2 });
    for (let i = 0; i < 4; i++) await sink.append(accessEvent(i));
    await sink.close();
    const file = trailFiles(dir)[0]!;
    writeLines(file, readLines(file).slice(0, 3));
    const error = await rejection(openSink(dir));
    expect(error).toEqual({ code: 'PURPOSEKIT_ERR_AUDIT_CORRUPT', details: { file: 'audit.head.json', problem: 'truncated' } });
    expect(existsSync(join(dir, 'audit.lock'))).toBe(false);
  });

  it('refuses to extend a chain whose last record was edited', async () => {
    const dir = tempDir();
    const sink = await openSink(dir);
    await sink.append(accessEvent(1));
    await sink.close();
    const file = trailFiles(dir)[0]!;
    unlinkSync(join(dir, 'audit.head.json'));
    writeFileSync(file, readFileSync(file, 'utf8').replace('"keyId"', '"keyId":"forged","x"'));
    expect(await rejection(openSink(dir))).toEqual({ code: 'PURPOSEKIT_ERR_AUDIT_CORRUPT', details: { file: 'audit-00000001.jsonl', problem: 'edited' } });
  });
});

describe('file sink: fail closed', () => {
  it('ENOSPC: refuses every pending append, loses nothing acknowledged, and recovers on a later append', async () => {
    const io = faultyIo();
    const dir = tempDir();
    const sink = await openSink(dir, {}, io);
    await sink.append(accessEvent(1));
    await sink.append(accessEvent(2));
    io.faults.write = () => errno('ENOSPC');
    const { result: refused, warnings } = await captureWarnings(() => Promise.all([rejection(sink.append(accessEvent(3))), rejection(sink.append(accessEvent(4)))]));
    expect(refused).toEqual([
      { code: 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', details: { dir, code: 'ENOSPC' } },
      { code: 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', details: { dir, code: 'ENOSPC' } },
    ]);
    expect(warnings.map((w) => w.code)).toContain('PURPOSEKIT_WARN_AUDIT_UNAVAILABLE');
    // still failing: the recovery attempt itself writes nothing and the append is refused
    expect((await rejection(sink.append(accessEvent(5)))).code).toBe('PURPOSEKIT_ERR_AUDIT_UNAVAILABLE');
    await expect(sink.flush()).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE' });
    io.faults.write = undefined;
    await sink.append(accessEvent(6));
    await sink.close();
    expect(requestIds(dir)).toEqual(['req-1', 'req-2', 'req-6']);
    await verified(dir);
  });

  it('a short write before ENOSPC: the partial bytes are quarantined, not left in the chain', async () => {
    const io = faultyIo();
    const dir = tempDir();
    const sink = await openSink(dir, {}, io);
    await sink.append(accessEvent(1));
    io.faults.write = ({ call }) => (call % 2 === 1 ? { partial: 100 } : errno('ENOSPC'));
    expect((await rejection(sink.append(accessEvent(2)))).code).toBe('PURPOSEKIT_ERR_AUDIT_UNAVAILABLE');
    expect(readFileSync(trailFiles(dir)[0]!, 'utf8').endsWith('\n')).toBe(false); // 100 bytes of a refused record
    io.faults.write = undefined;
    const { warnings } = await captureWarnings(() => sink.append(accessEvent(3)));
    expect(warnings.map((w) => w.code)).toEqual(['PURPOSEKIT_WARN_AUDIT_QUARANTINE', 'PURPOSEKIT_WARN_AUDIT_RECOVERED']);
    await sink.close();
    expect(requestIds(dir)).toEqual(['req-1', 'req-3']);
    await verified(dir);
  });

  it('EIO on fdatasync in sync mode: written but unsynced records are refused and removed', async () => {
    const io = faultyIo();
    const dir = tempDir();
    const sink = await openSink(dir, {}, io);
    await sink.append(accessEvent(1));
    io.faults.fdatasync = () => errno('EIO');
    expect(await rejection(sink.append(accessEvent(2)))).toMatchObject({ code: 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', details: { code: 'EIO' } });
    io.faults.fdatasync = undefined;
    await sink.append(accessEvent(3));
    await sink.close();
    expect(requestIds(dir)).toEqual(['req-1', 'req-3']);
    await verified(dir);
  });

  it('EIO on fdatasync in batched mode: records acknowledged after their write stay, and are synced on recovery', async () => {
    const io = faultyIo();
    const dir = tempDir();
    const sink = await openSink(dir, { durability: 'batched' }, io);
    await sink.append(accessEvent(1));
    await sink.flush();
    io.faults.fdatasync = () => errno('EIO');
    await sink.append(accessEvent(2)); // acknowledged once written
    await expect(sink.flush()).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', details: { code: 'EIO' } });
    io.faults.fdatasync = undefined;
    const syncsBefore = io.calls.fdatasync;
    await sink.append(accessEvent(3));
    await sink.flush();
    expect(io.calls.fdatasync).toBeGreaterThan(syncsBefore);
    await sink.close();
    expect(requestIds(dir)).toEqual(['req-1', 'req-2', 'req-3']);
    await verified(dir);
  });

  it('async mode: acknowledged records are kept in memory through the outage and written on recovery', async () => {
    const io = faultyIo();
    const dir = tempDir();
    const sink = await openSink(dir, { durability: 'async' }, io);
    io.faults.write = () => errno('ENOSPC');
    await sink.append(accessEvent(1)); // acknowledged at once
    await expect(sink.flush()).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE' });
    io.faults.write = undefined;
    await sink.append(accessEvent(2));
    await sink.close();
    expect(requestIds(dir)).toEqual(['req-1', 'req-2']);
    await verified(dir);
  });

  it('a trail file removed while in use: the batch is refused, the file is restored from the open descriptor', async () => {
    const dir = tempDir();
    const sink = await openSink(dir);
    await sink.append(accessEvent(1));
    await sink.append(accessEvent(2));
    unlinkSync(trailFiles(dir)[0]!);
    expect(await rejection(sink.append(accessEvent(3)))).toMatchObject({ code: 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', details: { code: 'ENOENT' } });
    const { warnings } = await captureWarnings(() => sink.append(accessEvent(4)));
    expect(warnings.map((w) => w.code)).toEqual(['PURPOSEKIT_WARN_AUDIT_FILE_RESTORED', 'PURPOSEKIT_WARN_AUDIT_RECOVERED']);
    await sink.close();
    expect(requestIds(dir)).toEqual(['req-1', 'req-2', 'req-4']);
    await verified(dir);
  });

  it('a file that cannot be created on rotation (EACCES): refused, then recovered into the new file', async () => {
    const io = faultyIo();
    const dir = tempDir();
    const sink = await openSink(dir, { maxFileBytes: 1024 }, io);
    let i = 0;
    while (!existsSync(join(dir, 'audit-00000001.jsonl')) || statSync(join(dir, 'audit-00000001.jsonl')).size < 1024) await sink.append(accessEvent(i++)); // the next append rotates
    io.faults.open = (path) => (path.endsWith('audit-00000002.jsonl') ? errno('EACCES') : undefined);
    const results = await Promise.all(Array.from({ length: 4 }, (_, i) => sink.append(accessEvent(10 + i)).then(() => 'ok', (e: { code: string }) => e.code)));
    expect(results).toContain('PURPOSEKIT_ERR_AUDIT_UNAVAILABLE');
    io.faults.open = undefined;
    await sink.append(accessEvent(20));
    await sink.close();
    const ok = results.map((r, i) => (r === 'ok' ? `req-${10 + i}` : undefined)).filter((x) => x !== undefined);
    expect(results).toEqual(['PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE']);
    expect(requestIds(dir)).toEqual([...Array.from({ length: i }, (_, k) => `req-${k}`), ...ok, 'req-20']);
    expect(trailFiles(dir).length).toBeGreaterThanOrEqual(2);
    await verified(dir);
  });

  it('stays unavailable while the trail file is replaced by a foreign one (nothing acknowledged may be papered over)', async () => {
    const dir = tempDir();
    const sink = await openSink(dir);
    await sink.append(accessEvent(1));
    await sink.append(accessEvent(2));
    const file = trailFiles(dir)[0]!;
    unlinkSync(file);
    writeFileSync(file, 'replaced\n');
    const refused = await Promise.all([1, 2, 3].map((n) => rejection(sink.append(accessEvent(10 + n)))));
    expect(refused.map((r) => r.code)).toEqual(['PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE']);
    expect(readFileSync(file, 'utf8')).toBe('replaced\n');
    await expect(sink.close()).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE' });
    expect(existsSync(join(dir, 'audit.lock'))).toBe(false);
  });
});

function writeLines(file: string, lines: readonly string[]): void {
  writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
}

describe('file sink: lock and quarantine hardening (issue 17)', () => {
  it('takes over a stale lock holding its own pid (PID 1 restarted in a container), but still refuses a second sink of this process', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'audit.lock'), `${process.pid}\n`); // what the crashed run left
    const sink = await openSink(dir);
    expect(await rejection(openSink(dir))).toMatchObject({ code: 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE' });
    await sink.append(accessEvent(1));
    await sink.close();
    expect(existsSync(join(dir, 'audit.lock'))).toBe(false);
    await verified(dir);
  });

  async function tornTrail(): Promise<{ dir: string; file: string; bytes: Buffer }> {
    const dir = tempDir();
    const sink = await openSink(dir);
    await sink.append(accessEvent(1));
    await sink.close();
    const file = trailFiles(dir)[0]!;
    appendFileSync(file, '{"torn":'.repeat(40));
    return { dir, file, bytes: readFileSync(file) };
  }

  it('a quarantine write that makes no progress fails start-up instead of looping, and the trail keeps its bytes', async () => {
    const { dir, file, bytes } = await tornTrail();
    const io = faultyIo();
    io.faults.write = ({ call }) => (call === 1 ? undefined : { partial: 0 }); // call 1: the lock
    const error = await rejection(openSink(dir, {}, io));
    expect(error.code).toBe('PURPOSEKIT_ERR_AUDIT_UNAVAILABLE');
    expect(io.calls.write).toBeLessThan(10);
    expect(readFileSync(file)).toEqual(bytes);
    expect(existsSync(join(dir, 'audit.lock'))).toBe(false);
  }, 5000);

  it('a short read while quarantining fails start-up and never truncates bytes it did not copy', async () => {
    const { dir, file, bytes } = await tornTrail();
    const io = faultyIo();
    // the first read (the tail) is whole; then the file seems to shrink under us
    io.faults.read = ({ call, length }) => (call === 1 ? undefined : call === 2 ? Math.floor(length / 2) : 0);
    const error = await rejection(openSink(dir, {}, io));
    expect(error.code).toBe('PURPOSEKIT_ERR_AUDIT_UNAVAILABLE');
    expect(readFileSync(file)).toEqual(bytes);
    // whatever was set aside is an exact prefix of the torn bytes, never a substitute
    for (const q of readdirSync(dir).filter((n) => n.includes('.quarantine-'))) expect(readFileSync(join(dir, q)).length).toBe(0);
    const ok = await openSink(dir);
    await ok.close();
    await verified(dir);
  });
});
