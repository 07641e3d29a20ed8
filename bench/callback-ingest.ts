/**
 * Callback ingest: the real Provider Gateway routes taking signed stripe-sim callbacks over HTTP as fast
 * as 64 provider connections can send them; each answer 200 means the raw callback was durably
 * published. Baseline in the same run: the same envelope bytes published through the same EventBus by
 * 64 concurrent in-process publishers, one message per publish (what the gateway does per callback),
 * with no HTTP, body reading or signature check.
 *
 * Goal: >= 3,000 durable callbacks/s on Kafka. On a unique topic, so nothing consumes these messages.
 */
import { randomUUID } from 'node:crypto';
import Koa from 'koa';
import { createEmbeddedTransport } from '../adapters/broker/embedded/index.js';
import { createKafkaTransport } from '../adapters/broker/kafka/index.js';
import { openDatabase, type Database } from '../adapters/db/index.js';
import { EventBus, type Transport } from '../core/broker/index.js';
import { migrate } from '../core/db/index.js';
import { silentLogger } from '../core/logger.js';
import {
  createProviderRegistry,
  encodeProviderCallback,
  providerGatewayRoutes,
  type ProviderCallbackEnvelope,
} from '../gateway/provider/index.js';
import { providerCallbackMessageHeaders } from '../gateway/provider/envelope.js';
import { listen } from '../platform/http-server.js';
import { stripeSucceededEvent } from './support/callback-requests.js';
import { describeThreads, runHttpLoad } from './support/http-load.js';
import { createBenchSchema, type BenchSchema } from './support/postgres.js';
import { envNumber, phaseSeconds } from './support/settings.js';
import { describeLatency, summarize } from './support/stats.js';
import { goal, newReport, saveReport, skipReport, type BenchReport } from './report.js';

const NAME = 'callback-ingest';
const SECRET = 'whsec_bench_callback_ingest_secret';
const GOAL_PER_SECOND = 3_000;

interface Target {
  name: string;
  transport: () => Transport;
  primary: boolean;
}

export async function runCallbackIngest(): Promise<void> {
  const brokers = process.env.TEST_KAFKA_BROKERS?.split(',').filter(Boolean);
  if (!brokers?.length)
    return skipReport(NAME, 'TEST_KAFKA_BROKERS is not set (source scripts/services/env.sh)');
  const settings = { connections: envNumber('BENCH_CALLBACK_CONNECTIONS', 64), phaseSeconds: phaseSeconds() };
  const report = newReport(NAME, 'Callback ingest: Provider Gateway vs raw durable publish', settings);
  const targets: Target[] = [
    {
      name: 'Kafka',
      primary: true,
      transport: () =>
        createKafkaTransport({
          brokers,
          clientId: `bench-${randomUUID().slice(0, 8)}`,
          partitions: 8,
          logger: silentLogger,
        }),
    },
  ];
  let schema: BenchSchema | undefined;
  let database: Database | undefined;
  if (process.env.TEST_DATABASE_URL) {
    schema = await createBenchSchema(process.env.TEST_DATABASE_URL, 'callbacks');
    database = await openDatabase({ driver: 'postgres', url: schema.url, poolMax: 10 });
    await migrate(database.knex);
    const db = database;
    targets.push({
      name: 'embedded (PostgreSQL)',
      primary: false,
      transport: () => createEmbeddedTransport({ database: db, partitions: 16, logger: silentLogger }),
    });
  }
  try {
    for (const target of targets) {
      process.stderr.write(`${NAME}: ${target.name}...\n`);
      await measure(target, settings, report);
    }
  } finally {
    await database?.close();
    await schema?.drop();
  }
  report.notes = [
    'Both rows of a target publish one message per publish call with the same concurrency; the ratio is the cost of HTTP, body reading and the signature check on top of the durable publish.',
  ];
  await saveReport(report);
}

