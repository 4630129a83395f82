/** A progress bar on stderr for long reads of large trails — only on a terminal. */
import { SingleBar } from 'cli-progress';
import type { CliIo } from './io';

/** Returns an `onProgress(bytesRead, bytesTotal)` callback and a `stop()`; no-ops when no bar is due. */
export function progressFor(io: CliIo, label: string, totalBytes: number): { onProgress: ((done: number, total: number) => void) | undefined; stop: () => void } {
  if (io.stderr.isTTY !== true || totalBytes < io.progressMinBytes) return { onProgress: undefined, stop: () => undefined };
  const mib = (n: number): string => (n / (1024 * 1024)).toFixed(1);
  const bar = new SingleBar({
    stream: io.stderr as unknown as NodeJS.WritableStream,
    format: `${label} [{bar}] {percentage}% | {done} / {size} MiB | ETA {eta_formatted}`,
    hideCursor: true,
    clearOnComplete: true,
  });
  bar.start(totalBytes, 0, { done: mib(0), size: mib(totalBytes) });
  return {
    onProgress: (done) => bar.update(done, { done: mib(done), size: mib(totalBytes) }),
    stop: () => bar.stop(),
  };
}

/**
 * The same bar for PostgreSQL work, counted in rows: the total is known only once the
 * reader counted them, so the bar starts at the first report, and only when the total
 * reaches `io.progressMinRows` on a terminal.
 */
export function rowProgressFor(io: CliIo, label: string): { onProgress: ((done: number, total: number) => void) | undefined; stop: () => void } {
  if (io.stderr.isTTY !== true) return { onProgress: undefined, stop: () => undefined };
  let bar: SingleBar | undefined;
  let quiet = false;
  return {
    onProgress: (done, total) => {
      if (quiet) return;
      if (bar === undefined) {
        if (total < io.progressMinRows) {
          quiet = true;
          return;
        }
        bar = new SingleBar({
          stream: io.stderr as unknown as NodeJS.WritableStream,
          format: `${label} [{bar}] {percentage}% | {value} / {total} rows | ETA {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: true,
        });
        bar.start(total, 0);
      }
      if (total !== bar.getTotal()) bar.setTotal(total);
      bar.update(done);
    },
    stop: () => bar?.stop(),
  };
}
