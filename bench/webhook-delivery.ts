/**
 * Webhook delivery: the real dispatcher (startWebhookDispatcher over the EventBus, fed by the outbox
 * relay) delivering to local merchant endpoints, on PostgreSQL with the embedded broker. The dispatcher
 * has this thread to itself; status changes and the relay run in one worker thread (its own database
 * pool and broker client), the merchant endpoints in another.
 *
 * 1. Throughput: a backlog of status-change webhooks (already relayed to the broker) is delivered as
 *    fast as the dispatcher goes (deliveries/s, goal >= 1,000), beside the dispatcher's own HTTP step
 *    alone (sign, URL check, POST via sendAttempt) at the same concurrency with the same bodies.
 * 2. Isolation: webhooks requested at a fixed rate, latency from request (the event's occurredAt) to
 *    the endpoint receiving it; once with every endpoint healthy, once with 20% of the endpoints never
 *    answering (the dispatcher's timeout ends those attempts). Goal: healthy-endpoint p99 with the
 *    hanging ones <= 1.25 x healthy-endpoint p99 without them.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { createEmbeddedTransport } from '../adapters/broker/embedded/index.js';
import { openDatabase } from '../adapters/db/index.js';
import { EventBus } from '../core/broker/index.js';
import { migrate } from '../core/db/index.js';
import { silentLogger } from '../core/logger.js';
import { sendAttempt, type SenderOptions } from '../webhook-dispatcher/attempt-sender.js';
import { DEFAULT_KEEP_ALIVE_MS, MerchantConnections } from '../webhook-dispatcher/merchant-connections.js';
import {
  newWebhookSecret,
  startWebhookDispatcher,
  type RunningWebhookDispatcher,
  type WebhookDispatcherSettings,
} from '../webhook-dispatcher/index.js';
import { createBenchSchema } from './support/postgres.js';
import { envNumber, phaseSeconds, reachableRate } from './support/settings.js';
import { describeLatency, summarize } from './support/stats.js';
import { WebhookReceivers, type Receipt } from './support/webhook-receivers.js';
import { WebhookRequests, type Endpoint } from './support/webhook-requests.js';
import { goal, newReport, saveReport, skipReport } from './report.js';

const NAME = 'webhook-delivery';
const PARTITIONS = 16;

export async function runWebhookDelivery(): Promise<void> {
  const baseUrl = process.env.TEST_DATABASE_URL;
  if (!baseUrl) return skipReport(NAME, 'TEST_DATABASE_URL is not set (source scripts/services/env.sh)');
  const settings = {
    endpoints: envNumber('BENCH_WEBHOOK_ENDPOINTS', 20),
    hangingShare: 0.2,
    backlog: envNumber('BENCH_WEBHOOK_BACKLOG', 3_000),
    rate: envNumber('BENCH_WEBHOOK_RATE', 200),
    phaseSeconds: phaseSeconds(),
    timeoutMs: envNumber('BENCH_WEBHOOK_TIMEOUT_MS', 2_000),
    rounds: envNumber('BENCH_WEBHOOK_ROUNDS', 3),
    // 0 = a new connection per attempt (WEBHOOK_KEEP_ALIVE_MS=0), for comparison.
    keepAliveMs:
      process.env.BENCH_WEBHOOK_KEEP_ALIVE_MS === '0'
        ? 0
        : envNumber('BENCH_WEBHOOK_KEEP_ALIVE_MS', DEFAULT_KEEP_ALIVE_MS),
  };
  const dispatcherSettings: WebhookDispatcherSettings = {
    retryScheduleMs: [5_000, 30_000],
    timeoutMs: settings.timeoutMs,
    maxInFlightPerHost: 4,
    keepAliveMs: settings.keepAliveMs,
    concurrency: 32,
    allowHttp: true,
    allowAddresses: ['loopback'],
  };
  const report = newReport(NAME, 'Webhook delivery: throughput and isolation from hanging endpoints', {
    ...settings,
    concurrency: dispatcherSettings.concurrency,
    maxInFlightPerHost: dispatcherSettings.maxInFlightPerHost,
  });
  const schema = await createBenchSchema(baseUrl, 'webhooks');
  const database = await openDatabase({ driver: 'postgres', url: schema.url, poolMax: 10 });
  const receivers = await WebhookReceivers.start(settings.endpoints);
  const bus = new EventBus({
    transport: createEmbeddedTransport({ database, partitions: PARTITIONS, logger: silentLogger }),
    logger: silentLogger,
  });
  let requests: WebhookRequests | undefined;
  let dispatcher: RunningWebhookDispatcher | undefined;
  try {
    await migrate(database.knex);
    await bus.start();
    requests = await WebhookRequests.start(schema.url, PARTITIONS);
    const knex = database.knex;
    const endpoints = await addEndpoints(knex, receivers.urls);
    const start = () =>
      startWebhookDispatcher({ knex, broker: bus, logger: silentLogger, settings: dispatcherSettings });

    // 1. Throughput from a backlog (relayed first, so only the dispatcher is timed).
    process.stderr.write(`${NAME}: backlog of ${settings.backlog}...\n`);
    await requests.request(endpoints, settings.backlog, 200);
    await requests.drain();
    let statements = 0;
    const countStatement = () => void statements++;
    knex.on('query', countStatement);
    const loop = performance.eventLoopUtilization();
    const started = performance.now();
    dispatcher = await start();
    const backlogReceipts = (await receiveAtLeast(receivers, settings.backlog, 120_000)).filter(
      (r) => !r.hanging,
    );
    const dispatcherRate = (backlogReceipts.length / (performance.now() - started)) * 1000;
    knex.removeListener('query', countStatement);
    const threadBusy = Math.round(performance.eventLoopUtilization(loop).utilization * 100);
    const statementsPerDelivery = Math.round((statements / Math.max(1, backlogReceipts.length)) * 10) / 10;
    process.stderr.write(`${NAME}: HTTP step alone...\n`);
    const httpAlone = await sendAlone(knex, settings.backlog, dispatcherSettings);

    // 2. Latency at a fixed rate, all endpoints healthy vs 20% hanging, in alternating rounds.
    // Below capacity, or the latency phases only measure a growing queue (same rule as deposit-acceptance).
    const rate = reachableRate(settings.rate, dispatcherRate);
    const hangingEndpoints = endpoints
      .map((_, i) => i)
      .slice(0, Math.round(settings.endpoints * settings.hangingShare));
    const rounds: Array<{ healthy: PhaseResult; degraded: PhaseResult }> = [];
    for (let round = 1; round <= settings.rounds; round++) {
      process.stderr.write(`${NAME}: round ${round}/${settings.rounds}: ${rate}/s, all healthy...\n`);
      const healthyRound = await latencyPhase(knex, requests, receivers, endpoints, rate, settings, []);
      process.stderr.write(
        `${NAME}: round ${round}/${settings.rounds}: ${rate}/s, ${hangingEndpoints.length} endpoints hanging...\n`,
      );
      const degradedRound = await latencyPhase(
        knex,
        requests,
        receivers,
        endpoints,
        rate,
        settings,
        hangingEndpoints,
      );
      rounds.push({ healthy: healthyRound, degraded: degradedRound });
      // The next round starts quiet: the hanging endpoints answer again and every webhook is delivered.
      await receivers.hang([]);
      await quiesce(knex, receivers, 60_000);
    }
    const healthy = pool(rounds.map((r) => r.healthy));
    const degraded = pool(rounds.map((r) => r.degraded));
    const roundRatios = rounds.map((r) => round2(r.degraded.healthy.p99 / r.healthy.healthy.p99));

    const ratio = degraded.healthy.p99 / healthy.healthy.p99;
    report.rows.push(
      {
        target: 'HTTP step alone',
        metric: `sendAttempt (sign, URL check, POST), ${dispatcherSettings.concurrency} concurrent`,
        value: httpAlone.perSecond,
        unit: 'deliveries/s',
        detail: { ...httpAlone },
      },
      {
        target: 'dispatcher',
        metric: `backlog of ${settings.backlog} to ${settings.endpoints} healthy endpoints`,
        value: dispatcherRate,
        unit: 'deliveries/s',
        ratio: { value: dispatcherRate / httpAlone.perSecond, against: 'HTTP step alone' },
        goal: goal('value', dispatcherRate, '>=', 1_000, '/s'),
        note: `${statementsPerDelivery} SQL statements of the dispatcher per delivery (background polling included); dispatcher thread ${threadBusy}% busy`,
        detail: { delivered: backlogReceipts.length, statementsPerDelivery, threadBusy },
      },
      {
        target: 'dispatcher, all healthy',
        metric: `requested -> received p99, ${rate}/s`,
        value: healthy.healthy.p99,
        unit: 'ms',
        note:
          rate < settings.rate
            ? `${describeLatency(healthy.healthy)}; ${settings.rate}/s requested, above the measured throughput: ran at ${rate}/s (70%)`
            : describeLatency(healthy.healthy),
        detail: { healthy: healthy.healthy, missing: healthy.missing, rate },
      },
      {
        target: `dispatcher, ${hangingEndpoints.length} of ${settings.endpoints} endpoints hanging`,
        metric: `healthy endpoints: requested -> received p99, ${rate}/s`,
        value: degraded.healthy.p99,
        unit: 'ms',
        ratio: { value: ratio, against: 'all-healthy p99, same run' },
        goal: goal('ratio', ratio, '<=', 1.25),
        note: `${describeLatency(degraded.healthy)}; ${degraded.hangingAttempts} attempts reached hanging endpoints; ratio per round ${roundRatios.join(', ')}`,
        detail: {
          healthy: degraded.healthy,
          missing: degraded.missing,
          hangingAttempts: degraded.hangingAttempts,
          roundRatios,
        },
      },
    );
    report.notes = [
      `Hanging endpoints never answer; the dispatcher gives up after ${settings.timeoutMs} ms (WEBHOOK_TIMEOUT_MS; 10 s by default in production, shorter here to keep the run short) and retries later. At most ${dispatcherSettings.maxInFlightPerHost} attempts per endpoint are in flight; the rest wait in memory in the endpoint's queue (WEBHOOK_MAX_QUEUED_PER_HOST, on message slots of their own), so they neither cycle through the broker nor take the other endpoints' slots.`,
      `Isolation runs ${settings.rounds} rounds of ${settings.phaseSeconds} s all healthy then ${settings.phaseSeconds} s with hanging endpoints, each round starting once every webhook of the previous one is delivered; each row pools its condition's samples over the rounds. One ~50 ms pause (a major GC of the process, a PostgreSQL checkpoint) moves the p99 of a single ${settings.phaseSeconds} s phase by itself, so single phases are too few samples to compare.`,
      'Latency counts from the MerchantWebhookRequested event (written with the status change, like the processor does) to the endpoint having the body: outbox relay, broker, dispatcher and HTTP.',
    ];
  } finally {
    await receivers.hang([]);
    await dispatcher?.stop(1_000);
    await requests?.close();
    await bus.stop(1_000);
    await receivers.close();
    await database.close();
    await schema.drop();
  }
  await saveReport(report);
}

async function addEndpoints(knex: Knex, urls: string[]): Promise<Endpoint[]> {
  const endpoints: Endpoint[] = [];
  for (const url of urls) {
    const merchantId = `m_bench_${randomBytes(6).toString('hex')}`;
    await knex('merchants').insert({ id: merchantId, name: `Bench ${merchantId}`, default_webhook_url: url });
    await knex('merchant_webhook_secrets').insert({
      merchant_id: merchantId,
      secret: newWebhookSecret(randomBytes),
    });
    endpoints.push({ merchantId, url });
  }
  return endpoints;
}

/** Collects receipts until `count` of them came from answering endpoints (or the timeout); returns all. */
async function receiveAtLeast(
  receivers: WebhookReceivers,
  count: number,
  timeoutMs: number,
): Promise<Receipt[]> {
  const receipts: Receipt[] = [];
  let answered = 0;
  const deadline = Date.now() + timeoutMs;
  while (answered < count && Date.now() < deadline) {
    await sleep(20);
    const received = await receivers.collect();
    receipts.push(...received);
    answered += received.filter((r) => !r.hanging).length;
  }
  return receipts;
}

