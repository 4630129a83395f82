/**
 * The writer lock of a trail directory: `<prefix>.lock` holds `<pid> <token>`. One writer
 * per trail. A lock whose process is gone is taken over; so is a lock holding this
 * process's own pid that no sink of this process holds — PID 1 in a container restarted
 * after a crash finds its own pid in the lock the crashed run left.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { AuditFileIo } from './file-io';
import { errnoCode, writeFully } from './file-tail';
import { lockFileName } from './files';

/**
 * Locks held by this process, by lock path → token. Kept on a global symbol so that two
 * installed copies of the core in one process still see each other's locks.
 */
const HELD_KEY = Symbol.for('purposekit.audit.heldLocks');
function held(): Map<string, string> {
  const g = globalThis as unknown as Record<symbol, Map<string, string> | undefined>;
  let map = g[HELD_KEY];
  if (map === undefined) {
    map = new Map();
    g[HELD_KEY] = map;
  }
  return map;
}

/** Why a lock could not be taken: held by `pid` (this process when `self`). */
export interface LockHeld {
  readonly pid: number;
  readonly self: boolean;
}

/** A taken lock. */
export interface TrailLock {
  release(): Promise<void>;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
}

/**
 * Takes the lock, or returns who holds it. Throws the I/O error when the directory cannot
 * be written.
 */
export async function takeTrailLock(io: AuditFileIo, dir: string, prefix: string): Promise<TrailLock | LockHeld> {
  const path = join(dir, lockFileName(prefix));
  const token = randomBytes(16).toString('hex');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = await io.open(path, 'wx', 0o600);
      try {
        await writeFully(io, fd, Buffer.from(`${process.pid} ${token}\n`));
        await io.fdatasync(fd);
      } catch (error) {
        await io.unlink(path).catch(() => undefined); // an empty lock would block the next start
        throw error;
      } finally {
        await io.close(fd);
      }
      held().set(path, token);
      let released = false;
      return {
        release: async () => {
          if (released) return;
          released = true;
          if (held().get(path) === token) held().delete(path);
          // Remove the lock only while it is still ours.
          const now = (await io.readFile(path).catch(() => undefined))?.toString('utf8') ?? '';
          if (now.trim().split(/\s+/)[1] === token) await io.unlink(path).catch(() => undefined);
        },
      };
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw error;
    }
    const text = ((await io.readFile(path)) ?? Buffer.alloc(0)).toString('utf8').trim();
    const [pidText] = text.split(/\s+/);
    const pid = Number.parseInt(pidText ?? '', 10);
    if (Number.isSafeInteger(pid) && pid > 0) {
      if (pid === process.pid) {
        // Ours only if a live sink of this process holds exactly this lock file.
        const mine = held().get(path);
        if (mine !== undefined) return { pid, self: true };
      } else if (processAlive(pid)) {
        return { pid, self: false };
      }
    }
    // The holder is gone (a crash), or the lock is unreadable: take it over.
    await io.unlink(path).catch(() => undefined);
  }
  throw Object.assign(new Error(`could not take the lock ${lockFileName(prefix)}`), { code: 'EBUSY' });
}
