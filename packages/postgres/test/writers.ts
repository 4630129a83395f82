/** Spawning writer processes (test/writer.ts) and reading what they acknowledged. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PG_URL } from '../src/__tests__/pg';

const REGISTER = join(__dirname, '../../../tools/test-support/register-ts.cjs');
const SCRIPT = join(__dirname, 'writer.ts');

/** A running writer: what it has acknowledged and refused so far. */
export interface Writer {
  readonly child: ChildProcess;
  readonly acked: Set<string>;
  readonly refused: string[];
  readonly stderr: () => string;
  /** Resolves when the writer printed `up` (its stream is claimed). */
  readonly up: Promise<void>;
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;
  /** Resolves once at least n records are acknowledged. */
  acks(n: number): Promise<void>;
}

export function startWriter(schema: string, stream: string, count: number, concurrency: number, signingKeyPem: string, mode: 'once' | 'forever' = 'once', env: Record<string, string> = {}): Writer {
  const child = spawn(process.execPath, ['-r', REGISTER, SCRIPT, schema, stream, String(count), String(concurrency), mode], {
    env: { ...process.env, ...env, PK_TEST_SIGNING_KEY: signingKeyPem, PK_TEST_PG_URL: PG_URL },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acked = new Set<string>();
  const refused: string[] = [];
  let err = '';
  let carry = '';
  let onUp: () => void = () => undefined;
  const up = new Promise<void>((r) => (onUp = r));
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    const text = carry + chunk;
    const lines = text.split('\n');
    carry = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('ack ')) acked.add(line.slice(4));
      else if (line.startsWith('rej ')) refused.push(line.slice(4));
      else if (line === 'up') onUp();
    }
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (acked.size >= waiters[i]!.n) waiters.splice(i, 1)[0]!.resolve();
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (c: string) => (err += c));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  return {
    child,
    acked,
    refused,
    stderr: () => err,
    up,
    exited,
    acks: (n) =>
      acked.size >= n
        ? Promise.resolve()
        : Promise.race([
            new Promise<void>((resolve) => waiters.push({ n, resolve })),
            exited.then((code) => {
              if (acked.size < n) throw new Error(`writer exited (${code}) after ${acked.size} acks: ${err}`);
            }),
          ]),
  };
}