/** The dispatcher's HTTP step alone: the stored bodies sent again with sendAttempt, `concurrency` at a time. */
async function sendAlone(
  knex: Knex,
  count: number,
  settings: WebhookDispatcherSettings,
): Promise<{ perSecond: number; delivered: number; failed: number }> {
  const deliveries = await knex('webhook_deliveries').select('id', 'url', 'payload').limit(count);
  // Keep-alive as the dispatcher has it (WEBHOOK_KEEP_ALIVE_MS), so the two compare like for like.
  const connections = MerchantConnections.forSettings(settings);
  const sender: SenderOptions = {
    policy: { allowHttp: settings.allowHttp, allowAddresses: settings.allowAddresses },
    timeoutMs: settings.timeoutMs,
    maxResponseBytes: 4_096,
    ...(connections ? { connections } : {}),
  };
  const secrets = [newWebhookSecret(randomBytes)];
  let next = 0;
  let delivered = 0;
  let failed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: settings.concurrency }, async () => {
      for (let i = next++; i < deliveries.length; i = next++) {
        const d = deliveries[i]!;
        const result = await sendAttempt({ webhookId: d.id, url: d.url, body: d.payload, secrets }, sender);
        if (result.delivered) delivered++;
        else failed++;
      }
    }),
  );
  const perSecond = (delivered / (performance.now() - started)) * 1000;
  connections?.close();
  return { perSecond, delivered, failed };
}

