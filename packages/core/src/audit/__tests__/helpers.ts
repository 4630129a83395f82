// Shared fixtures for the audit tests.
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSubjectPseudonymizer } from '../../pseudonym';
import { nodeAuditFileIo } from '../file-io';
import type { AuditFileIo } from '../file-io';
import type { AuditEventInput } from '../types';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function keyPair(): KeyPair {
  return generateKeyPairSync('ed25519');
}

const dirs: string[] = [];

/** A fresh temporary directory, removed by {@link cleanupDirs}. */
export function tempDir(label = 'trail'): string {
  const dir = mkdtempSync(join(tmpdir(), `pk-audit-${label}-`));
  dirs.push(dir);
  return dir;
}

export function cleanupDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export const pseudonymize = createSubjectPseudonymizer({ id: 'test-key', secret: Buffer.alloc(32, 0x5a) });

/** A valid access event; `n` makes the request id unique. */
export function accessEvent(n: number, overrides: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    kind: 'access',
    actor: 'svc:accounts',
    subject: pseudonymize(`user-${n % 7}`),
    data: ['email', 'name'],
    action: 'read',
    purpose: 'service.provision',
    basis: 'contract',
    policy: { id: 'openinfra', version: '2024-06' },
    requestId: `req-${n}`,
    decision: 'allow',
    reason: 'allowed',
    ...overrides,
  };
}

/** The trail files of a directory, in order. */
export function trailFiles(dir: string, prefix = 'audit'): string[] {
  return readdirSync(dir)
    .filter((n) => new RegExp(`^${prefix}-\\d{8}\\.jsonl$`).test(n))
    .sort()
    .map((n) => join(dir, n));
}

/** Every record of a directory's trail, parsed. */
export function readRecords(dir: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const f of trailFiles(dir)) {
    for (const line of readFileSync(f, 'utf8').split('\n')) if (line !== '') out.push(JSON.parse(line) as Record<string, unknown>);
  }
  return out;
}

export function readLines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
}

export function writeLines(file: string, lines: readonly string[]): void {
  writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
}

export type Fault = (info: { fd: number; length: number; call: number }) => Error | { partial: number } | undefined;

/** node:fs with switchable faults at the sink's I/O boundary, and call counters. */
export interface FaultyIo extends AuditFileIo {
  faults: {
    write?: Fault;
    fdatasync?: Fault;
    open?: (path: string, flags: string) => Error | undefined;
    /** Returns how many bytes this read may deliver at most (0: a read that hits a shrunk file). */
    read?: (info: { fd: number; length: number; position: number; call: number }) => number | undefined;
  };
  calls: { write: number; fdatasync: number; read: number };
  /** When set, fdatasync waits for this promise (to observe acknowledgement timing). */
  gate: Promise<void> | undefined;
  /** Holds every fdatasync until `release()`; `entered` resolves when one is waiting (its write is done). */
  holdFdatasync(): { entered: Promise<void>; release: () => void };
}

export function errno(code: string): Error {
  return Object.assign(new Error(`${code}: simulated`), { code });
}

export function faultyIo(): FaultyIo {
  let onEnter: (() => void) | undefined;
  const io: FaultyIo = {
    ...nodeAuditFileIo,
    faults: {},
    calls: { write: 0, fdatasync: 0, read: 0 },
    gate: undefined,
    holdFdatasync() {
      let release!: () => void;
      let entered!: () => void;
      const enteredP = new Promise<void>((r) => (entered = r));
      io.gate = new Promise<void>((r) => (release = r));
      onEnter = entered;
      return {
        entered: enteredP,
        release: () => {
          io.gate = undefined;
          onEnter = undefined;
          release();
        },
      };
    },
    async open(path, flags, mode) {
      const f = io.faults.open?.(path, flags);
      if (f !== undefined) throw f;
      return nodeAuditFileIo.open(path, flags, mode);
    },
    async read(fd, buffer, offset, length, position) {
      io.calls.read++;
      const max = io.faults.read?.({ fd, length, position, call: io.calls.read });
      return nodeAuditFileIo.read(fd, buffer, offset, max === undefined ? length : Math.min(max, length), position);
    },
    async write(fd, buffer, offset, length, position) {
      io.calls.write++;
      const f = io.faults.write?.({ fd, length, call: io.calls.write });
      if (f instanceof Error) throw f;
      if (f !== undefined) {
        // A short write before the device fills: some bytes land, then the next call fails.
        const n = Math.min(f.partial, length);
        return nodeAuditFileIo.write(fd, buffer, offset, n, position);
      }
      return nodeAuditFileIo.write(fd, buffer, offset, length, position);
    },
    async fdatasync(fd) {
      io.calls.fdatasync++;
      onEnter?.();
      if (io.gate !== undefined) await io.gate;
      const f = io.faults.fdatasync?.({ fd, length: 0, call: io.calls.fdatasync });
      if (f instanceof Error) throw f;
      return nodeAuditFileIo.fdatasync(fd);
    },
  };
  return io;
}

/** Collects the warnings purposekit emits (process.emitWarning) while `run` runs. */
export async function captureWarnings<T>(run: () => Promise<T>): Promise<{ result: T; warnings: Array<{ code: string; message: string }> }> {
  const warnings: Array<{ code: string; message: string }> = [];
  const spy = jest.spyOn(process, 'emitWarning').mockImplementation(((message: string | Error, options?: { code?: string }) => {
    warnings.push({ code: options?.code ?? '', message: String(message) });
  }) as typeof process.emitWarning);
  try {
    return { result: await run(), warnings };
  } finally {
    spy.mockRestore();
  }
}
