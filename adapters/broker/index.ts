import type { BrokerConfig } from '../../core/config/index.js';
import type { Logger } from '../../core/logger.js';
import type { Transport } from '../../core/broker/index.js';
import type { Database } from '../db/index.js';
import { createEmbeddedTransport } from './embedded/index.js';
import { createKafkaTransport } from './kafka/index.js';
import { createPubSubTransport } from './pubsub/index.js';

/** Builds the Transport the configuration names. The embedded log lives in the platform's own database. */
export function createTransport(
  config: BrokerConfig,
  deps: { database: Database; logger: Logger },
): Transport {
  const logger = deps.logger.child({ component: `broker-${config.kind}` });
  switch (config.kind) {
    case 'embedded':
      return createEmbeddedTransport({ database: deps.database, partitions: config.partitions, logger });
    case 'kafka':
      return createKafkaTransport({
        brokers: config.brokers,
        clientId: config.clientId,
        partitions: config.partitions,
        logger,
      });
    case 'pubsub':
      return createPubSubTransport({
        projectId: config.projectId,
        emulatorHost: config.emulatorHost,
        logger,
      });
  }
}
