/**
 * Which deliveries the overdue sweep claims, on PGlite and PostgreSQL: only pending ones whose next
 * attempt is later than the grace, oldest first, each claimed once per grace period, and never one that
 * another replica holds locked. The end-to-end path (a lost retry message, swept and delivered) is in
 * dispatcher.int.test.ts on every broker.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { claimOverdueAttempts } from '../../webhook-dispatcher/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { insertMerchant, insertTransaction } from '../support/fixtures.js';

const MINUTE = 60_000;

for (const driver of ['pglite', 'postgres'] as const) {
  describe(`webhook overdue sweep: claims (${driver})`, function () {
    let db: TestDatabase;
    let knex: Knex;
    let merchantId: string;

    before(async function () {
      db = await createTestDatabase(driver, this);
      knex = db.database.knex;
      merchantId = await insertMerchant(knex);
    });
    after(async () => db?.release());
    beforeEach(async () => {
      await knex('webhook_deliveries').update({ state: 'delivered', next_attempt_number: null });
    });

    /** A delivery whose next attempt (number 2) was due `minutesAgo` minutes ago. */
    const delivery = async (minutesAgo: number, state = 'pending'): Promise<string> => {
      const transactionId = await insertTransaction(knex, merchantId, {});
      const id = `msg_${randomUUID()}`;
      await knex('webhook_deliveries').insert({
        id,
        transaction_id: transactionId,
        merchant_id: merchantId,
        webhook_type: 'transaction.status_changed',
        url: 'https://merchant.example/hook',
        payload: '{}',
        sequence: 1,
        source_event_id: randomUUID(),
        correlation_id: `c-${id}`,
        requested_at: new Date(Date.now() - (minutesAgo + 1) * MINUTE),
        state,
        attempts: 1,
        last_attempt_number: 2,
        next_attempt_number: 2,
        next_attempt_at: new Date(Date.now() - minutesAgo * MINUTE),
      });
      return id;
    };

    it('claims pending attempts overdue by more than the grace, the most overdue first, once per grace period', async () => {
      const older = await delivery(30);
      const old = await delivery(20);
      await delivery(5); // within the grace
      await delivery(60, 'exhausted');

      const claimed = await claimOverdueAttempts(knex, 15 * MINUTE, 10);
      expect(claimed.map((c) => c.deliveryId)).to.have.members([older, old]);
      expect(claimed.find((c) => c.deliveryId === older)).to.include({
        attemptNumber: 2,
        correlationId: `c-${older}`,
      });
      const row = await knex('webhook_deliveries').where({ id: older }).first('next_attempt_at');
      expect(Date.now() - new Date(row.next_attempt_at).getTime()).to.be.below(MINUTE);

      expect(await claimOverdueAttempts(knex, 15 * MINUTE, 10), 'claimed: due again only now').to.deep.equal(
        [],
      );
    });

    it('claims at most the limit per sweep', async () => {
      const ids = [await delivery(40), await delivery(30), await delivery(20)];
      expect((await claimOverdueAttempts(knex, 15 * MINUTE, 2)).map((c) => c.deliveryId)).to.have.members(
        ids.slice(0, 2),
      );
      expect((await claimOverdueAttempts(knex, 15 * MINUTE, 2)).map((c) => c.deliveryId)).to.have.members(
        ids.slice(2),
      );
    });

    if (driver === 'postgres') {
      it('skips a delivery another replica holds locked instead of waiting for it', async () => {
        const locked = await delivery(40);
        const free = await delivery(30);
        const trx = await knex.transaction();
        try {
          await trx('webhook_deliveries').where({ id: locked }).forUpdate().first('id');
          const claimed = await claimOverdueAttempts(knex, 15 * MINUTE, 10);
          expect(claimed.map((c) => c.deliveryId)).to.deep.equal([free]);
        } finally {
          await trx.rollback();
        }
        expect((await claimOverdueAttempts(knex, 15 * MINUTE, 10)).map((c) => c.deliveryId)).to.deep.equal([
          locked,
        ]);
      });
    }
  });
}