/**
 * Requests webhooks at `rate` for `seconds` (one database transaction each, as status changes come),
 * with `hanging` endpoints not answering; returns the latency of the deliveries to healthy endpoints.
 */
async function latencyPhase(
  knex: Knex,
  requests: WebhookRequests,
  receivers: WebhookReceivers,
  endpoints: Endpoint[],
  rate: number,
  settings: { phaseSeconds: number; hangingShare: number },
  hanging: number[],
) {
  await receivers.hang(hanging);
  await receivers.collect();
  const healthySent = await requests.atRate({
    healthy: endpoints.filter((_, i) => !hanging.includes(i)),
    hanging: endpoints.filter((_, i) => hanging.includes(i)),
    share: settings.hangingShare,
    rate,
    seconds: settings.phaseSeconds,
  });
  const received = await receiveAtLeast(receivers, healthySent, 60_000);
  const answered = received.filter((r) => !r.hanging);
  const requestedAt = new Map(
    (
      await knex('webhook_deliveries')
        .whereIn(
          'id',
          answered.map((r) => r.webhookId),
        )
        .select('id', 'requested_at')
    ).map((row) => [row.id as string, new Date(row.requested_at as string).getTime()]),
  );
  const latencies: number[] = [];
  for (const receipt of answered) {
    const at = requestedAt.get(receipt.webhookId);
    if (at !== undefined) latencies.push(receipt.atMs - at);
  }
  return {
    latencies,
    healthy: summarize(latencies),
    missing: healthySent - answered.length,
    hangingAttempts: received.length - answered.length,
  };
}

type PhaseResult = Awaited<ReturnType<typeof latencyPhase>>;

/** One condition's phases as one sample set. */
function pool(phases: PhaseResult[]): Omit<PhaseResult, 'latencies'> {
  return {
    healthy: summarize(phases.flatMap((p) => p.latencies)),
    missing: phases.reduce((n, p) => n + p.missing, 0),
    hangingAttempts: phases.reduce((n, p) => n + p.hangingAttempts, 0),
  };
}

/** Waits until no webhook is pending (every one delivered, the hanging endpoints' ones by their retries). */
async function quiesce(knex: Knex, receivers: WebhookReceivers, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [row] = await knex('webhook_deliveries').where({ state: 'pending' }).count({ n: '*' });
    if (Number(row?.n) === 0) break;
    await receivers.collect();
    await sleep(200);
  }
  await receivers.collect();
}

const round2 = (v: number) => Math.round(v * 100) / 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
