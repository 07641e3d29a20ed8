/**
 * Outage suite: the services run as separate processes on Kafka and PostgreSQL reached through proxies
 * the test can cut (the shared broker and database stay up for everybody else), under load:
 * - broker down: deposits are still accepted (into the outbox), provider callbacks answer 503 and
 *   never 2xx, and everything drains once the broker is back;
 * - database down: deposits answer 503 quickly, provider callbacks are still accepted queue-first, and
 *   processing resumes afterwards without dead-lettering anything;
 * - a merchant endpoint down for longer than the webhook retry schedule: the exhaustion is recorded,
 *   and a resend (back-office API, and the dispatcher's requestResend) delivers it later.
 * Then every invariant of the crash suite must hold for the whole run. See docs/reliability.md.
 */
import { expect } from 'chai';
import { createBackofficeUser } from '../../backoffice/index.js';
import { requestResend } from '../../webhook-dispatcher/index.js';
import { backendEnv } from '../support/backends.js';
import { requireTestBackend } from '../support/platform-backends.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { eventually } from '../support/eventually.js';
import { startCluster, type Cluster } from './support/cluster.js';
import { plantPoisonMessages } from './support/dead-letters.js';
import { startKafkaProxy } from '../support/kafka-proxy.js';
import type { CallbackLogEntry } from './support/invariants.js';
import { LoadDriver, ORDER_KINDS, seededRandom, sleep, type Order } from './support/load.js';
import { verdict, waitUntilSettled } from './support/verdict.js';

const kind = (name: string) => ORDER_KINDS.find((k) => k.name === name)!;
const PUBLISH_TIMEOUT_MS = 2_000;
const DB_TIMEOUT_MS = 1_000;
const BROKER_OUTAGE_MS = 12_000;
const DATABASE_OUTAGE_MS = 16_000;

function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

function withPort(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.host = `127.0.0.1:${port}`;
  return parsed.toString();
}

