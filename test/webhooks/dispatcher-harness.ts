/**
 * Everything a dispatcher test needs, real: a migrated database, the EventBus over a real transport,
 * the real OutboxRelay, the dispatcher, and an "orchestrator" that records status changes and webhook
 * requests with appendFacts exactly as the processor does. Topic and group names are unique per run,
 * so suites never see each other's messages on a shared Kafka.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Database } from '../../adapters/db/index.js';
import { EventBus, type Broker } from '../../core/broker/index.js';
import { silentLogger } from '../../core/logger.js';
import { createMetrics } from '../../core/observability/metrics.js';
import { OutboxRelay } from '../../core/outbox/index.js';
import { BUSINESS_EVENTS_TOPIC } from '../../core/streams.js';
import { appendFacts, fact, merchantStatus, type TransactionStatus } from '../../core/transactions/index.js';
import {
  newWebhookSecret,
  startWebhookDispatcher,
  webhookMetrics,
  type RunningWebhookDispatcher,
  type WebhookDispatcherSettings,
} from '../../webhook-dispatcher/index.js';
import { uniqueName } from '../support/backends.js';
import { brokerTargets, type BrokerTarget } from '../support/broker-targets.js';
import { createTestDatabase } from '../support/database.js';
import { eventually } from '../support/eventually.js';
import { insertMerchant, insertTransaction } from '../support/fixtures.js';
import { MerchantReceiver } from './merchant-receiver.js';

export type DispatcherTarget = BrokerTarget;

export const TARGETS: DispatcherTarget[] = brokerTargets({
  clientId: () => uniqueName('webhook-test'),
  partitions: 4,
});

/**
 * Three attempts (two retries ~100 ms and ~200 ms apart); slots and host queues small enough to prove
 * isolation: 2 attempts in flight per host, 2 more waiting in memory, the rest deferred via the broker.
 */
export const TEST_SETTINGS: WebhookDispatcherSettings = {
  retryScheduleMs: [100, 200],
  timeoutMs: 30_000,
  maxInFlightPerHost: 2,
  maxQueuedPerHost: 2,
  maxQueued: 100,
  concurrency: 4,
  allowHttp: true,
  allowAddresses: ['loopback'],
  deferBaseMs: 50,
};

export interface Harness {
  database: Database;
  knex: Knex;
  bus: EventBus;
  running: RunningWebhookDispatcher;
  metrics: ReturnType<typeof createMetrics>;
  topics: { events: string; attempts: string };
  receivers: MerchantReceiver[];
  /**
   * Fault injection: the dispatcher's next publish to the attempts topic fails (as if the process died
   * right after committing), or is lost without an error (as if the broker lost the message).
   */
  faults: { failNextAttemptPublish: boolean; loseNextAttemptPublish: boolean };
  /**
   * Stops the dispatcher (as on SIGTERM) and starts a new one in the same consumer groups, with
   * `overrides` on top of TEST_SETTINGS (until the next restart).
   */
  restartDispatcher(overrides?: Partial<WebhookDispatcherSettings>): Promise<void>;
  stop(): Promise<void>;
}

/** A broker that publishes the platform's fixed topic names to this run's unique ones. */
function remapTopics(broker: Broker, map: Record<string, string>): Broker {
  const wrapper = Object.create(broker) as Broker;
  wrapper.publish = (topic, messages, options) => broker.publish(map[topic] ?? topic, messages, options);
  return wrapper;
}

export async function startHarness(context: Mocha.Context, target: DispatcherTarget): Promise<Harness> {
  const { database, release } = await createTestDatabase(target.driver, context);
  const bus = new EventBus({
    transport: target.transport(database),
    logger: silentLogger,
    delayTiersMs: [50, 200, 1_000],
  });
  await bus.start();
  const topics = { events: uniqueName('webhook-events'), attempts: uniqueName('webhook-attempts') };
  const metrics = createMetrics({ service: 'webhook-test', defaultMetrics: false });
  const faults = { failNextAttemptPublish: false, loseNextAttemptPublish: false };
  // The dispatcher's publishes can be made to fail once, as if the process died right after committing.
  const dispatcherBroker = Object.create(bus) as Broker;
  dispatcherBroker.publish = async (topic, messages, options) => {
    if (topic === topics.attempts && faults.failNextAttemptPublish) {
      faults.failNextAttemptPublish = false;
      throw new Error('process died before publishing the retry');
    }
    if (topic === topics.attempts && faults.loseNextAttemptPublish) {
      faults.loseNextAttemptPublish = false;
      return;
    }
    return bus.publish(topic, messages, options);
  };
  const observer = webhookMetrics(metrics.registry);
  const groups = {
    events: uniqueName('webhook-dispatcher'),
    attempts: uniqueName('webhook-dispatcher-attempts'),
  };
  const startDispatcher = (overrides: Partial<WebhookDispatcherSettings> = {}) =>
    startWebhookDispatcher({
      knex: database.knex,
      broker: dispatcherBroker,
      logger: silentLogger,
      settings: { ...TEST_SETTINGS, ...overrides },
      observer,
      eventsTopic: topics.events,
      eventsGroup: groups.events,
      attemptsTopic: topics.attempts,
      attemptsGroup: groups.attempts,
    });
  let running = await startDispatcher();
  const relay = new OutboxRelay({
    knex: database.knex,
    listen: (channel, onNotify) => database.listen(channel, onNotify),
    broker: remapTopics(bus, { [BUSINESS_EVENTS_TOPIC]: topics.events }),
    logger: silentLogger,
    pollIntervalMs: 200,
  });
  await relay.start();
  const receivers: MerchantReceiver[] = [];
  const harness: Harness = {
    database,
    knex: database.knex,
    bus,
    running,
    metrics,
    topics,
    receivers,
    faults,
    restartDispatcher: async (overrides) => {
      await running.stop(500);
      running = await startDispatcher(overrides);
      harness.running = running;
    },
    stop: async () => {
      await running.stop(2_000);
      await relay.stop();
      await bus.stop(2_000);
      await Promise.all(receivers.map((r) => r.close()));
      await release();
    },
  };
  return harness;
}

