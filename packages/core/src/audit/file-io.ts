/**
 * The I/O boundary of the file sink. The sink does every file operation through this
 * interface so that tests can inject failures (ENOSPC, EIO…) on the real files; the
 * default is plain node:fs on raw descriptors (no FileHandle objects on the hot path).
 */
import * as fs from 'node:fs';

/** What the sink needs of a file system. Paths are absolute; descriptors are numbers. */
export interface AuditFileIo {
  mkdir(path: string, mode: number): Promise<void>;
  readdir(path: string): Promise<string[]>;
  /** Opens with node:fs flags (`a`, `r`, `r+`, `w`, `wx`). */
  open(path: string, flags: string, mode?: number): Promise<number>;
  close(fd: number): Promise<void>;
  /** Writes at `position`, or at the end of an `a` file when `null`. Returns bytes written. */
  write(fd: number, buffer: Buffer, offset: number, length: number, position: number | null): Promise<number>;
  read(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  fdatasync(fd: number): Promise<void>;
  /** fsync of a directory (makes a created or renamed entry durable). */
  fsyncDir(path: string): Promise<void>;
  ftruncate(fd: number, length: number): Promise<void>;
  /** Synchronous: called once per batch to notice a removed or replaced file. */
  fstat(fd: number): { size: number; nlink: number; ino: number };
  /** Synchronous; `undefined` when the path does not exist. */
  stat(path: string): { size: number; ino: number } | undefined;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** `undefined` when the file does not exist. */
  readFile(path: string): Promise<Buffer | undefined>;
}

function cb<T>(run: (done: (err: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => run((err, value) => (err ? reject(err) : resolve(value as T))));
}

/** The real file system. */
export const nodeAuditFileIo: AuditFileIo = Object.freeze({
  mkdir: (path: string, mode: number) => cb<void>((d) => fs.mkdir(path, { recursive: true, mode }, (err) => d(err))),
  readdir: (path: string) => cb<string[]>((d) => fs.readdir(path, d)),
  open: (path: string, flags: string, mode = 0o600) => cb<number>((d) => fs.open(path, flags, mode, d)),
  close: (fd: number) => cb<void>((d) => fs.close(fd, (err) => d(err))),
  write: (fd: number, buffer: Buffer, offset: number, length: number, position: number | null) =>
    cb<number>((d) => fs.write(fd, buffer, offset, length, position, (err, n) => d(err, n))),
  read: (fd: number, buffer: Buffer, offset: number, length: number, position: number) =>
    cb<number>((d) => fs.read(fd, buffer, offset, length, position, (err, n) => d(err, n))),
  fdatasync: (fd: number) => cb<void>((d) => fs.fdatasync(fd, (err) => d(err))),
  fsyncDir: async (path: string) => {
    const fd = await cb<number>((d) => fs.open(path, 'r', d));
    try {
      await cb<void>((d) => fs.fsync(fd, (err) => d(err)));
    } finally {
      await cb<void>((d) => fs.close(fd, (err) => d(err)));
    }
  },
  ftruncate: (fd: number, length: number) => cb<void>((d) => fs.ftruncate(fd, length, (err) => d(err))),
  fstat: (fd: number) => {
    const s = fs.fstatSync(fd);
    return { size: s.size, nlink: s.nlink, ino: s.ino };
  },
  stat: (path: string) => {
    const s = fs.statSync(path, { throwIfNoEntry: false });
    return s === undefined ? undefined : { size: s.size, ino: s.ino };
  },
  rename: (from: string, to: string) => cb<void>((d) => fs.rename(from, to, (err) => d(err))),
  unlink: (path: string) => cb<void>((d) => fs.unlink(path, (err) => d(err))),
  readFile: (path: string) =>
    cb<Buffer | undefined>((d) =>
      fs.readFile(path, (err, data) => {
        if (err && err.code === 'ENOENT') d(null, undefined);
        else d(err, data);
      }),
    ),
});
