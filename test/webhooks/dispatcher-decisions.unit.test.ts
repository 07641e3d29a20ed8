import { expect } from 'chai';
import fc from 'fast-check';
import { loadConfig } from '../../core/config/index.js';
import { NonRetryableError } from '../../core/errors.js';
import { attemptFacts } from '../../webhook-dispatcher/attempt-facts.js';
import { attemptMessage, parseAttemptMessage } from '../../webhook-dispatcher/attempt-messages.js';
import { decideOutcome, planAttempt } from '../../webhook-dispatcher/attempt-plan.js';
import { deferDelay, hostKey } from '../../webhook-dispatcher/host-gate.js';
import type { AttemptCommand, AttemptResult, Delivery } from '../../webhook-dispatcher/model.js';
import { buildWebhookPayload, merchantSafeStatus } from '../../webhook-dispatcher/payload.js';
import { DEFAULT_KEEP_ALIVE_MS } from '../../webhook-dispatcher/merchant-connections.js';
import { DEFAULT_WEBHOOK_SCHEDULE_MS } from '../../webhook-dispatcher/retry-schedule.js';

const now = new Date('2026-11-24T12:00:00Z');
const pending: Pick<Delivery, 'state' | 'url' | 'nextAttemptNumber' | 'nextAttemptAt' | 'lastAttemptNumber'> =
  {
    state: 'pending',
    url: 'https://merchant.example/hook',
    nextAttemptNumber: 1,
    nextAttemptAt: now,
    lastAttemptNumber: 1,
  };
const automatic = (attemptNumber: number) => ({ attemptNumber, trigger: 'automatic' as const });
const manual = (attemptNumber: number) => ({ attemptNumber, trigger: 'manual_resend' as const });

describe('webhook attempt planning', () => {
  it('sends the scheduled automatic attempt', () => {
    expect(planAttempt(pending, undefined, automatic(1), now)).to.deep.equal({ kind: 'send' });
  });

  it('never sends an attempt that is already recorded; re-publishes the retry it scheduled if still due', () => {
    const scheduled = { ...pending, nextAttemptNumber: 2, nextAttemptAt: new Date(now.getTime() + 5_000) };
    expect(planAttempt(scheduled, { nextAttemptNumber: 2 }, automatic(1), now)).to.deep.equal({
      kind: 'republish',
      attemptNumber: 2,
      dueAt: scheduled.nextAttemptAt,
    });
    expect(
      planAttempt({ ...pending, state: 'delivered' }, { nextAttemptNumber: null }, automatic(1), now),
    ).to.include({
      kind: 'skip',
    });
    // Attempt 2 already ran and scheduled 3: a late copy of attempt 1 does nothing.
    expect(
      planAttempt({ ...pending, nextAttemptNumber: 3 }, { nextAttemptNumber: 2 }, automatic(1), now),
    ).to.include({
      kind: 'skip',
    });
    expect(planAttempt(pending, { nextAttemptNumber: null }, manual(4), now)).to.include({ kind: 'skip' });
  });

  it('skips automatic attempts of finished deliveries and stale retries; resends run in any state', () => {
    for (const state of ['delivered', 'exhausted'] as const) {
      expect(planAttempt({ ...pending, state }, undefined, automatic(1), now)).to.include({ kind: 'skip' });
      expect(planAttempt({ ...pending, state }, undefined, manual(5), now)).to.deep.equal({ kind: 'send' });
    }
    expect(planAttempt({ ...pending, nextAttemptNumber: 3 }, undefined, automatic(2), now)).to.include({
      kind: 'skip',
    });
    expect(planAttempt({ ...pending, url: null, state: 'skipped' }, undefined, manual(1), now)).to.include({
      kind: 'skip',
    });
  });

  it('puts back an automatic attempt that arrives well before its due time', () => {
    const due = new Date(now.getTime() + 60_000);
    expect(planAttempt({ ...pending, nextAttemptAt: due }, undefined, automatic(1), now)).to.deep.equal({
      kind: 'republish',
      attemptNumber: 1,
      dueAt: due,
    });
  });
});

