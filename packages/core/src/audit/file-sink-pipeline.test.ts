// The file sink's pipelined group commit: while one batch's fdatasync is in flight the
// next batch is written and its own fdatasync started (at most two in flight); batches
// are acknowledged in order, each only after its own fdatasync; a failure refuses exactly
// the records not acknowledged. Every fdatasync here is held until the test releases it
// (then the real one runs), so each interleaving is forced, not hoped for.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isPurposekitError } from '../errors';
import { PIPELINE_MIN_RECORDS, openFileAuditSink } from './file-sink';
import type { FileAuditSink } from './file-sink';
import { nodeAuditFileIo } from './file-io';
import type { AuditFileIo } from './file-io';
import type { FileAuditSinkOptions } from './types';
import { verifyAuditTrail } from './verify';
import { accessEvent, captureWarnings, cleanupDirs, errno, keyPair, readLines, readRecords, tempDir, trailFiles } from './__tests__/helpers';

const keys = keyPair();
const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);

afterEach(cleanupDirs);

interface HeldSync {
  readonly fd: number;
  /** Runs the real fdatasync (or fails with `error`) and resolves once the sink has been told. */
  release(error?: Error): Promise<void>;
}

interface SteppedIo extends AuditFileIo {
  calls: { write: number; fdatasync: number };
  /** Which fdatasync calls to hold (default: none, so that start-up runs through). */
  hold: (fd: number) => boolean;
  /** The next held fdatasync, in call order. */
  nextSync(): Promise<HeldSync>;
  /** A write fault for the next write calls. */
  writeFault: (() => Error | undefined) | undefined;
  /** Hold the next write calls until released (then the real write runs). */
  holdWrites: boolean;
  /** The next held write, in call order. */
  nextWrite(): Promise<{ release(): Promise<void> }>;
  /** Descriptors of files whose path ends with `suffix`. */
  fdsOf(suffix: string): Set<number>;
}

/** Held calls, handed to the test in call order: the I/O stub puts, the test takes. */
function handoff<H>(): { put(h: H): void; next(): Promise<H> } {
  const held: H[] = [];
  const takers: Array<(h: H) => void> = [];
  return {
    put(h) {
      const take = takers.shift();
      if (take !== undefined) take(h);
      else held.push(h);
    },
    next() {
      const h = held.shift();
      return h !== undefined ? Promise.resolve(h) : new Promise<H>((resolve) => takers.push(resolve));
    },
  };
}

function steppedIo(): SteppedIo {
  const syncs = handoff<HeldSync>();
  const writes = handoff<{ release(): Promise<void> }>();
  const opened: Array<{ path: string; fd: number }> = [];
  const io: SteppedIo = {
    ...nodeAuditFileIo,
    calls: { write: 0, fdatasync: 0 },
    hold: () => false,
    writeFault: undefined,
    holdWrites: false,
    async open(path, flags, mode) {
      const fd = await nodeAuditFileIo.open(path, flags, mode);
      opened.push({ path, fd });
      return fd;
    },
    fdsOf(suffix) {
      return new Set(opened.filter((o) => o.path.endsWith(suffix)).map((o) => o.fd));
    },
    async write(fd, buffer, offset, length, position) {
      io.calls.write++;
      const fault = io.writeFault?.();
      if (fault !== undefined) throw fault;
      if (!io.holdWrites) return nodeAuditFileIo.write(fd, buffer, offset, length, position);
      return new Promise<number>((resolve, reject) =>
        writes.put({
          release: async () => {
            nodeAuditFileIo.write(fd, buffer, offset, length, position).then(resolve, reject);
            await settled();
          },
        }),
      );
    },
    nextWrite: writes.next,
    fdatasync(fd) {
      io.calls.fdatasync++;
      if (!io.hold(fd)) return nodeAuditFileIo.fdatasync(fd);
      return new Promise<void>((resolve, reject) =>
        syncs.put({
          fd,
          release: async (error) => {
            if (error !== undefined) reject(error);
            else {
              await nodeAuditFileIo.fdatasync(fd);
              resolve();
            }
            await settled();
          },
        }),
      );
    },
    nextSync: syncs.next,
  };
  return io;
}

