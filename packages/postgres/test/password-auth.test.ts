/**
 * Issue 11, "bad input: wrong credentials", with a real password check. The machine's
 * shared server (127.0.0.1:5432) trusts every local connection, so a wrong password
 * cannot be tried there. This suite starts its own private PostgreSQL cluster for its
 * duration: `initdb --auth=scram-sha-256` with a superuser password into a temp dir,
 * `pg_ctl start` on a free loopback port (never 5432) with its socket in that dir; it is
 * stopped and the dir removed in afterAll, also when a test or the start-up fails.
 *
 * Then `migrate()`, the audit sink and the consent store, each given a wrong password
 * (and the right user with no password), must reject at start-up with the typed
 * PURPOSEKIT_ERR_DB_CONNECT (reason "auth"), create nothing, and never show the password
 * in any text an operator could see. With the right password, migrate works: the
 * rejections come from the password, not from a server the test cannot reach.
 *
 * Under CI=true this always runs (missing binaries fail it); elsewhere it skips, with a
 * message, only when the PostgreSQL server binaries are not installed.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Pool } from 'pg';
import { generateAuditKeys, isPurposekitError } from '@purposekit/core';
import type { PurposekitError } from '@purposekit/core';
import { POSTGRES_SCHEMA_VERSION, migrate } from '../src/migrate';
import { createPostgresAuditSink } from '../src/audit-sink';
import { createPostgresConsentStore } from '../src/consent-store';
import { schemaName } from '../src/__tests__/pg';

const run = promisify(execFile);

/** Debian's server binaries: /usr/lib/postgresql/<newest version in /etc/postgresql>/bin. */
function findBinaries(): string | undefined {
  if (!existsSync('/etc/postgresql')) return undefined;
  const versions = readdirSync('/etc/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(a) - Number(b));
  for (const v of versions.reverse()) {
    const bin = `/usr/lib/postgresql/${v}/bin`;
    if (['initdb', 'pg_ctl', 'pg_isready'].every((b) => existsSync(join(bin, b)))) return bin;
  }
  return undefined;
}

const BIN = findBinaries();
const RUN = process.env['CI'] === 'true' || BIN !== undefined;
if (!RUN) {
  process.stderr.write('@purposekit/postgres password-auth test skipped: no PostgreSQL server binaries (initdb, pg_ctl, pg_isready) under /usr/lib/postgresql/<version>/bin (it never skips under CI=true).\n');
}
const describeCluster: jest.Describe = RUN ? describe : describe.skip;

/** As root, the server runs as the `postgres` OS user (PostgreSQL refuses to run as root). */
const AS_ROOT = userInfo().uid === 0;

/** Runs a server binary, as `postgres` when we are root. */
async function pgBin(name: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  if (BIN === undefined) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql/<version>/bin (from `ls /etc/postgresql`).');
  const exe = join(BIN, name);
  return AS_ROOT ? run('runuser', ['-u', 'postgres', '--', exe, ...args]) : run(exe, args);
}

/** A loopback port nobody listens on right now (the OS picks it), never the shared 5432. */
async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const p = typeof address === 'object' && address !== null ? address.port : 0;
        server.close(() => resolve(p));
      });
    });
    if (port !== 5432 && port > 0) return port;
  }
}

jest.setTimeout(120_000);

const PASSWORD = `pk-right-${randomBytes(12).toString('hex')}`;
const WRONG = `pk-wrong-${randomBytes(12).toString('hex')}`;
const DATABASE = 'postgres';

let dir: string | undefined;
let dataDir = '';
let port = 0;
let started = false;
let admin: Pool | undefined;
const savedEnv = { PGPASSWORD: process.env['PGPASSWORD'], PGPASSFILE: process.env['PGPASSFILE'] };

function url(credentials: string): string {
  return `postgres://${credentials}@127.0.0.1:${port}/${DATABASE}`;
}

