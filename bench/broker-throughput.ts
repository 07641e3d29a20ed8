/**
 * Publish and consume throughput of each reachable broker through the EventBus, with a same-run
 * baseline: for the embedded log, the database's own throughput for inserting the same rows.
 */
import { createEmbeddedTransport } from '../adapters/broker/embedded/index.js';
import { createKafkaTransport } from '../adapters/broker/kafka/index.js';
import { createPubSubTransport } from '../adapters/broker/pubsub/index.js';
import { openDatabase, type Database } from '../adapters/db/index.js';
import { EventBus, type Transport } from '../core/broker/index.js';
import { migrate } from '../core/db/index.js';
import { silentLogger } from '../core/logger.js';
import { newReport, saveReport, type BenchReport } from './report.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 5_000);
const KEYS = 100;
const BATCH = 100;
const PAYLOAD = Buffer.alloc(256, 'x');

interface Target {
  name: string;
  transport: () => Promise<Transport>;
  /** Raw database throughput for the same rows, when the broker lives in a database. */
  baseline?: () => Promise<number>;
  cleanup?: () => Promise<void>;
}

function batches(): Array<Array<{ key: string; value: Buffer; headers: Record<string, string> }>> {
  const out = [];
  for (let start = 0; start < MESSAGES; start += BATCH) {
    const batch = [];
    for (let i = start; i < Math.min(MESSAGES, start + BATCH); i++) {
      batch.push({ key: `tx-${i % KEYS}`, value: PAYLOAD, headers: { 'event-type': 'Bench' } });
    }
    out.push(batch);
  }
  return out;
}

async function rawInsertRate(database: Database): Promise<number> {
  const knex = database.knex;
  await knex.schema.dropTableIfExists('bench_raw_insert');
  await knex.schema.createTable('bench_raw_insert', (t) => {
    t.bigIncrements('id');
    t.text('key').notNullable();
    t.binary('value').notNullable();
    t.jsonb('headers').notNullable();
    t.timestamp('published_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  const started = performance.now();
  for (const batch of batches()) {
    await knex.transaction(async (trx) => {
      await trx('bench_raw_insert').insert(
        batch.map((m) => ({ key: m.key, value: m.value, headers: JSON.stringify(m.headers) })),
      );
    });
  }
  const rate = MESSAGES / ((performance.now() - started) / 1000);
  await knex.schema.dropTable('bench_raw_insert');
  return rate;
}

async function measure(target: Target, report: BenchReport): Promise<void> {
  const topic = `bench-${target.name.replace(/[^a-z0-9]/g, '-')}-${Date.now().toString(36)}`;
  const publisher = new EventBus({ transport: await target.transport(), logger: silentLogger });
  await publisher.start();
  await publisher.ensureSubscription(topic, 'bench');
  const started = performance.now();
  for (const batch of batches()) await publisher.publish(topic, batch);
  const publishRate = MESSAGES / ((performance.now() - started) / 1000);
  await publisher.stop();

  const consumer = new EventBus({ transport: await target.transport(), logger: silentLogger });
  await consumer.start();
  let received = 0;
  let first = 0;
  let last = 0;
  const done = new Promise<void>((resolve) => {
    void consumer.subscribe(
      { topic, group: 'bench', concurrency: 32, runDelayScheduler: false },
      async () => {
        if (received === 0) first = performance.now();
        received++;
        last = performance.now();
        if (received === MESSAGES) resolve();
      },
    );
  });
  await done;
  const consumeRate = MESSAGES / Math.max(0.001, (last - first) / 1000);
  await consumer.stop();

  const baseline = target.baseline ? await target.baseline() : undefined;
  report.rows.push({
    target: target.name,
    metric: 'publish (durable ack, batches of 100)',
    value: publishRate,
    unit: 'msg/s',
    ...(baseline
      ? {
          ratio: {
            value: publishRate / baseline,
            against: `raw INSERT of the same rows (${Math.round(baseline)} rows/s)`,
          },
        }
      : {}),
  });
  report.rows.push({
    target: target.name,
    metric: 'consume (first to last message, concurrency 32)',
    value: consumeRate,
    unit: 'msg/s',
    ratio: { value: consumeRate / publishRate, against: 'publish rate' },
  });
}

export async function runBrokerThroughput(): Promise<void> {
  const report = newReport('broker-throughput', 'Broker publish and consume throughput', {
    messages: MESSAGES,
    keys: KEYS,
    batch: BATCH,
    payloadBytes: PAYLOAD.length,
  });
  const targets: Target[] = [];
  const pglite = await openDatabase({ driver: 'pglite', dataDir: 'memory://' });
  await migrate(pglite.knex);
  targets.push({
    name: 'embedded (PGlite)',
    transport: async () =>
      createEmbeddedTransport({ database: pglite, partitions: 16, logger: silentLogger }),
    baseline: () => rawInsertRate(pglite),
  });
  let postgres: Database | undefined;
  if (process.env.TEST_DATABASE_URL) {
    postgres = await openDatabase(
      { driver: 'postgres', url: process.env.TEST_DATABASE_URL, poolMax: 10 },
      { schema: `bench_${Date.now().toString(36)}` },
    );
    await migrate(postgres.knex);
    const db = postgres;
    targets.push({
      name: 'embedded (PostgreSQL)',
      transport: async () => createEmbeddedTransport({ database: db, partitions: 16, logger: silentLogger }),
      baseline: () => rawInsertRate(db),
    });
  }
  if (process.env.TEST_KAFKA_BROKERS) {
    const brokers = process.env.TEST_KAFKA_BROKERS.split(',');
    targets.push({
      name: 'Kafka',
      transport: async () =>
        createKafkaTransport({ brokers, clientId: 'bench', partitions: 8, logger: silentLogger }),
    });
  }
  if (process.env.TEST_PUBSUB_EMULATOR_HOST) {
    const emulatorHost = process.env.TEST_PUBSUB_EMULATOR_HOST;
    targets.push({
      name: 'Pub/Sub emulator',
      transport: async () =>
        createPubSubTransport({ projectId: 'bench', emulatorHost, logger: silentLogger }),
    });
  }
  for (const target of targets) {
    process.stderr.write(`broker-throughput: ${target.name}...\n`);
    await measure(target, report);
  }
  await pglite.close();
  if (postgres) {
    await postgres.knex.raw('drop schema if exists ?? cascade', [postgres.knex.client.config.searchPath]);
    await postgres.close();
  }
  await saveReport(report);
}
