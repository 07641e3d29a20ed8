/**
 * What an operator's Prometheus sees: one payment through the whole platform moves the series the
 * alert rules and dashboards are built on.
 */
import { expect } from 'chai';
import { eventually } from '../support/eventually.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

describe('/metrics after a payment', function () {
  this.timeout(60_000);
  let t: TestPlatform;

  before(async () => {
    t = await startTestPlatform();
  });
  after(async () => t?.stop());

  const scrape = async () => (await fetch(`${t.url}/metrics`)).text();
  const value = (text: string, series: RegExp): number => {
    const line = text.split('\n').find((l) => !l.startsWith('#') && series.test(l));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };

  it('exposes and moves the payment, broker, outbox, webhook and HTTP series', async () => {
    const before = await scrape();
    for (const name of [
      'provider_callbacks_parked ',
      'provider_callbacks_parked_oldest_age_seconds ',
      'outbox_backlog_events',
      'outbox_oldest_event_age_seconds',
      'broker_consumer_backlog_messages',
      'dlq_open_failed_events',
    ]) {
      expect(before, name).to.contain(name.trim());
    }
    const { body } = await t.deposit({
      merchantTransactionId: `metrics-${Date.now()}`,
      amount: { value: 1507, currency: 'EUR' }, // …07: approved synchronously, then an approved callback
      paymentMethod: 'card',
      returnUrls: { success: 'https://shop.example/ok', failure: 'https://shop.example/ko' },
    });
    await eventually(
      async () => (await t.transaction(body.transactionId)).status === 'approved',
      30_000,
      'approved',
    );
    await eventually(() => t.receiver.received.length > 0, 30_000, 'the webhook');
    await eventually(
      async () => value(await scrape(), /^webhook_attempts_total\{[^}]*outcome="delivered"/) >= 1,
      30_000,
      'webhook_attempts_total{outcome="delivered"}',
    );
    const after = await scrape();
    const moved: Array<[string, RegExp]> = [
      ['deposits accepted', /^merchant_deposits_total\{[^}]*outcome="accepted"/],
      ['status transitions to APPROVED', /^transaction_status_transitions_total\{[^}]*to="APPROVED"/],
      ['provider requests', /^provider_request_duration_seconds_count\{/],
      [
        'DepositRequested events handled by the processor',
        /^broker_messages_handled_total\{(?=[^}]*group="processor")(?=[^}]*outcome="ok")(?=[^}]*event_type="DepositRequested")/,
      ],
      ['outbox events relayed', /^outbox_events_published_total/],
      ['events published', /^broker_messages_published_total\{[^}]*ok="true"/],
      [
        'HTTP requests to the deposit route',
        /^http_request_duration_seconds_count\{[^}]*route="\/api\/v2\/deposit"/,
      ],
    ];
    for (const [what, series] of moved) {
      expect(value(after, series), what).to.be.greaterThan(value(before, series));
    }
  });
});