beforeAll(async () => {
  if (!RUN) return;
  // "No password" must mean no password: pg would otherwise fall back to PGPASSWORD / ~/.pgpass.
  delete process.env['PGPASSWORD'];
  dir = mkdtempSync(join(tmpdir(), 'pk-pgauth-'));
  process.env['PGPASSFILE'] = join(dir, 'no-such-pgpass');
  dataDir = join(dir, 'data');
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
  if (AS_ROOT) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
    chownSync(pwfile, Number(stdout.trim()), Number(gid.trim()));
  }
  await pgBin('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '--no-sync', '--no-instructions', '-E', 'UTF8', '--locale=C']);
  rmSync(pwfile);
  port = await freePort();
  expect(port).not.toBe(5432);
  // -W: pg_ctl returns at once; readiness is polled below with pg_isready.
  await pgBin('pg_ctl', ['start', '-W', '-D', dataDir, '-l', join(dir, 'server.log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`]);
  started = true;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await run(join(BIN!, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-t', '1']);
      break;
    } catch {
      if (Date.now() > deadline) {
        const log = existsSync(join(dir, 'server.log')) ? readFileSync(join(dir, 'server.log'), 'utf8') : '(no log)';
        throw new Error(`the private PostgreSQL on 127.0.0.1:${port} did not become ready within 60 s; its log:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  admin = new Pool({ connectionString: url(`postgres:${PASSWORD}`), max: 1 });
  admin.on('error', () => undefined);
});

afterAll(async () => {
  await admin?.end().catch(() => undefined);
  if (started) {
    try {
      await pgBin('pg_ctl', ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '60']);
    } catch {
      // pg_ctl could not stop it: end the postmaster we started, by the pid it wrote.
      const pidFile = join(dataDir, 'postmaster.pid');
      if (existsSync(pidFile)) {
        const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
        if (Number.isSafeInteger(pid) && pid > 0) {
          try {
            process.kill(pid, 'SIGQUIT');
          } catch {
            // already gone
          }
        }
      }
    }
  }
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

async function caught(p: Promise<unknown>): Promise<PurposekitError> {
  try {
    await p;
  } catch (e) {
    if (isPurposekitError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

/** Every text an operator could see from an error: message, details, stack, and the whole cause chain. */
function everything(e: unknown): string {
  const out: string[] = [];
  const seen = new Set<unknown>();
  let cur: unknown = e;
  while (cur !== undefined && cur !== null && !seen.has(cur)) {
    seen.add(cur);
    if (typeof cur === 'object') {
      const o = cur as { message?: unknown; stack?: unknown; details?: unknown; cause?: unknown };
      out.push(String(o.message ?? ''), String(o.stack ?? ''), JSON.stringify(o.details ?? {}), JSON.stringify(cur), String(cur));
      cur = o.cause;
    } else {
      out.push(String(cur));
      cur = undefined;
    }
  }
  return out.join('\n');
}

async function schemaExists(name: string): Promise<boolean> {
  const r = await admin!.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [name]);
  return r.rowCount === 1;
}

describeCluster('a private PostgreSQL cluster with scram-sha-256 password auth', () => {
  const keys = generateAuditKeys();
  const starts: ReadonlyArray<readonly [string, (connectionString: string, schema: string) => Promise<unknown>]> = [
    ['migrate()', (connectionString, schema) => migrate({ connectionString, schema })],
    [
      'createPostgresAuditSink({ migrate: true })',
      (connectionString, schema) => createPostgresAuditSink({ connectionString, schema, stream: 'w1', signingKey: keys.signingPrivateKeyPem, migrate: true }),
    ],
    ['createPostgresConsentStore({ migrate: true })', (connectionString, schema) => createPostgresConsentStore({ connectionString, schema, migrate: true })],
  ];

  it('runs on its own port, not the shared 5432, and really asks for a password', async () => {
    expect(port).not.toBe(5432);
    const r = await admin!.query<{ port: string; method: string }>("SELECT current_setting('port') AS port, current_setting('password_encryption') AS method");
    expect(r.rows).toEqual([{ port: String(port), method: 'scram-sha-256' }]);
    const hba = await admin!.query<{ auth_method: string }>("SELECT DISTINCT auth_method FROM pg_hba_file_rules WHERE type IN ('host', 'local')");
    expect(hba.rows.map((x) => x.auth_method)).toEqual(['scram-sha-256']);
  });

  describe.each(starts)('%s', (_name, start) => {
    it.each([
      ['a wrong password', () => `postgres:${WRONG}`, WRONG, /the server refused the credentials \(wrong user or password\)\.$/],
      ['the right user and no password', () => 'postgres', PASSWORD, /the server asks for a password and none was given \(wrong credentials\)\.$/],
    ])('with %s: a typed PURPOSEKIT_ERR_DB_CONNECT (authentication failed), no password in any text, nothing created', async (_case, credentials, secret, says) => {
      const schema = schemaName('pgauth');
      const e = await caught(start(url(credentials()), schema));
      expect(e.code).toBe('PURPOSEKIT_ERR_DB_CONNECT');
      expect(e.details).toMatchObject({ reason: 'auth', server: `postgres@127.0.0.1:${port}/${DATABASE}` });
      expect(e.message).toMatch(says);
      const text = everything(e);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(PASSWORD);
      expect(await schemaExists(schema)).toBe(false);
    });
  });

  it('with the right password, migrate() creates the schema (so the refusals above came from the password)', async () => {
    const schema = schemaName('pgauth');
    expect(await migrate({ connectionString: url(`postgres:${PASSWORD}`), schema })).toEqual({ schema, from: 0, to: POSTGRES_SCHEMA_VERSION, applied: Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1) });
    expect(await schemaExists(schema)).toBe(true);
    const store = await createPostgresConsentStore({ connectionString: url(`postgres:${PASSWORD}`), schema });
    await store.close();
  });
});
