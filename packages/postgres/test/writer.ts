/**
 * A writer process for the done-means tests: claims one stream and appends records,
 * printing `ack <requestId>` for each acknowledged one (only after its promise
 * resolved), `rej <requestId>` for each refused one, and `up` once the stream is claimed.
 *
 * argv: <schema> <stream> <count> <concurrency> [mode]
 *   mode `once` (default): append <count> records, close, exit 0.
 *   mode `forever`: keep appending (refused appends are retried with new ids after the
 *   sink is back up), plus one more append every 10 ms, until SIGTERM, then close and exit 0.
 * The signing key comes from PK_TEST_SIGNING_KEY (PEM).
 * With PK_TEST_ANCHOR_FILE, the sink has one anchor named `shipper` that appends each head
 * it is given to that file (one JSON line, synchronously) and, after PK_TEST_ANCHOR_TAKE
 * heads, never answers again (an anchor that hangs: its heads stay pending).
 */
import { createPostgresAuditSink } from '../src/audit-sink';
import type { PostgresAuditSink } from '../src/audit-sink';
import { isPurposekitError } from '@purposekit/core';
import type { AnchoredHead, AuditAnchor, AuditEventInput } from '@purposekit/core';
import { appendFileSync } from 'node:fs';

const [schema, stream, countText, concurrencyText, mode = 'once'] = process.argv.slice(2) as [string, string, string, string, string?];
const count = Number(countText);
const concurrency = Number(concurrencyText);
const url = process.env['PK_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const key = process.env['PK_TEST_SIGNING_KEY']!;
const tag = `${process.pid}`;

let out = '';
function emit(line: string): void {
  out += `${line}\n`;
  if (out.length > 4096) flushOut();
}
function flushOut(): void {
  if (out.length > 0) process.stdout.write(out);
  out = '';
}
setInterval(flushOut, 5).unref();

function event(id: string): AuditEventInput {
  return {
    kind: 'access',
    actor: 'svc:writer',
    subject: `hmac-sha256:s-w:${'a'.repeat(63)}${String(id.length % 10)}`,
    data: ['email'],
    action: 'read',
    purpose: 'service.provision',
    basis: 'contract',
    policy: { id: 'test', version: '1' },
    requestId: id,
    decision: 'allow',
    reason: 'allowed',
  };
}

const anchorFile = process.env['PK_TEST_ANCHOR_FILE'];

function shipper(file: string): AuditAnchor {
  let taken = 0;
  const take = Number(process.env['PK_TEST_ANCHOR_TAKE'] ?? Infinity);
  return {
    name: 'shipper',
    publish: (head: AnchoredHead) => {
      if (taken >= take) return new Promise<void>(() => undefined);
      taken++;
      appendFileSync(file, `${JSON.stringify(head)}\n`);
      return Promise.resolve();
    },
  };
}

async function open(): Promise<PostgresAuditSink> {
  // A killed predecessor's session may take a moment to end: retry the claim briefly.
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      return await createPostgresAuditSink({
        connectionString: url,
        schema,
        stream,
        signingKey: key,
        checkpointEvery: Number(process.env['PK_TEST_CHECKPOINT_EVERY'] ?? 500),
        checkpointIntervalMs: 200,
        unknownOutcomeWaitMs: 10_000,
        ...(anchorFile === undefined ? {} : { anchors: [shipper(anchorFile)] }),
      });
    } catch (error) {
      if (!isPurposekitError(error) || (error.code !== 'PURPOSEKIT_ERR_AUDIT_STREAM_HELD' && error.code !== 'PURPOSEKIT_ERR_DB_CONNECT') || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

async function main(): Promise<void> {
  const sink = await open();
  emit('up');
  flushOut();
  let stopping = false;
  process.on('SIGTERM', () => {
    stopping = true;
  });
  let next = 0;
  const one = async (): Promise<void> => {
    for (;;) {
      if (stopping) return;
      if (mode === 'once' && next >= count) return;
      const id = `${stream}-${tag}-${next++}`;
      try {
        await sink.append(event(id));
        emit(`ack ${id}`);
      } catch (error) {
        emit(`rej ${id} ${isPurposekitError(error) ? error.code : 'other'}`);
        if (mode === 'once') throw error;
        // wait for the sink to come back (no busy loop)
        while (sink.state !== 'up' && !stopping) await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  // In `forever` mode a steady trickle of appends besides the concurrent loops, as a
  // service's incoming requests would be: while the database is down these are the appends
  // refused at once (the loops' own appends are then waiting on their batch's outcome).
  let trickle: NodeJS.Timeout | undefined;
  if (mode === 'forever') {
    trickle = setInterval(() => {
      if (stopping) return;
      const id = `${stream}-${tag}-t${next++}`;
      sink.append(event(id)).then(
        () => emit(`ack ${id}`),
        (error: unknown) => emit(`rej ${id} ${isPurposekitError(error) ? error.code : 'other'}`),
      );
    }, 10);
  }
  await Promise.all(Array.from({ length: concurrency }, one));
  if (trickle !== undefined) clearInterval(trickle);
  await sink.close();
  emit('done');
  flushOut();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    flushOut();
    process.stderr.write(`writer failed: ${isPurposekitError(error) ? `${error.code}: ${error.message}` : String(error)}\n`);
    process.exit(3);
  },
);
