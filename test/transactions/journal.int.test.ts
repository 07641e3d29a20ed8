import { expect } from 'chai';
import type { Database } from '../../adapters/db/index.js';
import { appendFacts, fact } from '../../core/transactions/index.js';
import { decodeEvent } from '../../schemas/index.js';
import { createTestDatabase } from '../support/database.js';
import { insertMerchant, insertTransaction } from '../support/fixtures.js';

for (const driver of ['pglite', 'postgres'] as const) {
  describe(`transaction journal (${driver})`, function () {
    this.timeout(30_000);
    let database: Database;
    let release: () => Promise<void>;
    let merchantId: string;

    before(async function () {
      ({ database, release } = await createTestDatabase(driver, this));
      merchantId = await insertMerchant(database.knex);
    });
    after(async () => release?.());

    it('numbers events per transaction and writes outbox rows and timeline entries with them', async () => {
      const transactionId = await insertTransaction(database.knex, merchantId);
      const ref = { transactionId, merchantId };
      const first = await database.knex.transaction((trx) =>
        appendFacts(trx, ref, [
          fact('RoutingStarted', { routingRulesVersion: 'v1' }, null),
          fact(
            'RoutingFailed',
            { reason: 'no_matching_rule', detail: null },
            { message: 'payment rejected' },
          ),
        ]),
      );
      const second = await database.knex.transaction((trx) =>
        appendFacts(trx, ref, [fact('RoutingStarted', { routingRulesVersion: 'v2' }, null)], {
          cause: first[1]!.envelope,
        }),
      );
      expect([...first, ...second].map((e) => e.envelope.sequence)).to.deep.equal([1, 2, 3]);
      expect(first[1]!.envelope.correlationId).to.equal(first[0]!.envelope.correlationId);
      expect(second[0]!.envelope.causationId).to.equal(first[1]!.envelope.eventId);
      expect(second[0]!.envelope.correlationId).to.equal(first[0]!.envelope.correlationId);

      const outbox = await database.knex('outbox').where({ key: transactionId }).orderBy('id');
      expect(outbox.map((row) => decodeEvent(row.payload).envelope.sequence)).to.deep.equal([1, 2, 3]);
      const timeline = await database
        .knex('transaction_timeline')
        .where({ transaction_id: transactionId })
        .orderBy('id');
      expect(timeline.map((row) => row.entry_type)).to.deep.equal([
        'RoutingStarted',
        'RoutingFailed',
        'RoutingStarted',
      ]);
      expect(timeline[0].merchant_view).to.equal(null);
      expect(timeline[1].merchant_view).to.deep.equal({ message: 'payment rejected' });
      expect(timeline[1].internal).to.include({ reason: 'no_matching_rule', sequence: 2 });
    });

    it('records nothing when the caller rolls back', async () => {
      const transactionId = await insertTransaction(database.knex, merchantId);
      await database.knex
        .transaction(async (trx) => {
          await appendFacts(trx, { transactionId, merchantId }, [
            fact('RoutingStarted', { routingRulesVersion: 'v1' }, null),
          ]);
          throw new Error('state change failed');
        })
        .catch(() => undefined);
      expect(await database.knex('outbox').where({ key: transactionId })).to.have.length(0);
      expect(
        await database.knex('transaction_timeline').where({ transaction_id: transactionId }),
      ).to.have.length(0);
      const row = await database.knex('transactions').where({ id: transactionId }).first();
      expect(Number(row.last_sequence)).to.equal(0);
    });

    it('gives concurrent writers of one transaction distinct sequences in outbox order', async () => {
      const transactionId = await insertTransaction(database.knex, merchantId);
      await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          database.knex.transaction((trx) =>
            appendFacts(trx, { transactionId, merchantId }, [
              fact('RoutingStarted', { routingRulesVersion: `v${i}` }, null),
              fact('RoutingStarted', { routingRulesVersion: `v${i}b` }, null),
            ]),
          ),
        ),
      );
      const outbox = await database.knex('outbox').where({ key: transactionId }).orderBy('id');
      expect(outbox.map((row) => decodeEvent(row.payload).envelope.sequence)).to.deep.equal(
        Array.from({ length: 16 }, (_, i) => i + 1),
      );
    });

    it('refuses facts about a transaction that does not exist', async () => {
      const error = await database.knex
        .transaction((trx) =>
          appendFacts(trx, { transactionId: 'tx_missing', merchantId }, [
            fact('RoutingStarted', { routingRulesVersion: 'v1' }, null),
          ]),
        )
        .catch((e: Error) => e);
      expect(String(error)).to.match(/does not exist/);
    });
  });
}
