/**
 * The demo routing configuration (config/routing-rules.json) against the simulator: every active SUB MID,
 * with the development credentials the rules name, reaches its provider through its connector and gets a
 * payment page. Catches a credential name or URL template the connectors would not understand.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { connectorFor, createConnectorRegistry } from '../../processor/connectors/index.js';
import { loadRoutingRules } from '../../processor/routing/index.js';
import type { RunningSimulator } from '../../provider-simulator/index.js';
import { startTestSimulator } from '../support/simulator.js';

describe('demo routing accounts through the connectors', function () {
  this.timeout(15_000);
  let sim: RunningSimulator;

  before(async () => {
    ({ sim } = await startTestSimulator());
  });
  after(() => sim.close());

  it('every active SUB MID gets a redirect from its provider', async () => {
    const { rules, accounts } = await loadRoutingRules('config/routing-rules.json', {
      env: {},
      simulatorBaseUrl: sim.url,
      allowDevCredentials: true,
    });
    const registry = createConnectorRegistry();
    expect(accounts.size).to.be.greaterThan(0);
    for (const account of accounts.values()) {
      const currency = rules.subMids.get(account.subMidId)!.currencies?.[0] ?? 'EUR';
      const attemptId = `att_${randomUUID()}`;
      const outcome = await connectorFor(registry, account.providerId).createPayment(
        {
          account,
          idempotencyKey: attemptId,
          attemptId,
          transactionId: `tx_${randomUUID()}`,
          amountMinor: 1000,
          currency,
          paymentMethod: 'card',
          customer: { email: 'demo@example.test' },
          returnUrl: 'https://pay.example.test/return',
          callbackUrl: 'https://pay.example.test/callbacks/x',
        },
        { timeoutMs: 5_000 },
      );
      expect(outcome.kind, `${account.subMidId}: ${JSON.stringify(outcome)}`).to.equal('redirect');
    }
  });
});
