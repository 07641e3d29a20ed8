import { expect } from 'chai';
import type { Database } from '../../adapters/db/index.js';
import type { VelocityLookup } from '../../processor/routing/types.js';
import { loadVelocity, lockForRouting } from '../../processor/store/velocity.js';
import { createTestDatabase } from '../support/database.js';
import { insertMerchant, insertTransaction } from '../support/fixtures.js';

for (const driver of ['pglite', 'postgres'] as const) {
  describe(`velocity usage read for routing (${driver})`, function () {
    this.timeout(30_000);
    let database: Database;
    let release: () => Promise<void>;

    before(async function () {
      ({ database, release } = await createTestDatabase(driver, this));
    });
    after(async () => release?.());

    it('counts attempts and amounts per SUB MID inside each window, not refusals before the provider', async () => {
      const knex = database.knex;
      const merchantId = await insertMerchant(knex);
      const now = new Date('2026-11-25T12:00:00Z');
      const attempt = async (
        subMidId: string,
        secondsAgo: number,
        amount: number,
        failureKind: string | null = null,
      ) => {
        const transactionId = await insertTransaction(knex, merchantId);
        await knex('payment_attempts').insert({
          id: `att_${transactionId}`,
          transaction_id: transactionId,
          attempt_number: 1,
          provider_id: 'adyen-sim',
          sub_mid_id: subMidId,
          candidate_group: 0,
          idempotency_key: `${transactionId}:1`,
          amount_minor: amount,
          currency: 'EUR',
          state: failureKind ? 'failed' : 'succeeded',
          failure_kind: failureKind,
          started_at: new Date(now.getTime() - secondsAgo * 1000),
        });
      };
      await attempt('eu-1', 10, 1000);
      await attempt('eu-1', 50, 2500, 'provider_error');
      await attempt('eu-1', 300, 4000);
      await attempt('eu-1', 20, 9999, 'velocity_limited');
      await attempt('eu-2', 5, 700, 'inactive_config');
      const windows = [
        { subMidId: 'eu-1', windowSeconds: 60 },
        { subMidId: 'eu-1', windowSeconds: 3600 },
        { subMidId: 'eu-2', windowSeconds: 60 },
        { subMidId: 'unused', windowSeconds: 60 },
      ];
      const expectUsage = (usage: VelocityLookup) => {
        expect(usage('eu-1', 60)).to.deep.equal({ count: 2, amountMinor: 3500 });
        expect(usage('eu-1', 3600)).to.deep.equal({ count: 3, amountMinor: 7500 });
        expect(usage('eu-2', 60)).to.deep.equal({ count: 0, amountMinor: 0 });
        expect(usage('unused', 60)).to.deep.equal({ count: 0, amountMinor: 0 });
      };
      expectUsage(await loadVelocity(knex, windows, now));

      // The same usage when read with the routed transaction's lock (DepositRequested), in one statement.
      const routed = await insertTransaction(knex, merchantId);
      await knex.transaction(async (trx) => {
        const locked = await lockForRouting(trx, routed, windows, now);
        expect(locked?.transaction).to.include({ id: routed, status: 'CREATED', lastSequence: 0 });
        expectUsage(locked!.velocity);
        const none = await lockForRouting(trx, routed, [], now);
        expect(none!.velocity('eu-1', 60)).to.deep.equal({ count: 0, amountMinor: 0 });
      });
    });
  });
}
