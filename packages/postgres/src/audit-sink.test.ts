import { createServer, connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { Pool as PgPool } from 'pg';
import type { Pool, PoolClient } from 'pg';
import { createPostgresAuditSink } from './audit-sink';
import type { PostgresAuditSink, PostgresAuditSinkOptions } from './audit-sink';
import { migrate } from './migrate';
import { buildPostgresSubjectReport, createPostgresAccessLog, exportPostgresTrail, listPostgresOpenRightsRequests, verifyPostgresTrail } from './trail';
import { describePg, dropSchemas, schemaName, testPool } from './__tests__/pg';
import { KEYS, SUBJECT_KEY, access, caught, pseudonym, until } from './__tests__/fixtures';

jest.setTimeout(30_000);
const pool = testPool(10);
const made: string[] = [];
const open: PostgresAuditSink[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close().catch(() => undefined)));
});
afterAll(async () => {
  await dropSchemas(pool, made);
  await pool.end();
});

async function freshSchema(tag: string): Promise<string> {
  const schema = schemaName(tag);
  made.push(schema);
  await migrate({ pool, schema });
  return schema;
}

async function sink(schema: string, stream: string, options: Partial<PostgresAuditSinkOptions> = {}, p: Pool = pool): Promise<PostgresAuditSink> {
  const s = await createPostgresAuditSink({ pool: p, schema, stream, signingKey: KEYS.signingPrivateKeyPem, ...options });
  open.push(s);
  return s;
}

async function rows(schema: string, stream: string): Promise<Array<Record<string, unknown>>> {
  const r = await pool.query<{ record: string }>(`SELECT record FROM "${schema}".audit_records WHERE stream = $1 ORDER BY seq`, [stream]);
  return r.rows.map((x) => JSON.parse(x.record) as Record<string, unknown>);
}

async function verified(schema: string): Promise<void> {
  const result = await verifyPostgresTrail({ pool, schema, publicKeys: [KEYS.signingPublicKeyPem] });
  expect(result.problem).toBeUndefined();
  expect(result.ok).toBe(true);
}