describe('outage suite: broker, database and merchant endpoint down under load (Kafka + PostgreSQL)', function () {
  this.timeout(240_000);
  const seed = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
  let kafkaProxy: TcpProxy;
  let pgProxy: TcpProxy;
  let cluster: Cluster;
  let load: LoadDriver;
  let poison = 0;
  let failed = false;
  const notes: string[] = [];
  const journeys: Array<Promise<void>> = [];

  before(async function () {
    requireTestBackend(this, 'kafka');
    const [kafkaHost, kafkaPort] = backendEnv.kafkaBrokers![0]!.split(':');
    kafkaProxy = await startKafkaProxy({ host: kafkaHost!, port: Number(kafkaPort) });
    const pg = new URL(backendEnv.postgresUrl!);
    pgProxy = await startTcpProxy({ host: pg.hostname, port: Number(pg.port || 5432) });
    cluster = await startCluster({
      backend: 'kafka',
      env: {
        BROKER_PUBLISH_TIMEOUT_MS: String(PUBLISH_TIMEOUT_MS),
        MERCHANT_API_DB_TIMEOUT_MS: String(DB_TIMEOUT_MS),
        WEBHOOK_RETRY_SCHEDULE_MS: '200,400,800',
      },
      // Only the services go through the proxies; the test's own connections stay direct.
      routeServices: (env) => ({
        ...env,
        KAFKA_BROKERS: `127.0.0.1:${kafkaProxy.port}`,
        DATABASE_URL: withPort(env.DATABASE_URL!, pgProxy.port),
      }),
      // Providers retry for ~30 s: longer than any outage here.
      callbackRetryDelaysMs: [500, 1_000, 2_000, 3_000, 5_000, 5_000, 5_000, 10_000],
      merchant: { failRate: 0.1, dropRate: 0.02 },
    });
    poison = await plantPoisonMessages(cluster.config, cluster.database);
    load = new LoadDriver({
      gatewayUrl: cluster.gatewayUrl,
      apiKey: cluster.apiKey,
      webhookUrl: cluster.merchant.url(),
      orders: 0,
      paceMs: 0,
      random: seededRandom(seed),
      runId: `outage-${seed}`,
    });
  });
  afterEach(function () {
    failed ||= this.currentTest?.state === 'failed';
    if (this.currentTest?.state === 'failed')
      process.stdout.write(`\nlogs: ${cluster?.logDir}\n${cluster?.tails(25)}\n`);
  });
  after(async () => {
    await cluster?.close(failed);
    await kafkaProxy?.close();
    await pgProxy?.close();
  });

  /** Orders waiting on the provider's checkout page until `pay` opens, plus some background load. */
  const placeAtCheckout = async (count: number, pay: Promise<void>): Promise<Order[]> => {
    const orders = [
      'paid at checkout',
      'duplicate callback',
      'declined after checkout',
      'callbacks out of order',
    ].map((name, i) => (i < count ? load.place(kind(name), { payWhen: pay }) : undefined));
    const placed = orders.filter((o) => o !== undefined);
    journeys.push(...placed.map((p) => p.done));
    await eventually(
      () => placed.every((p) => p.order.journey === 'at checkout'),
      60_000,
      'orders at checkout',
    );
    return placed.map((p) => p.order);
  };
  const callbacksOf = async (orders: Order[]): Promise<CallbackLogEntry[]> => {
    const ids = new Set(orders.map((o) => o.transactionId));
    const entries: CallbackLogEntry[] = [];
    for (const id of ids) {
      const response = await fetch(`${cluster.simulator.url}/_sim/callbacks?transactionId=${id}`);
      entries.push(...((await response.json()) as { callbacks: CallbackLogEntry[] }).callbacks);
    }
    return entries;
  };
  const unpublished = async () =>
    Number((await cluster.database.knex('outbox').whereNull('published_at').count({ n: '*' }).first())?.n);

  it('broker down: deposits are accepted into the outbox, callbacks get 503 (never 2xx), all drains after', async () => {
    const pay = gate();
    const atCheckout = await placeAtCheckout(4, pay.opened);
    await kafkaProxy.refuse();
    const cutAt = Date.now();
    const duringCut = [
      'approved at once',
      'declined at once',
      'customer fields, then paid',
      'paid at checkout',
    ].map((name) => load.place(kind(name)));
    journeys.push(...duringCut.map((p) => p.done));
    await eventually(() => duringCut.every((p) => p.order.answers.length > 0), 20_000, 'deposit answers');
    for (const { order } of duringCut)
      expect(
        order.answers[0]!.status,
        `deposit during the broker outage: ${JSON.stringify(order.answers[0])}`,
      ).to.equal(201);
    expect(await unpublished(), 'accepted events wait in the outbox').to.be.greaterThan(0);
    pay.open();
    await eventually(
      async () => (await callbacksOf(atCheckout)).length >= 3,
      30_000,
      'providers calling back',
    );
    // Longer than the consumer session timeout: the groups must rebalance when the broker is back.
    await sleep(Math.max(2_000, cutAt + BROKER_OUTAGE_MS - Date.now()));
    await kafkaProxy.restore();
    const restoredAt = Date.now();
    const during = (await callbacksOf(atCheckout)).filter(
      (e) => Date.parse(e.at) >= cutAt && Date.parse(e.at) <= restoredAt,
    );
    expect(during.length, 'callbacks answered during the outage').to.be.greaterThan(0);
    expect(
      during.filter((e) => e.httpStatus !== 503),
      'every callback during the broker outage was answered 503',
    ).to.deep.equal([]);
    notes.push(
      `broker outage  ${((restoredAt - cutAt) / 1000).toFixed(1)} s: ${duringCut.length} deposits accepted (201), ${during.length} callbacks answered 503`,
    );
    await eventually(
      async () => (await unpublished()) === 0,
      90_000,
      'the outbox drains after the broker is back',
    );
  });

  it('database down: deposits answer 503 fast, callbacks are still accepted, processing resumes', async () => {
    const pay = gate();
    const atCheckout = await placeAtCheckout(3, pay.opened);
    await pgProxy.refuse();
    const cutAt = Date.now();
    const duringCut = ['approved at once', 'paid at checkout', 'declined at once'].map((name) =>
      load.place(kind(name)),
    );
    journeys.push(...duringCut.map((p) => p.done));
    await eventually(() => duringCut.every((p) => p.order.answers.length > 0), 20_000, 'deposit answers');
    for (const { order } of duringCut) {
      const first = order.answers[0]!;
      expect(first.status, `deposit during the database outage: ${JSON.stringify(first)}`).to.equal(503);
      expect(first.ms, 'answered within the database timeout (plus scheduling slack)').to.be.below(
        DB_TIMEOUT_MS + 3_000,
      );
    }
    pay.open();
    await eventually(
      async () => (await callbacksOf(atCheckout)).filter((e) => Date.parse(e.at) >= cutAt).length >= 3,
      30_000,
      'providers calling back',
    );
    // Longer than the handlers' retry policy (~3 s) and the outbox relay's bucket lease (15 s).
    await sleep(Math.max(2_000, cutAt + DATABASE_OUTAGE_MS - Date.now()));
    await pgProxy.restore();
    const restoredAt = Date.now();
    const during = (await callbacksOf(atCheckout)).filter(
      (e) => Date.parse(e.at) >= cutAt && Date.parse(e.at) <= restoredAt,
    );
    expect(during.length).to.be.greaterThan(0);
    expect(
      during.filter((e) => !e.delivered),
      'callbacks during the database outage are accepted queue-first',
    ).to.deep.equal([]);
    notes.push(
      `database outage ${((restoredAt - cutAt) / 1000).toFixed(1)} s: ${duringCut.length} deposits answered 503 (slowest ${Math.max(...duringCut.map((p) => p.order.answers[0]!.ms))} ms), ${during.length} callbacks accepted`,
    );
    await Promise.all(
      atCheckout.map((o) =>
        eventually(
          async () => {
            const row = await cluster.database
              .knex('transactions')
              .where({ id: o.transactionId })
              .first('status');
            return ['APPROVED', 'DECLINED'].includes(row?.status);
          },
          90_000,
          `${o.transactionId} processed after the database is back`,
        ),
      ),
    );
  });

  it('merchant endpoint down past the retry schedule: exhaustion recorded, a resend delivers later', async () => {
    const knex = cluster.database.knex;
    // Only these two webhooks are to be exhausted: let everything before them finish first.
    await Promise.all(journeys);
    expect(await waitUntilSettled(cluster, { load, poison }, 90_000), 'settled before').to.equal(null);
    cluster.merchant.setMode('down');
    const placed = [load.place(kind('approved at once')), load.place(kind('declined at once'))];
    journeys.push(...placed.map((p) => p.done));
    await Promise.all(placed.map((p) => p.done));
    const deliveryOf = async (order: Order) =>
      knex('webhook_deliveries')
        .where({ transaction_id: order.transactionId })
        .first('id', 'state', 'attempts');
    await eventually(
      async () =>
        (await Promise.all(placed.map((p) => deliveryOf(p.order)))).every((d) => d?.state === 'exhausted'),
      60_000,
      'both webhooks exhausted',
    );
    const [viaApi, viaDispatcher] = await Promise.all(placed.map((p) => deliveryOf(p.order)));
    for (const [p, delivery] of [
      [placed[0]!, viaApi],
      [placed[1]!, viaDispatcher],
    ] as const) {
      const exhausted = await knex('transaction_timeline')
        .where({ transaction_id: p.order.transactionId, entry_type: 'MerchantWebhookRetryExhausted' })
        .count({ n: '*' })
        .first();
      expect(Number(exhausted?.n), 'the exhaustion is on the timeline').to.equal(1);
      expect(delivery!.attempts, 'every scheduled attempt was made (1 + 3 retries)').to.equal(4);
      expect(cluster.merchant.forId(delivery!.id).every((w) => w.answered === 503)).to.equal(true);
    }

    // Back, and answering every request: a manual resend is one attempt, not a retry schedule.
    cluster.merchant.setMode('healthy');
    const developer = await createBackofficeUser(knex, {
      email: `dev-${seed}@chaos.example`,
      kind: 'merchant',
      merchantId: cluster.merchantId,
      roles: ['merchant_developer'],
    });
    const resend = await fetch(
      `${cluster.gatewayUrl}/backoffice/api/v1/transactions/${placed[0]!.order.transactionId}/webhooks/${viaApi!.id}/resend`,
      { method: 'POST', headers: { authorization: `Bearer ${developer.token}` } },
    );
    expect(resend.status, await resend.clone().text()).to.equal(202);
    await requestResend(knex, { webhookId: viaDispatcher!.id, actor: 'chaos-suite' });
    for (const delivery of [viaApi!, viaDispatcher!]) {
      await eventually(
        async () =>
          (await knex('webhook_deliveries').where({ id: delivery.id }).first('state'))?.state === 'delivered',
        30_000,
        `resent webhook ${delivery.id} delivered`,
      );
      const seen = cluster.merchant.forId(delivery.id);
      expect(seen.at(-1)!.answered, 'the resend reached the merchant').to.equal(200);
      expect(new Set(seen.map((w) => w.body)).size, 'same body on the resend').to.equal(1);
    }
    notes.push(
      'merchant down  2 webhooks exhausted after 4 attempts, then resent (back-office API, requestResend) and delivered under the same webhook-id',
    );
    cluster.merchant.setMode('flaky');
  });

  it('afterwards every crash-suite invariant holds for the whole run', async () => {
    // Some background load after the outages, then the same verdict as the crash suite.
    for (let i = 0; i < 11; i++) journeys.push(load.place(ORDER_KINDS[i]!).done);
    await Promise.all(journeys);
    await verdict({ name: 'outages, Kafka + PostgreSQL', seed, cluster, load, kills: [], poison, notes });
  });
});
