import { expect } from 'chai';
import type { Database } from '../../adapters/db/index.js';
import { processOnce } from '../../core/inbox.js';
import { uniqueName } from '../support/backends.js';
import { createTestDatabase } from '../support/database.js';

for (const driver of ['pglite', 'postgres'] as const) {
  describe(`inbox (${driver})`, function () {
    this.timeout(30_000);
    let database: Database;
    let release: () => Promise<void>;
    let effects: string;

    before(async function () {
      ({ database, release } = await createTestDatabase(driver, this));
      effects = uniqueName('effects').replace(/-/g, '_');
      await database.knex.schema.createTable(effects, (t) => {
        t.increments('id');
        t.text('event_id').notNullable();
      });
    });
    after(async () => release?.());

    it('applies an event once however many deliveries race for it', async () => {
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, () =>
          processOnce(database.knex, 'consumer-a', 'evt-1', (trx) =>
            trx(effects).insert({ event_id: 'evt-1' }),
          ),
        ),
      );
      expect(outcomes.filter((o) => !o.duplicate)).to.have.length(1);
      expect(await database.knex(effects).where({ event_id: 'evt-1' })).to.have.length(1);
    });

    it('keeps consumers independent: another consumer still applies the same event', async () => {
      const outcome = await processOnce(database.knex, 'consumer-b', 'evt-1', (trx) =>
        trx(effects).insert({ event_id: 'evt-1' }),
      );
      expect(outcome.duplicate).to.equal(false);
    });

    it('forgets the event when its effects fail, so a redelivery applies it', async () => {
      const failing = processOnce(database.knex, 'consumer-a', 'evt-2', async (trx) => {
        await trx(effects).insert({ event_id: 'evt-2' });
        throw new Error('handler failed');
      });
      await failing.then(
        () => expect.fail('should have thrown'),
        (error: Error) => expect(error.message).to.equal('handler failed'),
      );
      expect(await database.knex(effects).where({ event_id: 'evt-2' })).to.have.length(0);
      const retry = await processOnce(database.knex, 'consumer-a', 'evt-2', (trx) =>
        trx(effects).insert({ event_id: 'evt-2' }),
      );
      expect(retry.duplicate).to.equal(false);
      expect(await database.knex(effects).where({ event_id: 'evt-2' })).to.have.length(1);
    });
  });
}
