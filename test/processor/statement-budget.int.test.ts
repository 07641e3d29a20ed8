/**
 * What one happy-path payment costs the database in the orchestrator, counted on a real database
 * through knex's query event: DepositRequested (routing, first attempt), ProviderRequestStarted
 * (provider answers with a redirect) and the provider's approval callback. On a 2-core machine every
 * statement is CPU on the one Node thread (docs/benchmarks.md, flow-latency), so this is a budget: a
 * change that adds statements to the hot path has to raise it deliberately.
 */
import { expect } from 'chai';
import { countStatements, useProcessorHarness } from './processor-harness.js';

for (const driver of ['pglite', 'postgres'] as const) {
  describe(`processor statement budget (${driver})`, function () {
    this.timeout(30_000);
    const setup = useProcessorHarness(driver);

    it('a happy-path payment (route, redirect, approval callback) stays within its statement budget', async () => {
      const { knex, harness } = setup;
      // Warm up once, so first-use work (none expected, but cheap to rule out) is not counted.
      const warm = await harness.createTransaction();
      await harness.depositRequested(warm);
      const warmStarted = await harness.providerRequestStarted(warm);
      await harness.deliver(warmStarted);
      await harness.callback({ providerReference: `ref-${warmStarted.payload.attemptId}` });

      const id = await harness.createTransaction();
      const deposit = await countStatements(knex, () => harness.depositRequested(id));
      const started = await harness.providerRequestStarted(id);
      const request = await countStatements(knex, () => harness.deliver(started));
      const callback = await countStatements(knex, () =>
        harness.callback({ providerReference: `ref-${started.payload.attemptId}` }),
      );
      expect((await knex('transactions').where({ id }).first('status')).status).to.equal('APPROVED');
      // Per handler: read, BEGIN, lock, what the decision needs, ONE write (status, session, attempt,
      // callback, outbox + timeline + NOTIFY), COMMIT; see processor/handlers/record.ts.
      const budget = (name: string, counted: { count: number; statements: string[] }, limit: number) =>
        expect(counted.count, `${name}:\n${counted.statements.join('\n')}`).to.be.at.most(limit);
      budget('DepositRequested (BEGIN, inbox, lock+velocity, write, COMMIT)', deposit, 5);
      budget(
        'ProviderRequestStarted (attempt+transaction, BEGIN, lock, attempts, write, COMMIT, parked)',
        request,
        7,
      );
      budget('approval callback (store, BEGIN, attempt+lock, callback+attempts, write, COMMIT)', callback, 6);
    });
  });
}
