import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { openDatabase, type Database } from '../../adapters/db/index.js';
import { MIGRATIONS, migrate } from '../../core/db/index.js';
import { backendEnv, requireBackend, uniqueName } from '../support/backends.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const BROKER_TABLES = [
  'broker_topics',
  'broker_partitions',
  'broker_messages',
  'broker_group_offsets',
  'lease_members',
  'partition_leases',
];

async function waitFor<T>(read: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A channel name no other test (or concurrent run on the same server) uses. */
const channelName = () => uniqueName('test_ch').replace(/-/g, '_');

for (const driver of ['pglite', 'postgres'] as const) {
  describe(`database layer: ${driver}`, function () {
    this.timeout(60_000);
    let test: TestDatabase;
    let database: Database;
    before(async function () {
      test = await createTestDatabase(driver, this);
      database = test.database;
    });
    after(async () => {
      await test?.release();
    });

    it('runs every migration, and running them again changes nothing', async () => {
      for (const table of BROKER_TABLES) {
        expect(await database.knex.schema.hasTable(table), table).to.equal(true);
      }
      const names = async () =>
        (await database.knex('knex_migrations').orderBy('id').pluck('name')) as string[];
      const before = await names();
      expect(before).to.deep.equal(MIGRATIONS.map(([name]) => name));
      await migrate(database.knex);
      await migrate(database.knex);
      expect(await names()).to.deep.equal(before);
    });

    it('stores and returns what the broker needs: bytea, jsonb, bigint, timestamptz', async () => {
      const topic = uniqueName('db-types');
      await database.knex('broker_topics').insert({ name: topic, partitions: 1 });
      const value = Buffer.from([0, 255, 1, 128, 10]);
      await database.knex('broker_messages').insert({
        topic,
        partition: 0,
        offset: '9007199254740993', // 2^53 + 1: must not go through a JS number
        key: 'k',
        value,
        headers: JSON.stringify({ 'x-a': 'é', b: '2' }),
      });
      const row = await database.knex('broker_messages').where({ topic }).first();
      expect(Buffer.from(row.value).equals(value)).to.equal(true);
      expect(BigInt(row.offset)).to.equal(9007199254740993n);
      const headers = typeof row.headers === 'string' ? JSON.parse(row.headers) : row.headers;
      expect(headers).to.deep.equal({ 'x-a': 'é', b: '2' });
      expect(new Date(row.published_at).getTime()).to.be.closeTo(Date.now(), 60_000);
    });

    it('delivers NOTIFY to listeners, only once the transaction commits, and stops after unsubscribe', async () => {
      const channel = channelName();
      const received: string[] = [];
      const unlisten = await database.listen(channel, (payload) => received.push(payload));

      await database.knex.raw('select pg_notify(?, ?)', [channel, 'hello']);
      await waitFor(() => (received.includes('hello') ? true : undefined), 5_000, 'hello');

      let committed = false;
      await database.knex.transaction(async (trx) => {
        await trx.raw('select pg_notify(?, ?)', [channel, 'in-tx']);
        await new Promise((resolve) => setTimeout(resolve, 150));
        expect(received, 'nothing before commit').not.to.include('in-tx');
        committed = true;
      });
      await waitFor(() => (received.includes('in-tx') ? true : undefined), 5_000, 'in-tx');
      expect(committed).to.equal(true);

      await database.knex
        .transaction(async (trx) => {
          await trx.raw('select pg_notify(?, ?)', [channel, 'rolled-back']);
          throw new Error('rollback');
        })
        .catch(() => undefined);

      await unlisten();
      await unlisten(); // idempotent
      await database.knex.raw('select pg_notify(?, ?)', [channel, 'after']);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(received).to.deep.equal(['hello', 'in-tx']);
    });

    it('fans one channel out to several listeners and keeps the others when one unsubscribes', async () => {
      const channel = channelName();
      const a: string[] = [];
      const b: string[] = [];
      const stopA = await database.listen(channel, (p) => a.push(p));
      const stopB = await database.listen(channel, (p) => b.push(p));
      await database.knex.raw('select pg_notify(?, ?)', [channel, '1']);
      await waitFor(() => (a.length && b.length ? true : undefined), 5_000, 'both listeners');
      await stopA();
      await database.knex.raw('select pg_notify(?, ?)', [channel, '2']);
      await waitFor(() => (b.includes('2') ? true : undefined), 5_000, 'listener b still subscribed');
      expect(a).to.deep.equal(['1']);
      await stopB();
    });

    it('refuses channel names that would need quoting', async () => {
      for (const bad of ['Upper', 'has space', 'semi;colon', '']) {
        let error: unknown;
        try {
          await database.listen(bad, () => undefined);
        } catch (thrown) {
          error = thrown;
        }
        expect(error, bad).to.be.instanceOf(Error);
      }
    });
  });
}

describe('database layer: PGlite on disk', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'payments-pglite-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates missing parent directories and keeps data across close and reopen', async () => {
    const dataDir = path.join(dir, 'nested', 'deeper', 'pglite');
    let database = await openDatabase({ driver: 'pglite', dataDir });
    await migrate(database.knex);
    await database.knex('broker_topics').insert({ name: 'survives', partitions: 3 });
    await database.knex.transaction(async (trx) => {
      await trx('broker_topics').insert({ name: 'survives-too', partitions: 5 });
    });
    await database.close();
    await database.close(); // idempotent

    database = await openDatabase({ driver: 'pglite', dataDir });
    try {
      await migrate(database.knex); // already up to date: a no-op
      const rows = await database.knex('broker_topics').orderBy('name').select('name', 'partitions');
      expect(rows.map((r) => [r.name, Number(r.partitions)])).to.deep.equal([
        ['survives', 3],
        ['survives-too', 5],
      ]);
      const counted = await database.knex('knex_migrations').count<{ count: string }[]>('* as count');
      expect(Number(counted[0]?.count)).to.equal(MIGRATIONS.length);
    } finally {
      await database.close();
    }
  });

  it('refuses a schema option (PostgreSQL only)', async () => {
    let error: unknown;
    try {
      await openDatabase({ driver: 'pglite', dataDir: 'memory://' }, { schema: 'nope' });
    } catch (thrown) {
      error = thrown;
    }
    expect((error as Error)?.message).to.match(/only supported on PostgreSQL/);
  });
});