describe('webhook attempt outcome', () => {
  const base = { schedule: [1_000, 10_000], random: () => 0.5, now };

  it('retries a failed automatic attempt on the schedule with a new attempt number, then exhausts', () => {
    const first = decideOutcome({
      ...base,
      delivery: pending,
      command: automatic(1),
      delivered: false,
      automaticAttempts: 1,
    });
    expect(first).to.deep.include({ state: 'pending', exhausted: false });
    expect(first.nextAttempt).to.deep.equal({
      number: 2,
      at: new Date(now.getTime() + 1_000),
      delayMs: 1_000,
    });
    const last = decideOutcome({
      ...base,
      delivery: { ...pending, nextAttemptNumber: 3, lastAttemptNumber: 3 },
      command: automatic(3),
      delivered: false,
      automaticAttempts: 3,
    });
    expect(last).to.deep.equal({
      state: 'exhausted',
      nextAttempt: null,
      newlyDelivered: false,
      exhausted: true,
    });
  });

  it('honours Retry-After within the bound', () => {
    const decision = decideOutcome({
      ...base,
      delivery: pending,
      command: automatic(1),
      delivered: false,
      automaticAttempts: 1,
      retryAfterMs: 120_000,
      maxRetryAfterMs: 60_000,
    });
    expect(decision.nextAttempt?.delayMs).to.equal(60_000);
  });

  it('any 2xx delivers and cancels the scheduled retry; a failed resend changes nothing', () => {
    expect(
      decideOutcome({
        ...base,
        delivery: { ...pending, state: 'exhausted' },
        command: manual(4),
        delivered: true,
        automaticAttempts: 3,
      }),
    ).to.deep.equal({ state: 'delivered', nextAttempt: null, newlyDelivered: true, exhausted: false });
    expect(
      decideOutcome({
        ...base,
        delivery: { ...pending, nextAttemptNumber: 2 },
        command: manual(3),
        delivered: false,
        automaticAttempts: 1,
      }),
    ).to.deep.equal({ state: 'pending', nextAttempt: undefined, newlyDelivered: false, exhausted: false });
  });

  it('never schedules more automatic attempts than the schedule allows (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 100_000 }), { maxLength: 12 }), (schedule) => {
        let delivery = { ...pending };
        let attempts = 0;
        for (;;) {
          attempts++;
          const d = decideOutcome({
            schedule,
            now,
            delivery,
            command: automatic(delivery.nextAttemptNumber!),
            delivered: false,
            automaticAttempts: attempts,
          });
          if (!d.nextAttempt) return d.exhausted && attempts === schedule.length + 1;
          delivery = {
            ...delivery,
            nextAttemptNumber: d.nextAttempt.number,
            lastAttemptNumber: d.nextAttempt.number,
          };
        }
      }),
    );
  });
});

describe('webhook payload and facts', () => {
  it('maps internal statuses to the merchant status and refuses unknown ones', () => {
    expect(merchantSafeStatus('AWAITING_PROVIDER')).to.equal('pending');
    expect(merchantSafeStatus('APPROVED')).to.equal('approved');
    expect(merchantSafeStatus('declined')).to.equal('declined');
    expect(() => merchantSafeStatus('SUB_MID_TIMEOUT')).to.throw(NonRetryableError);
    const payload = buildWebhookPayload({
      webhookId: 'msg_1',
      webhookType: 'transaction.status_changed',
      status: 'EXPIRED',
      sequence: 9,
      occurredAt: now,
      transaction: { id: 'tx_1', merchantTransactionId: 'order-1', amountMinor: 1234, currency: 'USD' },
    });
    expect(payload).to.deep.equal({
      type: 'transaction.status_changed',
      id: 'msg_1',
      transactionId: 'tx_1',
      merchantTransactionId: 'order-1',
      status: 'expired',
      amount: { value: 1234, currency: 'USD' },
      sequence: 9,
      occurredAt: now.toISOString(),
    });
  });

  it('gives merchants a view without headers, URLs or response bodies', () => {
    const result: AttemptResult = {
      delivered: false,
      status: 500,
      errorClass: 'http_status',
      errorMessage: 'HTTP 500',
      durationMs: 12,
      requestHeaders: { 'webhook-signature': 'v1,abc' },
      responseHeaders: { 'x-internal': 'y' },
      bodyExcerpt: 'stack trace',
      startedAt: now,
      finishedAt: now,
    };
    const facts = attemptFacts({
      webhookId: 'msg_1',
      url: 'https://merchant.example/hook?token=secret-token',
      command: { attemptNumber: 1, trigger: 'automatic', requestedBy: null },
      result,
      decision: {
        state: 'pending',
        nextAttempt: { number: 2, at: now, delayMs: 5_000 },
        newlyDelivered: false,
        exhausted: false,
      },
      totalAttempts: 1,
    });
    expect(facts.map((f) => f.type)).to.deep.equal([
      'MerchantWebhookFailed',
      'MerchantWebhookRetryScheduled',
    ]);
    const everything = JSON.stringify(facts);
    for (const leak of ['secret-token', 'v1,abc', 'stack trace', 'x-internal'])
      expect(everything).not.to.contain(leak);
    expect(facts[0]!.internal).to.include({ target: 'https://merchant.example' });
  });
});