/** Lets every promise reaction the sink has queued run (no I/O is pending in between). */
async function settled(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

async function openSink(dir: string, io: SteppedIo, options: Partial<FileAuditSinkOptions> = {}, writeDepth?: number): Promise<FileAuditSink> {
  return openFileAuditSink({ dir, signingKey: keys.privateKey, ...options }, { io, now: () => T0, ...(writeDepth === undefined ? {} : { writeDepth }) });
}

/** Tracks an append: 'pending' until it settles, then 'ok' or the error code; `outcome` settles with it. */
function track(p: Promise<void>): { state: string; outcome: Promise<string> } {
  const t = { state: 'pending', outcome: Promise.resolve('') };
  t.outcome = p.then(
    () => (t.state = 'ok'),
    (e: unknown) => (t.state = isPurposekitError(e) ? e.code : String(e)),
  );
  return t;
}

/** `count` appends from request number `from`, as one tracked batch (they share one promise). */
function appendMany(sink: FileAuditSink, from: number, count = PIPELINE_MIN_RECORDS): { state: string; outcome: Promise<string>; ids: string[] } {
  const promises = Array.from({ length: count }, (_, i) => sink.append(accessEvent(from + i)));
  expect(new Set(promises).size).toBe(1);
  return Object.assign(track(promises[0]!), { ids: Array.from({ length: count }, (_, i) => `req-${from + i}`) });
}

function requestIds(dir: string): string[] {
  return readRecords(dir)
    .filter((r) => r['kind'] !== 'checkpoint')
    .map((r) => String(r['requestId']));
}

async function verified(dir: string): Promise<void> {
  const result = await verifyAuditTrail(dir, { publicKeys: [keys.publicKey] });
  expect(result.problem).toBeUndefined();
  expect(result.ok).toBe(true);
}

describe('file sink: pipelined group commit (sync mode)', () => {
  it('writes the next batch while the previous fdatasync is in flight, holds a third, and acknowledges in order', async () => {
    const io = steppedIo();
    const dir = tempDir();
    const sink = await openSink(dir, io);
    io.hold = () => true;
    const order: string[] = [];
    const a = track(sink.append(accessEvent(1)).then(() => void order.push('a')));
    const syncA = await io.nextSync();
    const b = appendMany(sink, 2);
    void b.outcome.then(() => order.push('b', `c is ${c.state}`));
    const syncB = await io.nextSync(); // B was written and its fdatasync started while A's is in flight
    expect(readLines(trailFiles(dir)[0]!)).toHaveLength(1 + PIPELINE_MIN_RECORDS);

    const writes = io.calls.write;
    const c = appendMany(sink, 100);
    await settled();
    expect(io.calls.write).toBe(writes); // two fdatasyncs in flight: C waits

    await syncB.release(); // B is durable, but A is not yet acknowledged: B waits, and so does C
    expect([a.state, b.state, c.state]).toEqual(['pending', 'pending', 'pending']);
    expect(io.calls.write).toBe(writes);

    await syncA.release();
    expect(await b.outcome).toBe('ok');
    expect(order).toEqual(['a', 'b', 'c is pending']);
    const syncC = await io.nextSync(); // C written once A and B are acknowledged
    await syncC.release();
    expect(await c.outcome).toBe('ok');

    io.hold = () => false;
    await sink.close();
    expect(requestIds(dir)).toEqual(['req-1', ...b.ids, ...c.ids]);
    await verified(dir);
  });

  it(`fewer than ${PIPELINE_MIN_RECORDS} queued records wait for the fdatasync in flight, then go as one batch`, async () => {
    const io = steppedIo();
    const dir = tempDir();
    const sink = await openSink(dir, io);
    io.hold = () => true;
    const a = track(sink.append(accessEvent(1)));
    const syncA = await io.nextSync();
    const writes = io.calls.write;
    const b = appendMany(sink, 2, PIPELINE_MIN_RECORDS - 1);
    await settled();
    expect(io.calls.write).toBe(writes);
    await syncA.release();
    expect(await a.outcome).toBe('ok');
    const syncB = await io.nextSync();
    expect(io.calls.write).toBe(writes + 1);
    await syncB.release();
    expect(await b.outcome).toBe('ok');
    io.hold = () => false;
    await sink.close();
    expect(requestIds(dir)).toEqual(['req-1', ...b.ids]);
  });

  it('callers that append again as soon as they are acknowledged stay in one batch per fdatasync (not two alternating halves)', async () => {
    const io = steppedIo();
    const dir = tempDir();
    const sink = await openSink(dir, io);
    const writes = io.calls.write;
    let n = 0;
    const worker = async (): Promise<void> => {
      for (let i = 0; i < 5; i++) await sink.append(accessEvent(n++));
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    // the first append goes alone; then each batch holds all eight callers: 1 + 39/8
    expect(io.calls.write - writes).toBeLessThanOrEqual(6);
    await sink.close();
    await verified(dir);
  });

  it('appends acknowledged together share one promise; batches do not', async () => {
    const io = steppedIo();
    const sink = await openSink(tempDir(), io);
    io.hold = () => true;
    const first = sink.append(accessEvent(1));
    const syncA = await io.nextSync();
    const seconds = Array.from({ length: PIPELINE_MIN_RECORDS }, (_, i) => sink.append(accessEvent(2 + i))); // written at once
    const second = seconds[0]!;
    const syncB = await io.nextSync();
    const third = sink.append(accessEvent(30)); // these two wait for room, in one batch
    const fourth = sink.append(accessEvent(31));
    expect(new Set(seconds).size).toBe(1);
    expect(third).toBe(fourth);
    expect(new Set([first, second, third]).size).toBe(3);
    await syncA.release();
    await syncB.release();
    const syncC = await io.nextSync();
    await syncC.release();
    await Promise.all([first, second, third, fourth]);
    io.hold = () => false;
    await sink.close();
  });

  it('writeDepth 1: no batch is written while an fdatasync is in flight', async () => {
    const io = steppedIo();
    const dir = tempDir();
    const sink = await openSink(dir, io, {}, 1);
    io.hold = () => true;
    const a = track(sink.append(accessEvent(1)));
    const syncA = await io.nextSync();
    const writes = io.calls.write;
    const b = track(sink.append(accessEvent(2)));
    await settled();
    expect(io.calls.write).toBe(writes);
    await syncA.release();
    expect(await a.outcome).toBe('ok');
    const syncB = await io.nextSync();
    await syncB.release();
    expect(await b.outcome).toBe('ok');
    io.hold = () => false;
    await sink.close();
    expect(requestIds(dir)).toEqual(['req-1', 'req-2']);
  });

  it("the older batch's fdatasync fails while the newer one's succeeds: both are refused (the newer one links to a refused record)", async () => {
    const io = steppedIo();
    const dir = tempDir();
    const sink = await openSink(dir, io);
    await sink.append(accessEvent(0));
    io.hold = () => true;
    const a = track(sink.append(accessEvent(1)));
    const syncA = await io.nextSync();
    const b = appendMany(sink, 2);
    const syncB = await io.nextSync();
    const { warnings } = await captureWarnings(async () => {
      await syncB.release();
      await syncA.release(errno('EIO'));
      await Promise.all([a.outcome, b.outcome]);
    });
    expect([a.state, b.state]).toEqual(['PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE']);
    expect(warnings.map((w) => w.code)).toEqual(['PURPOSEKIT_WARN_AUDIT_UNAVAILABLE']);
    io.hold = () => false;
    const { warnings: recovery } = await captureWarnings(() => sink.append(accessEvent(99)));
    expect(recovery.map((w) => w.code)).toEqual(['PURPOSEKIT_WARN_AUDIT_QUARANTINE', 'PURPOSEKIT_WARN_AUDIT_RECOVERED']);
    await sink.close();
    expect(requestIds(dir)).toEqual(['req-0', 'req-99']);
    await verified(dir);
  });

  it("the newer batch's fdatasync fails while the older one's succeeds: the older is acknowledged, the newer refused", async () => {
    const io = steppedIo();
    const dir = tempDir();
    const sink = await openSink(dir, io);
    await sink.append(accessEvent(0));
    io.hold = () => true;
    const a = track(sink.append(accessEvent(1)));
    const syncA = await io.nextSync();
    const b = appendMany(sink, 2);
    const syncB = await io.nextSync();
    await captureWarnings(async () => {
      await syncB.release(errno('EIO'));
      expect([a.state, b.state]).toEqual(['pending', 'pending']); // A's fdatasync may still succeed
      await syncA.release();
      await Promise.all([a.outcome, b.outcome]);
    });
    expect([a.state, b.state]).toEqual(['ok', 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE']);
    io.hold = () => false;
    await captureWarnings(() => sink.append(accessEvent(99)));
    await sink.close();
    expect(requestIds(dir)).toEqual(['req-0', 'req-1', 'req-99']);
    await verified(dir);
  });

  it("the newer batch's write fails while the older one's fdatasync is in flight: the older is acknowledged once durable, the newer and what queued behind it refused", async () => {
    const io = steppedIo();
    const dir = tempDir();
    const sink = await openSink(dir, io);
    io.hold = () => true;
    const a = track(sink.append(accessEvent(1)));
    const syncA = await io.nextSync();
    io.writeFault = () => errno('ENOSPC');
    const b = appendMany(sink, 2);
    await settled();
    const c = track(sink.append(accessEvent(50))); // queued while the failure waits for A
    await settled();
    expect([a.state, b.state, c.state]).toEqual(['pending', 'pending', 'pending']);
    await captureWarnings(async () => {
      await syncA.release();
      await Promise.all([a.outcome, b.outcome, c.outcome]);
    });
    expect([a.state, b.state, c.state]).toEqual(['ok', 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE']);
    io.writeFault = undefined;
    io.hold = () => false;
    await captureWarnings(() => sink.append(accessEvent(99)));
    await sink.close();
    expect(requestIds(dir)).toEqual(['req-1', 'req-99']);
    await verified(dir);
  });

  it.each([
    ['sync', ['PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE'], ['req-0', 'req-99']],
    ['batched', ['ok', 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE'], ['req-0', 'req-1', 'req-99']],
  ] as const)('%s: a batch whose write completes after the batch ahead failed is refused, neither acknowledged nor synced', async (durability, states, kept) => {
    const io = steppedIo();
    const dir = tempDir();
    const sink = await openSink(dir, io, { durability });
    await sink.append(accessEvent(0));
    io.hold = () => true;
    const a = track(sink.append(accessEvent(1)));
    const syncA = await io.nextSync();
    io.holdWrites = true;
    const b = appendMany(sink, 2);
    const writeB = await io.nextWrite();
    io.holdWrites = false;
    await captureWarnings(async () => {
      await syncA.release(errno('EIO'));
      // From here an fdatasync of B's batch would run and succeed: it must not be started.
      io.hold = () => false;
      const syncs = io.calls.fdatasync;
      await writeB.release();
      await Promise.all([a.outcome, b.outcome]);
      expect(io.calls.fdatasync).toBe(syncs);
    });
    expect([a.state, b.state]).toEqual(states);
    await captureWarnings(() => sink.append(accessEvent(99)));
    await sink.close();
    expect(requestIds(dir)).toEqual(kept);
    await verified(dir);
  });

  it("a checkpoint's head-file write does not hold up the acknowledgement of the batches behind it, and the head file ends with the last checkpoint", async () => {
    const io = steppedIo();
    const dir = tempDir();
    const sink = await openSink(dir, io, { checkpointEvery: 1 });
    const headTmp = (fd: number): boolean => io.fdsOf('audit.head.json.tmp').has(fd);
    io.hold = headTmp;
    await sink.append(accessEvent(1)); // acknowledged; its checkpoint's head write is held
    const headSync = await io.nextSync();
    await sink.append(accessEvent(2)); // acknowledged while that head write is still held
    await sink.append(accessEvent(3));
    let flushed = false;
    const flushing = sink.flush().then(() => (flushed = true));
    await settled();
    expect(flushed).toBe(false); // a flush covers the head file
    io.hold = () => false;
    await headSync.release();
    await flushing;
    await sink.close();
    const lines = readLines(trailFiles(dir)[0]!);
    expect(readFileSync(join(dir, 'audit.head.json'), 'utf8')).toBe(`${lines[lines.length - 1]}\n`);
    expect(requestIds(dir)).toEqual(['req-1', 'req-2', 'req-3']);
    await verified(dir);
  });

  it('a batch for the next file is written only once every batch of the current file is acknowledged', async () => {
    const io = steppedIo();
    const dir = tempDir();
    const sink = await openSink(dir, io, { maxFileBytes: 1024 });
    let n = 0;
    while (readFileSafe(join(dir, 'audit-00000001.jsonl')).length < 1024) await sink.append(accessEvent(n++));
    io.hold = (fd) => !io.fdsOf('audit.head.json.tmp').has(fd); // trail files only
    const next = track(sink.append(accessEvent(100))); // rotates: a checkpoint ends file 1, the record opens file 2
    const syncCheckpoint = await io.nextSync(); // the checkpoint, written to file 1
    await settled();
    expect(existsSync(join(dir, 'audit-00000002.jsonl'))).toBe(false);
    await syncCheckpoint.release();
    const syncNext = await io.nextSync();
    expect(existsSync(join(dir, 'audit-00000002.jsonl'))).toBe(true);
    await syncNext.release();
    expect(await next.outcome).toBe('ok');
    io.hold = () => false;
    await sink.close();
    expect(requestIds(dir)).toEqual([...Array.from({ length: n }, (_, k) => `req-${k}`), 'req-100']);
    await verified(dir);
  });
});

function readFileSafe(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}