describe('database layer: PostgreSQL schemas and connections', function () {
  this.timeout(60_000);
  const releases: Array<() => Promise<void>> = [];
  before(function () {
    requireBackend(this, 'PostgreSQL (TEST_DATABASE_URL)', !!backendEnv.postgresUrl);
  });
  after(async () => {
    for (const release of releases.splice(0)) await release().catch(() => undefined);
  });

  it("isolates test databases: one schema's rows are invisible in another", async function () {
    const a = await createTestDatabase('postgres', this);
    releases.push(a.release);
    const b = await createTestDatabase('postgres', this);
    releases.push(b.release);
    expect(a.schema).to.be.a('string').and.not.equal(b.schema);
    await a.database.knex('broker_topics').insert({ name: 'only-in-a', partitions: 1 });
    expect(await a.database.knex('broker_topics').pluck('name')).to.deep.equal(['only-in-a']);
    expect(await b.database.knex('broker_topics').pluck('name')).to.deep.equal([]);
    const [{ current }] = (await b.database.knex.raw('select current_schema() as current')).rows;
    expect(current).to.equal(b.schema);
  });

  it('drops the schema with everything in it on release', async function () {
    const t = await createTestDatabase('postgres', this);
    await t.database.knex('broker_topics').insert({ name: 'gone', partitions: 1 });
    await t.release();
    const probe = await openDatabase({ driver: 'postgres', url: backendEnv.postgresUrl!, poolMax: 1 });
    try {
      const { rows } = await probe.knex.raw(
        'select count(*)::int as n from information_schema.schemata where schema_name = ?',
        [t.schema!],
      );
      expect(rows[0].n).to.equal(0);
    } finally {
      await probe.close();
    }
  });

  it('lets several processes migrate one schema at the same time', async () => {
    const schema = uniqueName('test_concurrent').replace(/-/g, '_');
    const config = { driver: 'postgres' as const, url: backendEnv.postgresUrl!, poolMax: 4 };
    const databases = await Promise.all([1, 2, 3].map(() => openDatabase(config, { schema })));
    releases.push(async () => {
      await databases[0]!.knex.raw('drop schema if exists ?? cascade', [schema]);
      await Promise.all(databases.map((d) => d.close()));
    });
    await Promise.all(databases.map((d) => migrate(d.knex)));
    const names = await databases[0]!.knex('knex_migrations').pluck('name');
    expect(names).to.have.length(MIGRATIONS.length);
  });

  it('re-establishes LISTEN after its connection is killed', async function () {
    const t = await createTestDatabase('postgres', this);
    releases.push(t.release);
    const channel = channelName();
    const received: string[] = [];
    await t.database.listen(channel, (payload) => received.push(payload));
    const killed = await t.database.knex.raw(
      `select pg_terminate_backend(pid) as killed from pg_stat_activity
       where application_name = 'payments-listen' and query like ?`,
      [`%${channel}%`],
    );
    expect(killed.rows, 'the LISTEN connection was found and killed').to.have.length(1);
    // Notifications sent while it is down are lost (by contract); keep sending until one arrives.
    const started = Date.now();
    for (let i = 0; !received.length; i++) {
      if (Date.now() - started > 15_000) throw new Error('LISTEN did not come back within 15 s');
      await t.database.knex.raw('select pg_notify(?, ?)', [channel, `after-kill-${i}`]);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(received[0]).to.match(/^after-kill-/);
  });
});