async function measure(
  target: Target,
  settings: { connections: number; phaseSeconds: number },
  report: BenchReport,
): Promise<void> {
  const bus = new EventBus({ transport: target.transport(), logger: silentLogger });
  await bus.start();
  const topic = `bench-callbacks-${Date.now().toString(36)}-${randomUUID().slice(0, 6)}`;
  await bus.ensureTopics([topic]);
  const app = new Koa();
  const routes = providerGatewayRoutes({
    broker: bus,
    secrets: { 'stripe-sim': [SECRET] },
    logger: silentLogger,
    topic,
    providers: createProviderRegistry(),
    maxInFlight: 10_000,
  });
  app.use(routes.routes()).use(routes.allowedMethods());
  const server = await listen(app, '127.0.0.1', 0);
  const prefix = randomUUID().slice(0, 8);
  const durationMs = settings.phaseSeconds * 1000;
  try {
    const load = (phase: string, ms: number) =>
      runHttpLoad({
        baseUrl: server.url,
        shape: { kind: 'max', connections: settings.connections, durationMs: ms },
        factory: {
          module: new URL('./support/callback-requests.ts', import.meta.url).href,
          exportName: 'createStripeCallbacks',
          options: { secret: SECRET, prefix: `${prefix}${phase}` },
        },
      });
    await load('w', 1_500);
    const http = await load('m', durationMs);
    const raw = await rawPublish(bus, topic, `${prefix}r`, settings.connections, durationMs);
    const batched = await batchedPublish(bus, topic, `${prefix}b`, settings.connections, durationMs);
    const ratio = http.okPerSecond / raw.perSecond;
    report.rows.push(
      {
        target: target.name,
        metric: `raw durable publish, the same messages in batches of ${settings.connections} (ceiling if concurrent publishes were coalesced)`,
        value: batched.perSecond,
        unit: 'msg/s',
        detail: batched,
      },
      {
        target: target.name,
        metric: `raw durable publish, 1 message per call, ${settings.connections} concurrent`,
        value: raw.perSecond,
        unit: 'msg/s',
        note: `${describeLatency(raw.latency)}; publisher thread ${Math.round(raw.threadBusy * 100)}% busy`,
        detail: raw,
      },
      {
        target: target.name,
        metric: `callbacks answered 200 (durable), ${settings.connections} HTTP connections`,
        value: http.okPerSecond,
        unit: 'callbacks/s',
        ratio: { value: ratio, against: 'raw durable publish, same run' },
        ...(target.primary ? { goal: goal('value', http.okPerSecond, '>=', GOAL_PER_SECOND, '/s') } : {}),
        note: `${describeLatency(http.latency)}; ${describeThreads(http)}; answers ${JSON.stringify(http.statuses)}`,
        detail: { ...http },
      },
    );
  } finally {
    await server.close();
    await bus.stop(2_000);
  }
}

function envelopeMessage(prefix: string, i: number) {
  const body = stripeSucceededEvent(prefix, i);
  const envelope: ProviderCallbackEnvelope = {
    callbackId: `cb_${randomUUID()}`,
    provider: 'stripe-sim',
    reference: `pi_${prefix}_${i}`,
    receivedAt: new Date().toISOString(),
    headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': 't=0,v1=00' },
    bodyBase64: body.toString('base64'),
  };
  return {
    key: envelope.reference!,
    value: encodeProviderCallback(envelope),
    headers: providerCallbackMessageHeaders(envelope),
  };
}

/** One publisher sending the same messages `batch` at a time. */
async function batchedPublish(
  bus: EventBus,
  topic: string,
  prefix: string,
  batch: number,
  durationMs: number,
): Promise<{ perSecond: number; published: number }> {
  let published = 0;
  const started = performance.now();
  while (performance.now() - started < durationMs) {
    await bus.publish(
      topic,
      Array.from({ length: batch }, (_, k) => envelopeMessage(prefix, published + k)),
    );
    published += batch;
  }
  return { perSecond: (published / (performance.now() - started)) * 1000, published };
}

/** `concurrency` publishers, each publishing one envelope at a time (the gateway's per-callback publish). */
async function rawPublish(
  bus: EventBus,
  topic: string,
  prefix: string,
  concurrency: number,
  durationMs: number,
): Promise<{
  perSecond: number;
  published: number;
  threadBusy: number;
  latency: ReturnType<typeof summarize>;
}> {
  const latencies: number[] = [];
  let index = 0;
  const loop = performance.eventLoopUtilization();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() - started < durationMs) {
        const message = envelopeMessage(prefix, index++);
        const sent = performance.now();
        await bus.publish(topic, [message]);
        latencies.push(performance.now() - sent);
      }
    }),
  );
  const elapsed = performance.now() - started;
  return {
    perSecond: (latencies.length / elapsed) * 1000,
    published: latencies.length,
    threadBusy: performance.eventLoopUtilization(loop).utilization,
    latency: summarize(latencies),
  };
}
