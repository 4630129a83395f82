/** What a command may touch of the outside world; tests pass their own. */
import { once } from 'node:events';

/** A writable text stream (process.stdout / process.stderr, or a test stream). */
export interface CliStream {
  write(chunk: string): boolean;
  once(event: 'drain', listener: () => void): unknown;
  /** True when the stream is a terminal (progress bars only then). */
  isTTY?: boolean;
}

/** The streams and settings {@link run} uses. */
export interface CliIo {
  stdout: CliStream;
  stderr: CliStream;
  /** Base for relative paths. Default `process.cwd()`. */
  cwd: string;
  /** Show a progress bar for trails of at least this many bytes (and only on a TTY stderr). Default 8 MiB. */
  progressMinBytes: number;
  /** Show a progress bar for PostgreSQL work over at least this many rows (and only on a TTY stderr). Default 50,000. */
  progressMinRows: number;
}

/** Writes with backpressure: waits for 'drain' when the stream asks for it. */
export async function writeOut(stream: CliStream, chunk: string): Promise<void> {
  if (!stream.write(chunk)) await once(stream as unknown as NodeJS.EventEmitter, 'drain');
}