export interface TestMerchant {
  merchantId: string;
  secret: string;
  receiver: MerchantReceiver;
}

/** A merchant with one active signing secret and its own receiver as default webhook URL. */
export async function addMerchant(harness: Harness): Promise<TestMerchant> {
  const secret = newWebhookSecret(randomBytes);
  const receiver = await new MerchantReceiver(secret).start();
  harness.receivers.push(receiver);
  const merchantId = await insertMerchant(harness.knex);
  await harness.knex('merchants').where({ id: merchantId }).update({ default_webhook_url: receiver.url() });
  await harness.knex('merchant_webhook_secrets').insert({ merchant_id: merchantId, secret });
  return { merchantId, secret, receiver };
}

/** A transaction whose webhook URL is, as the gateway stores it, the merchant's default at creation. */
export async function addTransaction(harness: Harness, merchant: TestMerchant): Promise<string> {
  return insertTransaction(harness.knex, merchant.merchantId, {
    webhook_url: merchant.receiver.url(),
    amount_minor: 2_550,
    currency: 'EUR',
    status: 'AWAITING_PROVIDER',
  });
}

/**
 * Plays the orchestrator: moves the transaction to `toStatus` and records TransactionStatusChanged and
 * MerchantWebhookRequested in the same database transaction.
 */
export async function changeStatus(
  knex: Knex,
  ref: { transactionId: string; merchantId: string },
  toStatus: TransactionStatus,
): Promise<{ webhookId: string; sequence: number }> {
  const webhookId = `msg_${randomUUID()}`;
  const events = await knex.transaction(async (trx) => {
    const row = await trx('transactions')
      .where({ id: ref.transactionId })
      .first('status', 'amount_minor', 'currency');
    await trx('transactions').where({ id: ref.transactionId }).update({ status: toStatus });
    return appendFacts(trx, ref, [
      fact(
        'TransactionStatusChanged',
        {
          fromStatus: row.status,
          toStatus,
          reason: null,
          amount: { amountMinor: Number(row.amount_minor), currency: row.currency },
        },
        { status: merchantStatus(toStatus) },
      ),
      fact(
        'MerchantWebhookRequested',
        { webhookId, webhookType: 'transaction.status_changed', status: toStatus },
        { webhookId, status: merchantStatus(toStatus) },
      ),
    ]);
  });
  return { webhookId, sequence: events[1]!.envelope.sequence };
}

export async function deliveryState(knex: Knex, webhookId: string): Promise<string | undefined> {
  const row = await knex('webhook_deliveries').where({ id: webhookId }).first('state');
  return row?.state;
}

/** A new transaction of the merchant moved to `toStatus`: its MerchantWebhookRequested is on its way. */
export async function requestWebhook(
  harness: Harness,
  merchant: TestMerchant,
  toStatus: TransactionStatus = 'APPROVED',
): Promise<{ transactionId: string; webhookId: string; sequence: number }> {
  const transactionId = await addTransaction(harness, merchant);
  const requested = await changeStatus(
    harness.knex,
    { transactionId, merchantId: merchant.merchantId },
    toStatus,
  );
  return { transactionId, ...requested };
}

/** Waits (up to a minute) until the webhook's delivery is in `state`. */
export async function waitForState(knex: Knex, webhookId: string, state: string): Promise<void> {
  await eventually(
    async () => (await deliveryState(knex, webhookId)) === state,
    60_000,
    `${webhookId} ${state}`,
  );
}

/** A `webhook_attempts` row, with the columns tests look at typed. */
export interface AttemptRow {
  attempt_number: number;
  trigger: string;
  response_status: number | null;
  error_class: string | null;
  duration_ms: number;
  [column: string]: unknown;
}

/** The webhook's recorded attempts, in attempt order. */
export async function attemptsOf(knex: Knex, webhookId: string): Promise<AttemptRow[]> {
  return knex('webhook_attempts').where({ delivery_id: webhookId }).orderBy('attempt_number');
}

export async function timeline(
  knex: Knex,
  transactionId: string,
): Promise<
  Array<{ id: number; entry_type: string; merchant_view: unknown; internal: Record<string, unknown> }>
> {
  const rows = await knex('transaction_timeline').where({ transaction_id: transactionId }).orderBy('id');
  return rows.map((row) => ({ ...row, id: Number(row.id) }));
}

/** The value of a counter (summed over label sets matching `labels`). */
export async function metricValue(
  harness: Harness,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = (await harness.metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  if (!metric) return 0;
  return (metric.values as Array<{ value: number; labels: Record<string, string | number> }>)
    .filter((v) => Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l))
    .reduce((sum, v) => sum + v.value, 0);
}
