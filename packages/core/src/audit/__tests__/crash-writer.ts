// Child process of crash.test.ts: writes access records as fast as it can through a
// sync-mode file sink, and prints each request id to stdout once append() has resolved
// (stdout to a pipe is synchronous on Linux, so a printed id was acknowledged).
import { readFileSync } from 'node:fs';
import { createFileAuditSink } from '../file-sink';
import { accessEvent } from './helpers';

const [dir, keyFile, run] = process.argv.slice(2) as [string, string, string];

async function main(): Promise<void> {
  const sink = await createFileAuditSink({ dir, signingKey: readFileSync(keyFile, 'utf8'), checkpointEvery: 25, maxFileBytes: 16 * 1024 });
  process.stdout.write('ready\n');
  let n = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const id = `${run}-${n++}`;
      await sink.append(accessEvent(n, { requestId: id }));
      process.stdout.write(`${id}\n`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

main().catch((error: unknown) => {
  process.stderr.write(`crash-writer failed: ${String((error as Error)?.stack ?? error)}\n`);
  process.exitCode = 1;
});
