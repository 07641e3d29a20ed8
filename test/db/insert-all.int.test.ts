import { expect } from 'chai';
import type { Database } from '../../adapters/db/index.js';
import { insertAll } from '../../core/db/insert-all.js';
import { uniqueName } from '../support/backends.js';
import { createTestDatabase } from '../support/database.js';
import { eventually } from '../support/eventually.js';

for (const driver of ['pglite', 'postgres'] as const) {
  describe(`insertAll: several tables in one statement (${driver})`, function () {
    this.timeout(30_000);
    let database: Database;
    let release: () => Promise<void>;

    before(async function () {
      ({ database, release } = await createTestDatabase(driver, this));
      await database.knex.raw(
        'create table ia_parent (id text primary key, note text not null default $$none$$, doc jsonb, at timestamptz, raw bytea)',
      );
      await database.knex.raw('create table ia_child (parent_id text not null, n int not null unique)');
    });
    after(async () => release?.());

    it('writes every row of every table, with column defaults for keys a row lacks', async () => {
      const at = new Date('2026-11-25T10:00:00.123Z');
      await insertAll(database.knex, [
        {
          table: 'ia_parent',
          rows: [
            { id: 'p1', note: 'first', doc: JSON.stringify({ a: 1 }), at, raw: Buffer.from([0, 255]) },
            { id: 'p2', doc: null },
          ],
        },
        { table: 'ia_child', rows: [{ parent_id: 'p1', n: 1 }] },
        { table: 'ia_child', rows: [] },
      ]);
      const parents = await database.knex('ia_parent').orderBy('id');
      expect(parents.map((p) => [p.id, p.note, p.doc])).to.deep.equal([
        ['p1', 'first', { a: 1 }],
        ['p2', 'none', null],
      ]);
      expect(new Date(parents[0].at).toISOString()).to.equal(at.toISOString());
      expect(Buffer.from(parents[0].raw)).to.deep.equal(Buffer.from([0, 255]));
      expect(await database.knex('ia_child').select('parent_id', 'n')).to.deep.equal([
        { parent_id: 'p1', n: 1 },
      ]);
    });

    it('writes nothing at all when any row is refused (one statement is all or nothing)', async () => {
      const error = await insertAll(database.knex, [
        { table: 'ia_parent', rows: [{ id: 'p3' }] },
        { table: 'ia_child', rows: [{ parent_id: 'p3', n: 1 }] }, // n = 1 exists: unique violation
      ]).catch((e: unknown) => e);
      expect(error).to.have.property('code', '23505');
      expect(await database.knex('ia_parent').where({ id: 'p3' })).to.have.length(0);
    });

    it('notifies listeners once the rows are committed', async () => {
      const channel = uniqueName('ia_ch').replace(/-/g, '_');
      const received: string[] = [];
      const unlisten = await database.listen(channel, (payload) => received.push(payload));
      try {
        await insertAll(database.knex, [{ table: 'ia_child', rows: [{ parent_id: 'p1', n: 2 }] }], {
          notify: channel,
        });
        await eventually(() => received.length > 0, 5_000, 'the notification');
        expect(received).to.deep.equal(['']);
      } finally {
        await unlisten();
      }
    });

    it('refuses SQL fragments as values instead of binding them as text', async () => {
      const error = await insertAll(database.knex, [
        { table: 'ia_parent', rows: [{ id: 'p4', at: database.knex.fn.now() }] },
      ]).catch((e: unknown) => e);
      expect(String(error)).to.match(/plain values/);
    });

    it('updates rows in the same statement and tells how many each update changed', async () => {
      const knex = database.knex;
      await knex('ia_parent').insert([
        { id: 'u1', note: 'old' },
        { id: 'u2', note: 'old', doc: null },
      ]);
      const result = await insertAll(knex, [{ table: 'ia_child', rows: [{ parent_id: 'u1', n: 10 }] }], {
        updates: [
          { table: 'ia_parent', set: { note: 'new', at: knex.fn.now() }, where: { id: 'u1', note: 'old' } },
          {
            table: 'ia_parent',
            set: { note: knex.raw('note || ?', ['-x']) },
            where: { id: 'u2', doc: null },
          },
          { table: 'ia_parent', set: { note: 'never' }, where: { id: 'u1', note: 'something else' } },
        ],
      });
      expect(result.updated).to.deep.equal([1, 1, 0]);
      const rows = await knex('ia_parent').whereIn('id', ['u1', 'u2']).orderBy('id');
      expect(rows.map((r) => r.note)).to.deep.equal(['new', 'old-x']);
      expect(rows[0].at).to.not.equal(null);
      expect(await knex('ia_child').where({ n: 10 })).to.have.length(1);
    });

    it('rolls the updates back with the inserts when any row is refused', async () => {
      const knex = database.knex;
      await knex('ia_parent').insert({ id: 'u3', note: 'kept' });
      const error = await insertAll(knex, [{ table: 'ia_child', rows: [{ parent_id: 'u3', n: 1 }] }], {
        updates: [{ table: 'ia_parent', set: { note: 'changed' }, where: { id: 'u3' } }],
      }).catch((e: unknown) => e);
      expect(error).to.have.property('code', '23505');
      expect((await knex('ia_parent').where({ id: 'u3' }).first()).note).to.equal('kept');
    });

    it('refuses an update without a condition', async () => {
      const error = await insertAll(database.knex, [], {
        updates: [{ table: 'ia_parent', set: { note: 'all' }, where: {} }],
      }).catch((e: unknown) => e);
      expect(String(error)).to.match(/needs columns to set and a condition/);
    });
  });
}
