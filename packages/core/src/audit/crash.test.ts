import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openFileAuditSink } from './file-sink';
import { verifyAuditTrail } from './verify';
import { captureWarnings, cleanupDirs, keyPair, readRecords, tempDir } from './__tests__/helpers';

const REGISTER = join(__dirname, '../../../../tools/test-support/register-ts.cjs');
const WRITER = join(__dirname, '__tests__', 'crash-writer.ts');
const ITERATIONS = 20;

afterAll(cleanupDirs);

interface Run {
  acknowledged: string[];
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Starts a writer, SIGKILLs it once it has acknowledged `killAfter` records, waits for it to be gone. */
function runAndKill(dir: string, keyFile: string, tag: string, killAfter: number): Promise<Run> {
  return new Promise<Run>((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', REGISTER, WRITER, dir, keyFile, tag], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acknowledged: string[] = [];
    let pending = '';
    let stderr = '';
    let killed = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) if (line !== 'ready') acknowledged.push(line);
      if (!killed && acknowledged.length >= killAfter) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    // 'close' fires after the process is gone AND its pipes are drained: every printed id is in.
    child.on('close', (_code, signal) => resolve({ acknowledged, signal, stderr }));
  });
}

describe('crash safety of the file sink (sync mode)', () => {
  it(`keeps every acknowledged record through ${ITERATIONS} SIGKILLs under load, and the trail verifies`, async () => {
    const dir = tempDir('crash');
    const keys = keyPair();
    const keyFile = join(tempDir('crash-key'), 'signing.pem');
    writeFileSync(keyFile, keys.privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const acknowledged: string[] = [];
    let tornWarnings = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      // kill at a different point each time: right after start-up, mid-batch, after rotations
      const run = await runAndKill(dir, keyFile, `r${i}`, 1 + ((i * 47) % 160));
      expect({ signal: run.signal, stderr: run.stderr.includes('crash-writer failed') ? run.stderr : '' }).toEqual({ signal: 'SIGKILL', stderr: '' });
      acknowledged.push(...run.acknowledged);
      tornWarnings += run.stderr.split('PURPOSEKIT_WARN_AUDIT_TORN_LINE').length - 1;
    }

    // As the last crash left it (perhaps with a torn line): every link and signature holds.
    const crashed = await verifyAuditTrail(dir, { publicKeys: [keys.publicKey] });
    expect(crashed.problem).toBeUndefined();
    expect(crashed.ok).toBe(true);

    // A restart quarantines a torn line and seals the tail; the trail verifies again.
    const { result: sink, warnings } = await captureWarnings(() => openFileAuditSink({ dir, signingKey: keys.privateKey }, {}));
    await sink.close();
    tornWarnings += warnings.filter((w) => w.code === 'PURPOSEKIT_WARN_AUDIT_TORN_LINE').length;
    const final = await verifyAuditTrail(dir, { publicKeys: [keys.publicKey] });
    expect(final).toMatchObject({ ok: true, unsignedTail: 0 });

    const present = new Set(readRecords(dir).map((r) => r['requestId']));
    const lost = acknowledged.filter((id) => !present.has(id));
    expect(acknowledged.length).toBeGreaterThan(ITERATIONS * 10);
    expect(lost).toEqual([]);
    // every torn line a crash left was set aside with a warning, none silently
    expect(readdirSync(dir).filter((n) => n.includes('.quarantine-')).length).toBe(tornWarnings);
    if (process.env['PK_CRASH_STATS'] === '1') process.stderr.write(`acknowledged=${acknowledged.length} torn=${tornWarnings} files=${final.files.length}\n`);
  }, 120_000);
});
