/**
 * The brokers a pipeline suite runs on, each with the database it needs: the embedded log on PGlite and
 * on PostgreSQL, Kafka and the Pub/Sub emulator (both with PostgreSQL). A target whose service is not
 * configured is not `available` (the suite skips it, or fails under REQUIRE_REAL_BACKENDS=1).
 */
import { createEmbeddedTransport } from '../../adapters/broker/embedded/index.js';
import { createKafkaTransport } from '../../adapters/broker/kafka/index.js';
import { createPubSubTransport } from '../../adapters/broker/pubsub/index.js';
import type { Database } from '../../adapters/db/index.js';
import type { Transport } from '../../core/broker/index.js';
import { silentLogger } from '../../core/logger.js';
import { backendEnv } from './backends.js';

export interface BrokerTarget {
  name: string;
  driver: 'pglite' | 'postgres';
  available: () => boolean;
  transport: (database: Database) => Transport;
}

export function brokerTargets(options: {
  /** Kafka client id and Pub/Sub project of the suite. */
  clientId: () => string;
  partitions: number;
}): BrokerTarget[] {
  const { partitions } = options;
  const embedded = (database: Database) =>
    createEmbeddedTransport({ database, partitions, logger: silentLogger });
  return [
    { name: 'embedded log (PGlite)', driver: 'pglite', available: () => true, transport: embedded },
    { name: 'embedded log (PostgreSQL)', driver: 'postgres', available: () => true, transport: embedded },
    {
      name: 'Kafka',
      driver: 'postgres',
      available: () => !!backendEnv.kafkaBrokers,
      transport: () =>
        createKafkaTransport({
          brokers: backendEnv.kafkaBrokers!,
          clientId: options.clientId(),
          partitions,
          logger: silentLogger,
        }),
    },
    {
      name: 'Pub/Sub emulator',
      driver: 'postgres',
      available: () => !!backendEnv.pubsubEmulatorHost,
      transport: () =>
        createPubSubTransport({
          projectId: options.clientId(),
          emulatorHost: backendEnv.pubsubEmulatorHost!,
          logger: silentLogger,
        }),
    },
  ];
}
