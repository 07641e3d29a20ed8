/**
 * What the orchestrator's one-statement writes leave behind (processor/handlers/record.ts): every row a
 * decision changes, facts numbered without gaps from the locked transaction row, and a decision refused
 * as a whole when the row it numbered from is no longer current.
 */
import { expect } from 'chai';
import { appendFacts, fact } from '../../core/transactions/journal.js';
import { record } from '../../processor/handlers/record.js';
import { lockTransaction } from '../../processor/store/transactions.js';
import { decodeEvent } from '../../schemas/index.js';
import { useProcessorHarness } from './processor-harness.js';

for (const driver of ['pglite', 'postgres'] as const) {
  describe(`processor decision writes (${driver})`, function () {
    this.timeout(30_000);
    const setup = useProcessorHarness(driver);

    it('writes plan, attempt, session, callback and gap-free facts with each decision', async () => {
      const { knex, harness } = setup;
      const id = await harness.createTransaction();
      await harness.depositRequested(id);
      expect(await knex('routing_plans').where({ transaction_id: id })).to.have.length(1);
      const started = await harness.providerRequestStarted(id);
      expect(started.payload).to.include({ attemptNumber: 1, providerIdempotencyKey: `${id}:1` });
      await harness.deliver(started);
      expect(await knex('payment_sessions').where({ transaction_id: id }).first()).to.include({
        state: 'redirect_ready',
        redirect_url: `https://psp.example/checkout/${started.payload.attemptId}`,
      });
      await harness.callback({ providerReference: `ref-${started.payload.attemptId}` });

      const attempt = await knex('payment_attempts').where({ id: started.payload.attemptId }).first();
      expect(attempt).to.include({ state: 'succeeded', outcome: 'approved' });
      expect(attempt.provider_reference).to.equal(`ref-${started.payload.attemptId}`);
      expect(await knex('payment_sessions').where({ transaction_id: id }).first()).to.include({
        state: 'completed',
      });
      const callback = await knex('provider_callbacks').where({ transaction_id: id }).first();
      expect(callback).to.include({ state: 'processed', attempt_id: started.payload.attemptId });
      const tx = await knex('transactions').where({ id }).first();
      expect(tx.status).to.equal('APPROVED');

      // The deposit's own fact is #1 (written by the gateway, not here); the processor's follow on.
      const outbox = await knex('outbox').where({ key: id }).select('payload');
      const sequences = outbox.map((row) => decodeEvent(row.payload as Buffer).envelope.sequence);
      sequences.sort((a, b) => a - b);
      expect(sequences).to.deep.equal(Array.from({ length: sequences.length }, (_, i) => i + 2));
      expect(Number(tx.last_sequence)).to.equal(sequences.length + 1);
      expect(await knex('transaction_timeline').where({ transaction_id: id })).to.have.length(
        sequences.length,
      );
    });

    it('refuses the whole decision when the locked row it numbered from is stale', async () => {
      const { knex, harness } = setup;
      const id = await harness.createTransaction();
      const error = await knex
        .transaction(async (trx) => {
          const locked = (await lockTransaction(trx, id))!;
          // Someone numbers facts after the row was read (only possible within this DB transaction).
          await appendFacts(trx, { transactionId: id, merchantId: locked.merchantId }, [
            fact('RoutingStarted', { routingRulesVersion: 'v0' }, null),
          ]);
          await record(
            trx,
            locked,
            {
              facts: [fact('RoutingStarted', { routingRulesVersion: 'v1' }, null)],
              session: { state: 'failed' },
            },
            undefined,
            harness.deps.metrics,
          );
        })
        .catch((e: unknown) => e);
      expect(String(error)).to.match(/changed under its lock/);
      expect(await knex('transaction_timeline').where({ transaction_id: id })).to.have.length(0);
      expect((await knex('payment_sessions').where({ transaction_id: id }).first()).state).to.equal(
        'loading',
      );
      expect(Number((await knex('transactions').where({ id }).first()).last_sequence)).to.equal(1);
    });
  });
}
