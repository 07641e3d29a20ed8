/**
 * Outbox relay throughput per broker, beside the same broker's raw publish throughput for the same
 * events, measured in the same run (target: relay >= 50% of raw publish).
 */
import { createEmbeddedTransport } from '../adapters/broker/embedded/index.js';
import { createKafkaTransport } from '../adapters/broker/kafka/index.js';
import { createPubSubTransport } from '../adapters/broker/pubsub/index.js';
import { openDatabase, type Database } from '../adapters/db/index.js';
import { EventBus, type Transport } from '../core/broker/index.js';
import { migrate } from '../core/db/index.js';
import { silentLogger } from '../core/logger.js';
import { enqueueEvents, outboxBacklog, OutboxRelay } from '../core/outbox/index.js';
import { encodeEvent } from '../schemas/index.js';
import { sampleEvent } from '../test/support/events.js';
import { newReport, saveReport, type BenchReport } from './report.js';

const EVENTS = Number(process.env.BENCH_MESSAGES ?? 5_000);
const BATCH = 100;

function events(prefix: string) {
  return Array.from({ length: EVENTS }, (_, i) =>
    sampleEvent('TransactionStatusChanged', `${prefix}-${i % 200}`, Math.floor(i / 200) + 1),
  );
}

async function measure(
  name: string,
  database: Database,
  transport: () => Transport,
  report: BenchReport,
): Promise<void> {
  const bus = new EventBus({ transport: transport(), logger: silentLogger });
  await bus.start();
  const rawTopic = `bench-raw-${Date.now().toString(36)}`;
  const relayTopic = `bench-relay-${Date.now().toString(36)}`;
  await bus.ensureTopics([rawTopic, relayTopic]);

  const raw = events('raw').map((e) => ({
    key: e.envelope.transactionId,
    value: encodeEvent(e),
    headers: { 'event-type': e.envelope.type },
  }));
  let started = performance.now();
  for (let i = 0; i < raw.length; i += BATCH) await bus.publish(rawTopic, raw.slice(i, i + BATCH));
  const rawRate = EVENTS / ((performance.now() - started) / 1000);

  // The relay is started (LISTEN, leases) before the events exist, and the clock starts when the one
  // transaction that enqueues them all commits: this measures relaying, not start-up or the writers.
  // Progress comes from the relay's own callback, so no polling query competes with it.
  let published = 0;
  let allPublished!: () => void;
  const done = new Promise<void>((resolve) => (allPublished = resolve));
  const relay = new OutboxRelay({
    knex: database.knex,
    listen: (c, f) => database.listen(c, f),
    broker: bus,
    logger: silentLogger,
    onPublished: (count) => {
      published += count;
      if (published >= EVENTS) allPublished();
    },
  });
  await relay.start();
  const pending = events('relay');
  await database.knex.transaction(async (trx) => {
    for (let i = 0; i < pending.length; i += BATCH)
      await enqueueEvents(trx, pending.slice(i, i + BATCH), { topic: relayTopic });
  });
  started = performance.now();
  await done;
  const relayRate = EVENTS / ((performance.now() - started) / 1000);
  if ((await outboxBacklog(database.knex)).pending > 0)
    throw new Error('relay reported more than it published');
  await relay.stop();
  await bus.stop();
  report.rows.push({
    target: name,
    metric: 'raw publish (encoded events, batches of 100)',
    value: rawRate,
    unit: 'events/s',
  });
  report.rows.push({
    target: name,
    metric: 'outbox relay (read, publish, mark)',
    value: relayRate,
    unit: 'events/s',
    ratio: { value: relayRate / rawRate, against: 'raw publish, same run (target >= 0.5)' },
  });
}

export async function runOutboxRelay(): Promise<void> {
  const report = newReport('outbox-relay', 'Outbox relay throughput vs raw publish', {
    events: EVENTS,
    batch: BATCH,
    keys: 200,
  });
  const pglite = await openDatabase({ driver: 'pglite', dataDir: 'memory://' });
  await migrate(pglite.knex);
  await measure(
    'embedded (PGlite)',
    pglite,
    () => createEmbeddedTransport({ database: pglite, partitions: 16, logger: silentLogger }),
    report,
  );
  await pglite.close();
  if (process.env.TEST_DATABASE_URL) {
    const schema = `bench_${Date.now().toString(36)}`;
    const postgres = await openDatabase(
      { driver: 'postgres', url: process.env.TEST_DATABASE_URL, poolMax: 10 },
      { schema },
    );
    await migrate(postgres.knex);
    await measure(
      'embedded (PostgreSQL)',
      postgres,
      () => createEmbeddedTransport({ database: postgres, partitions: 16, logger: silentLogger }),
      report,
    );
    if (process.env.TEST_KAFKA_BROKERS) {
      const brokers = process.env.TEST_KAFKA_BROKERS.split(',');
      await measure(
        'Kafka (outbox on PostgreSQL)',
        postgres,
        () => createKafkaTransport({ brokers, clientId: 'bench', partitions: 8, logger: silentLogger }),
        report,
      );
    }
    if (process.env.TEST_PUBSUB_EMULATOR_HOST) {
      const emulatorHost = process.env.TEST_PUBSUB_EMULATOR_HOST;
      await measure(
        'Pub/Sub emulator (outbox on PostgreSQL)',
        postgres,
        () => createPubSubTransport({ projectId: 'bench', emulatorHost, logger: silentLogger }),
        report,
      );
    }
    await postgres.knex.raw('drop schema if exists ?? cascade', [schema]);
    await postgres.close();
  }
  await saveReport(report);
}