describe('webhook attempt messages and isolation helpers', () => {
  it('round-trips attempt commands and dead-letters garbage', () => {
    const command: AttemptCommand = {
      deliveryId: 'msg_1',
      attemptNumber: 3,
      trigger: 'manual_resend',
      requestedBy: 'agent-7',
      correlationId: 'c1',
      causationId: null,
      deferrals: 2,
    };
    const message = attemptMessage('tx_1', command);
    expect(message.key).to.equal('tx_1');
    expect(parseAttemptMessage(message.value)).to.deep.equal(command);
    expect(() => parseAttemptMessage(Buffer.from('nope'))).to.throw(NonRetryableError);
    expect(() => parseAttemptMessage(Buffer.from('{"deliveryId":1}'))).to.throw(NonRetryableError);
  });

  it('keys hosts by host and port, and defers refused attempts with a doubling, capped delay', () => {
    expect(hostKey('https://Merchant.example/a')).to.equal(hostKey('https://merchant.example:443/b'));
    expect(hostKey('http://merchant.example/a')).to.equal('merchant.example:80');
    expect(deferDelay(1_000, 0, () => 0.5)).to.equal(1_000);
    expect(deferDelay(1_000, 2, () => 0.5)).to.equal(4_000);
    expect(deferDelay(1_000, 50, () => 0.5)).to.equal(30_000);
  });

  it('configures the documented default schedule and refuses bad values', () => {
    const config = loadConfig({ DEMO: 'off' });
    expect(config.webhooks.retryScheduleMs).to.deep.equal(DEFAULT_WEBHOOK_SCHEDULE_MS);
    expect(config.webhooks.keepAliveMs).to.equal(DEFAULT_KEEP_ALIVE_MS);
    expect(config.webhooks).to.include({
      allowHttp: false,
      timeoutMs: 10_000,
      maxInFlightPerHost: 4,
      maxQueuedPerHost: 64,
      maxQueued: 256,
    });
    expect(
      loadConfig({ WEBHOOK_MAX_QUEUED_PER_HOST: '0', WEBHOOK_MAX_QUEUED: '10' }).webhooks,
      'queues can be turned off (every over-limit attempt deferred via the broker)',
    ).to.include({ maxQueuedPerHost: 0, maxQueued: 10 });
    expect(config.webhooks.allowAddresses).to.deep.equal([]);
    expect(
      loadConfig({ WEBHOOK_RETRY_SCHEDULE_MS: '10,20', WEBHOOK_ALLOWED_ADDRESS_CLASSES: 'loopback' })
        .webhooks,
    ).to.deep.include({
      retryScheduleMs: [10, 20],
      allowAddresses: ['loopback'],
    });
    expect(() => loadConfig({ WEBHOOK_ALLOWED_ADDRESS_CLASSES: 'metadata' })).to.throw(
      /WEBHOOK_ALLOWED_ADDRESS_CLASSES/,
    );
    expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE_MS: '5s' })).to.throw(/WEBHOOK_RETRY_SCHEDULE_MS/);
  });
});