/** Ends the sink's database session from outside, as a server restart or a network cut would. */
async function killSessions(schema: string): Promise<number> {
  const r = await pool.query(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid() AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND pid IN (SELECT pid FROM pg_stat_activity WHERE query LIKE $1)`, [`%${schema}%`]);
  return r.rowCount ?? 0;
}

/**
 * A TCP proxy in front of the server. `drop()`: from then on the server's answers are not
 * passed on (what the sink sends still reaches the server); `cut()`: every connection
 * through it ends, as a network cut would. `watch` sees each chunk either way first and
 * may ask for its connection to be cut instead of passing it on. After a cut, answers
 * pass again (the sink's reconnect goes through). `refuse(true)`: new connections are
 * closed at once (the database is unreachable through it) until `refuse(false)`.
 */
async function answerProxy(
  watch?: (chunk: Buffer, from: 'client' | 'server') => 'cut' | undefined,
): Promise<{ pool: Pool; drop: () => void; cut: () => void; refuse: (on: boolean) => void; close: () => Promise<void> }> {
  let dropping = false;
  let refusing = false;
  const sockets = new Set<Socket>();
  const proxy = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const server = connect(5432, '127.0.0.1');
    sockets.add(client).add(server);
    const end = (): void => {
      dropping = false;
      client.destroy();
      server.destroy();
    };
    client.on('data', (d: Buffer) => (watch?.(d, 'client') === 'cut' ? end() : server.write(d)));
    server.on('data', (d: Buffer) => {
      if (watch?.(d, 'server') === 'cut') end();
      else if (!dropping) client.write(d);
    });
    client.on('error', () => undefined);
    server.on('error', () => undefined);
    client.on('close', () => server.destroy());
    server.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  const port = (proxy.address() as AddressInfo).port;
  const viaProxy = new PgPool({ host: '127.0.0.1', port, user: 'postgres', database: 'test', max: 2 });
  viaProxy.on('error', () => undefined);
  const cut = (): void => {
    for (const x of sockets) x.destroy();
    sockets.clear();
  };
  return {
    pool: viaProxy,
    drop: () => (dropping = true),
    refuse: (on) => (refusing = on),
    cut: () => {
      dropping = false;
      cut();
    },
    close: async () => {
      cut();
      await viaProxy.end();
      await new Promise((r) => proxy.close(r));
    },
  };
}

describePg('createPostgresAuditSink', () => {
  it.each([
    ['no stream', { stream: undefined }, 'PURPOSEKIT_ERR_INVALID_OPTION', /"stream" must be/],
    ['a stream with a space', { stream: 'web 1' }, 'PURPOSEKIT_ERR_INVALID_OPTION', /"stream" must be/],
    ['no key', { signingKey: undefined }, 'PURPOSEKIT_ERR_INVALID_KEY', /"signingKey" is required/],
    ['a key that is not PEM', { signingKey: 'nope' }, 'PURPOSEKIT_ERR_INVALID_KEY', /not a PEM private key/],
    ['an unknown option', { strem: 'x' }, 'PURPOSEKIT_ERR_INVALID_OPTION', /unknown option "strem"/],
    ['a zero batch', { maxBatch: 0 }, 'PURPOSEKIT_ERR_INVALID_OPTION', /"maxBatch" must be an integer/],
    ['an anchor that is neither an anchor nor a function', { anchors: [42] }, 'PURPOSEKIT_ERR_INVALID_OPTION', /"anchors\[0\]" must be an anchor/],
  ])('refuses %s', async (_n, over, code, message) => {
    const e = await caught(createPostgresAuditSink({ pool, schema: 'pk_postgres_unused', stream: 'w1', signingKey: KEYS.signingPrivateKeyPem, ...over } as PostgresAuditSinkOptions));
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
  });

  it('writes a chain in the file format, one row per record, signed on close; verify holds', async () => {
    const schema = await freshSchema('chain');
    const s = await sink(schema, 'web-1');
    await s.append(access('r1', 'alice'));
    await s.append(access('r2'));
    await s.close();
    const got = await rows(schema, 'web-1');
    expect(got.map((r) => [r['seq'], r['kind'], r['requestId'] ?? null])).toEqual([
      [1, 'access', 'r1'],
      [2, 'access', 'r2'],
      [3, 'checkpoint', null],
    ]);
    expect(got[0]!['prev']).toBe('0'.repeat(64));
    expect(got[1]!['prev']).toBe(got[0]!['hash']);
    expect(got[2]!['keyId']).toBe(KEYS.signingKeyId);
    const head = await pool.query(`SELECT head_seq::int AS s, head_hash AS h FROM "${schema}".audit_streams WHERE stream = 'web-1'`);
    expect(head.rows[0]).toEqual({ s: 3, h: got[2]!['hash'] });
    await verified(schema);
  });

  /**
   * A pool of one session whose audit INSERTs are counted as the sink sends them: `sizes`
   * holds each one's record count (its records parameter is one LF-separated text),
   * `mostOnWire` the most that were on the wire at once.
   */
  function countingPool(): { pool: Pool; sizes: number[]; mostOnWire: () => number; client: () => PoolClient | undefined } {
    const sizes: number[] = [];
    let onWire = 0;
    let most = 0;
    const counting = testPool(1);
    const connect = counting.connect.bind(counting) as () => Promise<PoolClient>;
    let sinkClient: PoolClient | undefined;
    (counting as unknown as { connect: () => Promise<PoolClient> }).connect = async () => {
      const c = await connect();
      if (sinkClient !== undefined) return c;
      sinkClient = c;
      const query = c.query.bind(c) as (...a: unknown[]) => Promise<unknown>;
      (c as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
        const config = a[0] as { text?: unknown; values?: unknown[] } | string | null;
        const text = typeof config === 'string' ? config : config?.text;
        if (!(typeof text === 'string' && text.includes('INSERT INTO') && text.includes('audit_records'))) return query(...a);
        const records = typeof config === 'object' && config !== null ? config.values?.[5] : undefined;
        sizes.push(Buffer.isBuffer(records) ? records.toString('utf8').split('\n').length : -1);
        most = Math.max(most, ++onWire);
        return query(...a).finally(() => onWire--);
      };
      return c;
    };
    return { pool: counting, sizes, mostOnWire: () => most, client: () => sinkClient };
  }

  it('group commit: 400 concurrent appends go in far fewer INSERTs, all acknowledged, in seq order', async () => {
    const schema = await freshSchema('group');
    const counting = countingPool();
    const s = await sink(schema, 'g', {}, counting.pool);
    await s.append(access('first')); // makes the month's partitions: from now on, batches go straight out
    // A handful of callers: the first append goes out at once, the other four wait for its
    // COMMIT and go together (a second batch behind it would cost a second commit).
    const before = counting.sizes.length;
    await Promise.all(Array.from({ length: 5 }, (_, i) => s.append(access(`few${i}`))));
    expect([counting.sizes.slice(before), counting.mostOnWire()]).toEqual([[1, 4], 1]);
    await Promise.all(Array.from({ length: 400 }, (_, i) => s.append(access(`r${i}`))));
    await s.close();
    // Pipelined: a second batch went out while the first was committing.
    expect(counting.mostOnWire()).toBe(2);
    // The session went back to the pool as an ordinary (not pipelined) client.
    const again = await counting.pool.connect();
    expect(again).toBe(counting.client());
    expect((again as unknown as { pipeline: boolean }).pipeline).toBe(false);
    again.release();
    await counting.pool.end();
    expect(counting.sizes.length).toBeLessThan(50);
    const got = await rows(schema, 'g');
    expect(got.filter((r) => r['kind'] === 'access')).toHaveLength(406);
    expect(got.map((r) => r['seq'])).toEqual(Array.from({ length: got.length }, (_, i) => i + 1));
    await verified(schema);
  });

  it.each([
    [100, [50, 50]],
    [33, [17, 16]],
    [31, [31]],
  ])('a backlog of %i found with nothing on the wire goes out as %j (two halves, the second pipelined behind the first, from 32 up)', async (n, expected) => {
    const schema = await freshSchema(`halves${n}`);
    const counting = countingPool();
    const s = await sink(schema, 'h', { checkpointIntervalMs: 60_000 }, counting.pool);
    // The first append finds the month's partitions missing: while the sink makes them,
    // the others wait, so all of them are there, with nothing on the wire, when it sends.
    await Promise.all(Array.from({ length: n }, (_, i) => s.append(access(`b${i}`))));
    expect(counting.sizes).toEqual(expected);
    expect(counting.mostOnWire()).toBe(expected.length);
    await s.close();
    await counting.pool.end();
    expect((await rows(schema, 'h')).map((r) => r['requestId']).filter((x) => x !== undefined)).toEqual(Array.from({ length: n }, (_, i) => `b${i}`));
    await verified(schema);
  });

  it("stores each row's kind and subject columns as its record says, in batches mixing subjects, none and checkpoints", async () => {
    const schema = await freshSchema('columns');
    const s = await sink(schema, 'c', { checkpointEvery: 7 });
    await s.append(access('first', 'alice'));
    const events = Array.from({ length: 60 }, (_, i) =>
      i % 3 === 0 ? access(`n${i}`) : i % 5 === 0 ? { ...access(`k${i}`, `u${i}`), kind: 'consent' as const, purpose: 'newsletter' } : access(`s${i}`, `u${i % 4}`),
    );
    await Promise.all(events.map((e) => s.append(e)));
    await s.close();
    const r = await pool.query<{ seq: string; kind: string; subject: string | null; record: string }>(`SELECT seq::text, kind, subject, record FROM "${schema}".audit_records WHERE stream = 'c' ORDER BY seq`);
    expect(r.rows.length).toBe(61 + Math.ceil(61 / 7));
    for (const row of r.rows) {
      const record = JSON.parse(row.record) as { seq: number; kind: string; subject?: string };
      expect([Number(row.seq), row.kind, row.subject]).toEqual([record.seq, record.kind, record.subject ?? null]);
    }
    // The mix really happened: rows with no subject (events and checkpoints) sit between rows with one.
    expect(r.rows.filter((x) => x.subject === null && x.kind === 'access').length).toBe(20);
    expect(r.rows.filter((x) => x.kind === 'checkpoint').length).toBe(Math.ceil(61 / 7));
    expect(r.rows.filter((x) => x.kind === 'consent').length).toBe(8);
    await verified(schema);
  });

  it('an event changed after append() into a kind or subject that cannot be stored is refused with its batch; nothing is written and the chain goes on', async () => {
    const schema = await freshSchema('changed');
    const s = await sink(schema, 'x');
    await s.append(access('first', 'alice'));
    for (const change of [(e: Record<string, unknown>) => (e['subject'] = `${pseudonym('bob')}\nhmac-sha256:x:${'0'.repeat(64)}`), (e: Record<string, unknown>) => (e['kind'] = 'access\nrights')]) {
      const ahead = s.append(access('ahead', 'dave')); // on the wire: the next append waits for its COMMIT
      const event = access('changed', 'bob') as unknown as Record<string, unknown>;
      const p = s.append(event as never);
      change(event); // after validation, before its batch is sealed
      await ahead;
      const e = await caught(p);
      expect(e.code).toBe('PURPOSEKIT_ERR_AUDIT_UNAVAILABLE');
      expect(e.message).toMatch(/could not be sealed/);
    }
    await s.append(access('after', 'carol'));
    await s.close();
    const got = await rows(schema, 'x');
    expect(got.map((x) => [x['seq'], x['requestId'] ?? x['kind']])).toEqual([
      [1, 'first'],
      [2, 'ahead'],
      [3, 'ahead'],
      [4, 'after'],
      [5, 'checkpoint'],
    ]);
    await verified(schema);
  });

  it('signs a checkpoint every N records and after an idle interval', async () => {
    const schema = await freshSchema('cp');
    const s = await sink(schema, 'c', { checkpointEvery: 3, checkpointIntervalMs: 3_600_000 });
    for (let i = 0; i < 7; i++) await s.append(access(`r${i}`));
    expect((await rows(schema, 'c')).map((r) => r['kind'] === 'checkpoint')).toEqual([false, false, false, true, false, false, false, true, false]);
    const t = await sink(schema, 't', { checkpointEvery: 1000, checkpointIntervalMs: 50 });
    await t.append(access('idle'));
    await until(async () => (await rows(schema, 't')).at(-1)?.['kind'] === 'checkpoint', 'the interval checkpoint');
    await verified(schema);
  });

  it('refuses a second live writer on a stream; after close the next writer continues the chain', async () => {
    const schema = await freshSchema('claim');
    const a = await sink(schema, 'w');
    await a.append(access('a1'));
    const e = await caught(sink(schema, 'w'));
    expect(e.code).toBe('PURPOSEKIT_ERR_AUDIT_STREAM_HELD');
    expect(e.message).toMatch(/held by another live writer/);
    await a.close();
    const b = await sink(schema, 'w');
    await b.append(access('b1'));
    await b.close();
    expect((await rows(schema, 'w')).map((r) => `${r['seq']}:${r['requestId'] ?? 'cp'}`)).toEqual(['1:a1', '2:cp', '3:b1', '4:cp']);
    await verified(schema);
  });

  it('takes over a crashed writer (its session ended, unsigned tail) and seals the tail first', async () => {
    const schema = await freshSchema('crash');
    const client = await pool.connect();
    let handedOut = false;
    // After the "crash" this writer never gets a connection again (the process is gone).
    const crashedPool = {
      connect: async () => {
        if (handedOut) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        handedOut = true;
        return client;
      },
      on: () => undefined,
    } as unknown as Pool;
    const a = await createPostgresAuditSink({ pool: crashedPool, schema, stream: 'w', signingKey: KEYS.signingPrivateKeyPem, checkpointIntervalMs: 60_000 });
    await a.append(access('a1'));
    await a.append(access('a2'));
    // the "process" dies: its session goes away without close()
    await pool.query('SELECT pg_terminate_backend($1)', [(client as unknown as { processID: number }).processID]);
    await until(() => a.state !== 'up', 'the dead session to be noticed');
    const b = await sink(schema, 'w');
    await b.append(access('b1'));
    await b.close();
    expect((await rows(schema, 'w')).map((r) => `${r['seq']}:${r['requestId'] ?? 'cp'}`)).toEqual(['1:a1', '2:a2', '3:cp', '4:b1', '5:cp']);
    await verified(schema);
  });

  it('fails closed when its session is lost, then reconnects and resumes by itself', async () => {
    const schema = await freshSchema('down');
    const warnings: string[] = [];
    const s = await sink(schema, 'w', { onWarning: (_m, code) => warnings.push(code) });
    await s.append(access('before'));
    expect(await killSessions(schema)).toBeGreaterThan(0);
    // at once: refused while down (or, if the reconnect won the race, written)
    await until(() => warnings.includes('PURPOSEKIT_WARN_AUDIT_DB_LOST'), 'the loss to be noticed');
    await until(() => s.state === 'up', 'the reconnect');
    await s.append(access('after'));
    await s.close();
    const ids = (await rows(schema, 'w')).map((r) => r['requestId']).filter((x) => x !== undefined);
    expect(ids).toEqual(['before', 'after']);
    expect(warnings).toContain('PURPOSEKIT_WARN_AUDIT_DB_BACK');
    await verified(schema);
  });

  it('rejects appends at once with PURPOSEKIT_ERR_AUDIT_UNAVAILABLE while the database is unreachable', async () => {
    const schema = await freshSchema('unreach');
    // A pool whose new connections go to a closed port: once the session is lost, nothing comes back.
    const own = testPool(2);
    const first = await own.connect();
    const dead = new PgPool({ host: '127.0.0.1', port: 1, user: 'postgres', database: 'test', max: 1 });
    dead.on('error', () => undefined);
    let used = false;
    const p = { connect: async () => (used ? dead.connect() : ((used = true), first)), on: () => undefined } as unknown as Pool;
    const s = await createPostgresAuditSink({ pool: p, schema, stream: 'w', signingKey: KEYS.signingPrivateKeyPem, checkpointIntervalMs: 60_000 });
    await s.append(access('ok'));
    await pool.query('SELECT pg_terminate_backend($1)', [(first as unknown as { processID: number }).processID]);
    await until(() => s.state === 'down', 'the loss');
    const started = Date.now();
    const e = await caught(s.append(access('refused')));
    expect(e.code).toBe('PURPOSEKIT_ERR_AUDIT_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(100);
    expect(s.state).toBe('down');
    await s.close();
    await own.end();
    await dead.end();
    expect((await rows(schema, 'w')).map((r) => r['requestId'])).toEqual(['ok']);
  });

  it('a batch whose session dies before COMMIT is refused, never half-written; the chain continues from the stream head', async () => {
    const schema = await freshSchema('midcommit');
    // Make the INSERT of a marked batch slow, so the session can be cut while it runs.
    await pool.query(`CREATE FUNCTION "${schema}".slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.record LIKE '%"slow-%' THEN PERFORM pg_sleep(5); END IF; RETURN NEW; END $$`);
    await pool.query(`CREATE TRIGGER slow BEFORE INSERT ON "${schema}".audit_records FOR EACH ROW EXECUTE FUNCTION "${schema}".slow()`);
    const s = await sink(schema, 'w', { checkpointIntervalMs: 60_000 });
    await s.append(access('a'));
    const pending = Promise.allSettled([s.append(access('slow-1')), s.append(access('slow-2'))]);
    await until(async () => (await pool.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE '%audit_records%'`)).rowCount === 1, 'the slow batch');
    await pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE '%audit_records%'`);
    const outcomes = await pending;
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    await until(() => s.state === 'up', 'the reconnect');
    await s.append(access('b'));
    await s.close();
    expect((await rows(schema, 'w')).map((r) => `${r['seq']}:${r['requestId'] ?? 'cp'}`)).toEqual(['1:a', '2:b', '3:cp']);
    await verified(schema);
  });

  it('a refused batch refuses the batch pipelined behind it (its guard finds no predecessor): no gap, and the chain goes on', async () => {
    const schema = await freshSchema('guard');
    // A marked record waits for an advisory lock the test holds, then is refused by the
    // database (a SQL error, not a lost session), so a second batch can be sent behind it.
    await pool.query(`CREATE FUNCTION "${schema}".poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.record LIKE '%"poison-%' THEN PERFORM pg_advisory_xact_lock(4242); RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$`);
    await pool.query(`CREATE TRIGGER poison BEFORE INSERT ON "${schema}".audit_records FOR EACH ROW EXECUTE FUNCTION "${schema}".poison()`);
    const holder = await pool.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(4242)');
      const s = await sink(schema, 'w', { checkpointIntervalMs: 60_000 });
      await s.append(access('a'));
      const poisoned = s.append(access('poison-1')).then(() => 'written', (e: { code?: string; message: string }) => `${e.code}: ${e.message}`);
      await until(async () => (await pool.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' AND query LIKE '%audit_records%'`)).rowCount === 1, 'the poisoned batch waiting');
      // Enough records to go out behind it at once (a handful would wait for its COMMIT).
      const behind = Promise.allSettled(Array.from({ length: 20 }, (_, i) => s.append(access(`behind-${i}`))));
      // One turn of the event loop: the sink seals the next batch and sends it behind the first.
      await new Promise((r) => setImmediate(r));
      await holder.query('SELECT pg_advisory_unlock(4242)');
      expect(await poisoned).toMatch(/^PURPOSEKIT_ERR_AUDIT_UNAVAILABLE: .*the database refused the batch \(SQLSTATE P0001\)/);
      const outcomes = await behind;
      expect(outcomes.map((o) => o.status)).toEqual(Array.from({ length: 20 }, () => 'rejected'));
      expect(String((outcomes[0] as PromiseRejectedResult).reason.message)).toMatch(/not written, because the batch before it was refused/);
      await s.append(access('c'));
      await s.close();
      expect((await rows(schema, 'w')).map((r) => `${r['seq']}:${r['requestId'] ?? 'cp'}`)).toEqual(['1:a', '2:c', '3:cp']);
      await verified(schema);
    } finally {
      holder.release();
    }
  });

  it("a client-side query timeout is an unknown outcome, not a refusal: the sink ends its own previous session (which still holds the stream) and resumes", async () => {
    const schema = await freshSchema('qtimeout');
    await pool.query(`CREATE FUNCTION "${schema}".slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.record LIKE '%"slow-%' THEN PERFORM pg_sleep(30); END IF; RETURN NEW; END $$`);
    await pool.query(`CREATE TRIGGER slow BEFORE INSERT ON "${schema}".audit_records FOR EACH ROW EXECUTE FUNCTION "${schema}".slow()`);
    const timing = new PgPool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 2, query_timeout: 500 });
    timing.on('error', () => undefined);
    const warnings: string[] = [];
    try {
      const s = await sink(schema, 'w', { checkpointIntervalMs: 60_000, onWarning: (_m, code) => warnings.push(code) }, timing);
      await s.append(access('a'));
      // The server is still running this INSERT when the client gives up on it.
      const e = await caught(s.append(access('slow-1')));
      expect(e.code).toBe('PURPOSEKIT_ERR_AUDIT_UNAVAILABLE');
      expect(e.message).toMatch(/connection was lost during a commit, which did not happen/);
      await until(() => s.state === 'up', 'the reconnect');
      expect(warnings).not.toContain('PURPOSEKIT_WARN_AUDIT_STREAM_TAKEN');
      await s.append(access('b'));
      await s.close();
      expect((await rows(schema, 'w')).map((r) => `${r['seq']}:${r['requestId'] ?? 'cp'}`)).toEqual(['1:a', '2:b', '3:cp']);
      await verified(schema);
    } finally {
      await timing.end();
    }
  });

  it.each([
    ['in the same turn as the loss', (f: () => void) => f()],
    ['on the next turn (while connecting)', (f: () => void) => setImmediate(f)],
    ['a little later (while claiming or reading the head)', (f: () => void) => setTimeout(f, 3)],
  ])('close() %s, while it reconnects, gives the stream back: the next writer claims it', async (_when, later) => {
    const schema = await freshSchema('closedown');
    let closing: Promise<void> | undefined;
    const s: PostgresAuditSink = await sink(schema, 'w', {
      checkpointIntervalMs: 60_000,
      onWarning: (_m, code) => {
        if (code === 'PURPOSEKIT_WARN_AUDIT_DB_LOST') later(() => (closing = s.close()));
      },
    });
    await s.append(access('a'));
    expect(await killSessions(schema)).toBe(1);
    await until(() => closing !== undefined, 'the loss');
    await closing;
    expect(s.state).toBe('closed');
    // Whatever the reconnect had reached, the closed sink keeps no lock: the next writer claims the stream.
    const next = await createPostgresAuditSink({ pool, schema, stream: 'w', signingKey: KEYS.signingPrivateKeyPem, checkpointIntervalMs: 60_000 });
    open.push(next);
    await next.append(access('b'));
    await next.close();
    expect((await rows(schema, 'w')).map((r) => r['requestId'] ?? 'cp')).toEqual(['a', 'cp', 'b', 'cp']); // the next writer seals the tail first
  });

  it('a subject report reads only that subject, across streams; rights due sees every stream', async () => {
    const schema = await freshSchema('report');
    const a = await sink(schema, 'a');
    const b = await sink(schema, 'b');
    await a.append(access('a1', 'alice'));
    await b.append(access('b1', 'bob'));
    await b.append(access('b2', 'alice'));
    const rights = (stream: PostgresAuditSink, id: string, status: string): Promise<void> =>
      stream.append({ kind: 'rights', subject: pseudonym('carol'), policy: { id: 'test', version: '1' }, requestId: id, attributes: { right: 'access', status, due: '2030-01-01T00:00:00.000Z' } });
    await rights(a, 'q1', 'received');
    await rights(b, 'q2', 'received');
    await rights(b, 'q1', 'completed');
    await a.close();
    await b.close();
    const report = await buildPostgresSubjectReport({ pool, schema, subject: 'alice', keys: [SUBJECT_KEY] });
    expect(report.entries.map((e) => `${e.file}:${e.requestId}`)).toEqual(['stream a:a1', 'stream b:b2']);
    expect(report.recordsScanned).toBe(2);
    const log = await createPostgresAccessLog({ pool, schema })(pseudonym('alice'));
    expect(log.map((r) => r.requestId)).toEqual(['a1', 'b2']);
    const due = await listPostgresOpenRightsRequests({ pool, schema, now: Date.UTC(2029, 0, 1) });
    expect(due.map((d) => d.requestId)).toEqual(['q2']);
    let csv = '';
    for await (const chunk of exportPostgresTrail({ pool, schema, format: 'csv' })) csv += chunk;
    expect(csv.split('\r\n')[0]).toMatch(/^stream,seq,ts,kind/);
    expect(csv.split('\r\n').filter((l) => l.startsWith('a,')).length).toBe(3);
    let json = '';
    for await (const chunk of exportPostgresTrail({ pool, schema, format: 'json', stream: 'b' })) json += chunk;
    expect((JSON.parse(json) as Array<{ stream: string }>).map((x) => x.stream)).toEqual(['b', 'b', 'b', 'b', 'b']);
    await verified(schema);
  });

  it('runs as the README\'s least-privilege writer role, which can neither change rows nor drop the trigger', async () => {
    const schema = await freshSchema('role');
    const role = `pk_postgres_writer_${schema.slice(-8)}`;
    const g = (sql: string): string => sql.replaceAll('purposekit.', `"${schema}".`).replaceAll('purposekit ', `"${schema}" `).replaceAll('app_audit', role);
    await pool.query(g(`CREATE ROLE app_audit LOGIN`));
    try {
      for (const sql of [
        'GRANT USAGE ON SCHEMA purposekit TO app_audit',
        'GRANT SELECT, INSERT ON purposekit.audit_records, purposekit.schema_version TO app_audit',
        'GRANT SELECT, INSERT, UPDATE ON purposekit.audit_streams TO app_audit',
        'GRANT EXECUTE ON FUNCTION purposekit.audit_ensure_partitions(timestamptz) TO app_audit',
      ]) {
        await pool.query(g(sql));
      }
      const writerPool = new PgPool({ host: '127.0.0.1', port: 5432, user: role, database: 'test', max: 2 });
      writerPool.on('error', () => undefined);
      try {
        const s = await createPostgresAuditSink({ pool: writerPool, schema, stream: 'w', signingKey: KEYS.signingPrivateKeyPem });
        await s.append(access('as-writer'));
        await s.close();
        await expect(writerPool.query(`UPDATE "${schema}".audit_records SET kind = 'x'`)).rejects.toMatchObject({ code: '42501' });
        await expect(writerPool.query(`ALTER TABLE "${schema}".audit_records DISABLE TRIGGER USER`)).rejects.toMatchObject({ code: '42501' });
        await expect(writerPool.query(`DELETE FROM "${schema}".audit_records`)).rejects.toMatchObject({ code: '42501' });
        expect((await verifyPostgresTrail({ pool: writerPool, schema, publicKeys: [KEYS.signingPublicKeyPem] })).ok).toBe(true);
      } finally {
        await writerPool.end();
      }
    } finally {
      await pool.query(`DROP OWNED BY ${role}`);
      await pool.query(`DROP ROLE ${role}`);
    }
  });

  it('a COMMIT whose answer is lost is settled from the stream head on reconnect: acknowledged once, written once', async () => {
    const schema = await freshSchema('lostack');
    // Once armed, the proxy lets one INSERT of audit rows run and commit, then cuts the
    // connection instead of passing on the server's answer. (The sink's INSERT is a named
    // statement: its text goes over the wire once, then each batch is a Bind naming it.)
    let armed = false;
    let inserting = false;
    let cut = false;
    const proxy = await answerProxy((d, from) => {
      if (from === 'client') {
        if (armed && !cut && ((d.includes('INSERT INTO') && d.includes('audit_records')) || d.includes('purposekit_audit_insert_'))) {
          inserting = true;
          proxy.drop();
        }
        return undefined;
      }
      // ReadyForQuery ('Z', length 5, idle): the statement has committed.
      if (inserting && !cut && d.includes(Buffer.from([0x5a, 0, 0, 0, 5, 0x49]))) {
        cut = true;
        return 'cut';
      }
      return undefined;
    });
    try {
      const s = await sink(schema, 'w', { checkpointIntervalMs: 60_000 }, proxy.pool);
      await s.append(access('before'));
      armed = true;
      await s.append(access('answer-lost')); // resolves: the reconnect finds its row
      expect(cut).toBe(true);
      await s.append(access('after'));
      await s.close();
      const got = (await rows(schema, 'w')).map((r) => `${r['seq']}:${r['requestId'] ?? 'cp'}`);
      expect(got).toEqual(['1:before', '2:answer-lost', '3:after', '4:cp']);
      await verified(schema);
    } finally {
      await proxy.close();
    }
  });

  it('two batches on the wire when the answers are lost: the one that committed is acknowledged, the one behind it that did not is refused, nothing is re-sent', async () => {
    const schema = await freshSchema('twouncertain');
    // A marked record waits for an advisory lock the test holds: its batch is on the server, not committed.
    await pool.query(`CREATE FUNCTION "${schema}".held() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.record LIKE '%"held-%' THEN PERFORM pg_advisory_xact_lock(4243); END IF; RETURN NEW; END $$`);
    await pool.query(`CREATE TRIGGER held BEFORE INSERT ON "${schema}".audit_records FOR EACH ROW EXECUTE FUNCTION "${schema}".held()`);
    const proxy = await answerProxy();
    const holder = await pool.connect();
    let s: PostgresAuditSink | undefined;
    try {
      await holder.query('SELECT pg_advisory_lock(4243)');
      s = await sink(schema, 'w', { checkpointIntervalMs: 60_000 }, proxy.pool);
      await s.append(access('before'));
      proxy.drop();
      const first = s.append(access('first')).then(() => 'acknowledged', (e: Error) => e.message);
      // Enough records to go out behind it at once; they reach the server and wait for the lock.
      const behind = Promise.all(Array.from({ length: 20 }, (_, i) => s.append(access(`held-${i}`)).then(() => 'acknowledged', (e: Error) => e.message)));
      await until(async () => (await pool.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' AND query LIKE '%audit_records%'`)).rowCount === 1, 'the second batch on the server');
      // The server runs a session's statements in order: the first batch has committed.
      expect((await rows(schema, 'w')).map((r) => r['requestId'])).toEqual(['before', 'first']);
      // The second batch's session ends before it commits; the sink hears neither answer.
      await pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' AND query LIKE '%audit_records%'`);
      proxy.cut();
      expect(await first).toBe('acknowledged');
      const outcomes = await behind;
      expect(new Set(outcomes)).toEqual(new Set([`audit stream w: the database connection was lost during a commit, which did not happen.`]));
      await holder.query('SELECT pg_advisory_unlock(4243)');
      const w = s;
      await until(() => w.state === 'up', 'the reconnect');
      await s.append(access('after'));
      await s.close();
      expect((await rows(schema, 'w')).map((r) => `${r['seq']}:${r['requestId'] ?? 'cp'}`)).toEqual(['1:before', '2:first', '3:after', '4:cp']);
      await verified(schema);
    } finally {
      await holder.query('SELECT pg_advisory_unlock_all()');
      holder.release();
      await s?.close().catch(() => undefined);
      await proxy.close();
    }
  });

  it('two batches on the wire that both committed when the answers are lost: both acknowledged, once', async () => {
    const schema = await freshSchema('twocommitted');
    const proxy = await answerProxy();
    let s: PostgresAuditSink | undefined;
    try {
      s = await sink(schema, 'w', { checkpointIntervalMs: 60_000 }, proxy.pool);
      await s.append(access('before'));
      proxy.drop();
      const settled = (p: Promise<void>): Promise<string> => p.then(() => 'acknowledged', (err: Error) => err.message);
      // A batch of one, committed on the server; the sink never hears its answer.
      const first = settled(s.append(access('first')));
      await until(async () => (await rows(schema, 'w')).length === 2, 'the first batch committed');
      // So the next twenty are a second batch, sent behind it (its guard finds the first's last row).
      const second = Promise.all(Array.from({ length: 20 }, (_, i) => settled(s!.append(access(`second-${i}`)))));
      await until(async () => (await rows(schema, 'w')).length === 22, 'the second batch committed');
      proxy.cut();
      expect(await first).toBe('acknowledged');
      expect(new Set(await second)).toEqual(new Set(['acknowledged']));
      const w = s;
      await until(() => w.state === 'up', 'the reconnect');
      await s.append(access('after'));
      await s.close();
      const got = (await rows(schema, 'w')).map((r) => String(r['requestId'] ?? 'cp'));
      expect(got).toEqual(['before', 'first', ...Array.from({ length: 20 }, (_, i) => `second-${i}`), 'after', 'cp']);
      await verified(schema);
    } finally {
      await s?.close().catch(() => undefined);
      await proxy.close();
    }
  });
  it.each([
    ['committed', true],
    ['did not commit; the new writer wrote that seq', false],
  ])('taken over while disconnected, its commit %s: the lost answer is still settled from the rows (acknowledged only if committed)', async (_what, commits) => {
    const schema = await freshSchema(commits ? 'takencommitted' : 'takenrefused');
    // A marked record waits for an advisory lock the test holds: its batch is on the server, not committed.
    await pool.query(`CREATE FUNCTION "${schema}".held() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.record LIKE '%"held-%' THEN PERFORM pg_advisory_xact_lock(4244); END IF; RETURN NEW; END $$`);
    await pool.query(`CREATE TRIGGER held BEFORE INSERT ON "${schema}".audit_records FOR EACH ROW EXECUTE FUNCTION "${schema}".held()`);
    const proxy = await answerProxy();
    const holder = await pool.connect();
    const warnings: string[] = [];
    let a: PostgresAuditSink | undefined;
    let b: PostgresAuditSink | undefined;
    // The sink's unknown-outcome timer (the only one set for 59,999 ms): once the outcome is
    // settled it must be cleared, or it keeps the process alive that long.
    const realSetTimeout = globalThis.setTimeout;
    const waits: unknown[] = [];
    const setSpy = jest.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      const t = realSetTimeout(fn, ms);
      if (ms === 59_999) waits.push(t);
      return t;
    }) as typeof setTimeout);
    const clearSpy = jest.spyOn(globalThis, 'clearTimeout');
    try {
      await holder.query('SELECT pg_advisory_lock(4244)');
      a = await sink(schema, 'w', { checkpointIntervalMs: 60_000, unknownOutcomeWaitMs: 59_999, onWarning: (_m, code) => warnings.push(code) }, proxy.pool);
      await a.append(access('before'));
      proxy.drop();
      const settled = (p: Promise<void>): Promise<string> => p.then(() => 'acknowledged', (err: Error) => err.message);
      let outcome: Promise<string>;
      if (commits) {
        outcome = settled(a.append(access('first')));
        await until(async () => (await rows(schema, 'w')).length === 2, 'the batch committed');
      } else {
        outcome = settled(a.append(access('held-first')));
        await until(async () => (await pool.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' AND query LIKE '%audit_records%'`)).rowCount === 1, 'the batch on the server');
        // Its session ends before it commits.
        await pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' AND query LIKE '%audit_records%'`);
      }
      // The sink loses its connection and cannot reconnect; another writer claims the stream
      // (once the server has ended the old session) and writes.
      proxy.refuse(true);
      proxy.cut();
      await until(async () => {
        b = await sink(schema, 'w', { checkpointIntervalMs: 60_000 }).catch(() => undefined);
        return b !== undefined;
      }, 'the new writer claiming the stream');
      await b!.append(access('taken'));
      proxy.refuse(false);
      expect(await outcome).toBe(commits ? 'acknowledged' : 'audit stream w: the database connection was lost during a commit, which did not happen.');
      const lost = a;
      await until(() => lost.state === 'lost', 'the first sink to find the stream taken');
      // Settled on the takeover path: the sink never had its stream back.
      expect(warnings).toContain('PURPOSEKIT_WARN_AUDIT_STREAM_TAKEN');
      expect(warnings).not.toContain('PURPOSEKIT_WARN_AUDIT_DB_BACK');
      expect(waits).toHaveLength(1);
      expect(clearSpy.mock.calls.some(([t]) => t === waits[0])).toBe(true);
      await expect(a.append(access('late'))).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE' });
      await b!.close();
      const got = (await rows(schema, 'w')).map((r) => r['requestId']).filter((x) => x !== undefined);
      expect(got).toEqual(commits ? ['before', 'first', 'taken'] : ['before', 'taken']);
      await verified(schema);
    } finally {
      setSpy.mockRestore();
      clearSpy.mockRestore();
      await holder.query('SELECT pg_advisory_unlock_all()');
      holder.release();
      await a?.close().catch(() => undefined);
      await b?.close().catch(() => undefined);
      await proxy.close();
    }
  });
});
