// Child process of anchors.test.ts: writes records through a sink whose only anchor never
// answers (so every head stays in the outbox), prints each acknowledged request id, then
// "durable <seq>" once everything is flushed, and waits to be SIGKILLed.
import { readFileSync } from 'node:fs';
import { createFileAuditSink } from '../file-sink';
import { accessEvent } from './helpers';

const [dir, keyFile] = process.argv.slice(2) as [string, string];

async function main(): Promise<void> {
  const sink = await createFileAuditSink({
    dir,
    signingKey: readFileSync(keyFile, 'utf8'),
    checkpointEvery: 4,
    maxFileBytes: 2048,
    anchors: [{ name: 'witness', publish: () => new Promise<void>(() => undefined) }],
  });
  for (let i = 0; i < 30; i++) {
    await sink.append(accessEvent(i, { requestId: `child-${i}` }));
    process.stdout.write(`child-${i}\n`);
  }
  await sink.flush();
  process.stdout.write('durable\n');
  setInterval(() => undefined, 1000); // stay alive until killed
}

main().catch((error: unknown) => {
  process.stderr.write(`anchor-writer failed: ${String((error as Error)?.stack ?? error)}\n`);
  process.exitCode = 1;
});
