import { expect } from 'chai';
import type { Database } from '../../adapters/db/index.js';
import { insertAll, type TableRows } from '../../core/db/insert-all.js';
import { createMerchant, type CreatedMerchant } from '../../core/merchants/index.js';
import { depositWriter, type DepositWrite } from '../../gateway/merchant/deposit-writer.js';
import { parseDepositRequest } from '../../gateway/merchant/deposit-request.js';
import { acceptDeposit, type DepositOutcome } from '../../gateway/merchant/deposits.js';
import { createTestDatabase } from '../support/database.js';
import { validDeposit } from '../support/merchant-api.js';

/**
 * Group commit (docs/decisions/0028-deposit-group-commit.md): deposits accepted at the same moment share
 * one statement, and sharing never changes an answer: each request still gets its own outcome (created,
 * replayed, or its own error), and a batch is written whole or not at all.
 */
for (const driver of ['pglite', 'postgres'] as const) {
  describe(`Deposit group commit (${driver})`, function () {
    this.timeout(30_000);
    let database: Database;
    let release: () => Promise<void>;
    let shop: CreatedMerchant;
    let write: DepositWrite;
    let orderNumber = 0;
    const newOrderId = () => `group-${driver}-${++orderNumber}`;

    before(async function () {
      ({ database, release } = await createTestDatabase(driver, this));
      shop = await createMerchant(database.knex, { name: 'Shop' });
      write = depositWriter(database.knex, { maxBatch: 32, maxInFlight: 1, timeoutMs: 10_000 });
    });
    after(async () => release?.());

    /** Accepts a deposit through `via` (default: the group-commit writer). */
    const accept = (merchantTransactionId: string, via: DepositWrite = write): Promise<DepositOutcome> => {
      const check = parseDepositRequest(validDeposit({ merchantTransactionId }), {
        allowHttpLoopback: false,
      });
      if (!check.ok) throw new Error('invalid test deposit');
      return acceptDeposit(
        database.knex,
        {
          merchant: { merchantId: shop.merchantId, defaultWebhookUrl: null },
          request: check.request,
          tokenHashFor: (sessionId) => `hash-${sessionId}`,
          sessionTtlSeconds: 900,
          now: new Date(),
          correlationId: `corr-${merchantTransactionId}`,
        },
        via,
      );
    };

    /** Counts the statements that insert transactions while `work` runs. */
    const countingInserts = async <T>(work: () => Promise<T>): Promise<{ result: T; inserts: number }> => {
      let inserts = 0;
      const onQuery = (query: { sql: string }) => {
        if (query.sql.includes('insert into "transactions"')) inserts++;
      };
      database.knex.on('query', onQuery);
      try {
        return { result: await work(), inserts };
      } finally {
        database.knex.removeListener('query', onQuery);
      }
    };

    it('writes deposits accepted at the same moment with one statement, each with all its rows', async () => {
      const ids = Array.from({ length: 20 }, newOrderId);
      const { result, inserts } = await countingInserts(() => Promise.all(ids.map((id) => accept(id))));
      expect(inserts, 'one statement for the twenty').to.equal(1);
      expect(result.map((outcome) => outcome.kind)).to.deep.equal(ids.map(() => 'created'));
      const transactions = await database
        .knex('transactions')
        .whereIn('merchant_transaction_id', ids)
        .select('id', 'merchant_transaction_id');
      expect(transactions).to.have.length(20);
      for (const outcome of result) {
        if (outcome.kind !== 'created') throw new Error('unreachable');
        const id = outcome.deposit.transactionId;
        expect(transactions.find((t) => t.id === id)?.merchant_transaction_id).to.equal(
          outcome.deposit.merchantTransactionId,
        );
        expect(await database.knex('payment_sessions').where({ transaction_id: id })).to.have.length(1);
        expect(await database.knex('outbox').where({ key: id })).to.have.length(2);
        expect(await database.knex('transaction_timeline').where({ transaction_id: id })).to.have.length(2);
      }
    });

    it('answers a replay and a concurrent duplicate inside a batch from the original, and creates the rest', async () => {
      const earlier = newOrderId();
      const original = await accept(earlier);
      if (original.kind !== 'created') throw new Error('setup deposit was not created');
      const fresh = Array.from({ length: 5 }, newOrderId);
      const twice = newOrderId();
      const outcomes = await Promise.all([
        ...fresh.map((id) => accept(id)),
        accept(earlier),
        accept(twice),
        accept(twice),
      ]);
      expect(outcomes.slice(0, 5).map((o) => o.kind)).to.deep.equal(fresh.map(() => 'created'));
      const replay = outcomes[5]!;
      expect(replay.kind).to.equal('replayed');
      if (replay.kind !== 'replayed') throw new Error('unreachable');
      expect(replay.deposit.transactionId).to.equal(original.deposit.transactionId);
      expect(
        outcomes
          .slice(6)
          .map((o) => o.kind)
          .sort(),
      ).to.deep.equal(['created', 'replayed']);
      const counts = await database
        .knex('transactions')
        .whereIn('merchant_transaction_id', [...fresh, earlier, twice])
        .groupBy('merchant_transaction_id')
        .select('merchant_transaction_id')
        .count<{ count: string | number }[]>('* as count');
      expect(counts.map((row) => Number(row.count))).to.deep.equal(counts.map(() => 1));
      expect(counts).to.have.length(7);
    });

    if (driver === 'postgres')
      it('frees its lane when a statement gets no answer in time: later deposits do not wait behind it', async () => {
        const impatient = depositWriter(database.knex, { maxBatch: 32, maxInFlight: 1, timeoutMs: 300 });
        const held = newOrderId();
        // Another session inserted the same merchantTransactionId and has not committed: our insert of it
        // waits for that session (a unique-index wait), past the writer's deadline.
        const trx = await database.knex.transaction();
        try {
          await accept(held, async (tables) => void (await insertAll(trx, tables)));
          const stuck = accept(held, impatient).then(
            () => 'written',
            (error: Error) => error.name,
          );
          await new Promise((resolve) => setTimeout(resolve, 20));
          const next = await accept(newOrderId(), impatient);
          expect(next.kind, 'a deposit after the stuck one is written while it still waits').to.equal(
            'created',
          );
          expect(await stuck).to.equal('DatabaseUnavailableError');
        } finally {
          await trx.rollback();
        }
      });

    it('fails only the deposit whose row the database refuses; the others of its batch are written', async () => {
      // A row no validated request produces (currency longer than the column): a data error of one deposit.
      const broken: DepositWrite = (tables: readonly TableRows[]) =>
        write(
          tables.map((part) =>
            part.table === 'transactions'
              ? { ...part, rows: part.rows.map((row) => ({ ...row, currency: 'EURO' })) }
              : part,
          ),
        );
      const good = [newOrderId(), newOrderId()];
      const bad = newOrderId();
      const outcomes = await Promise.allSettled([accept(good[0]!), accept(bad, broken), accept(good[1]!)]);
      expect(outcomes.map((o) => o.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
      const written = await database
        .knex('transactions')
        .whereIn('merchant_transaction_id', [...good, bad])
        .pluck('merchant_transaction_id');
      expect(written.sort()).to.deep.equal([...good].sort());
    });
  });
}
