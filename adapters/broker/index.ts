import type { BrokerConfig } from '../../core/config/index.js';
import type { Logger } from '../../core/logger.js';
import type { Transport } from '../../core/broker/index.js';
import { namespacedTransport } from '../../core/broker/namespaced-transport.js';
import type { Database } from '../db/index.js';
import { createEmbeddedTransport } from './embedded/index.js';
import { createKafkaTransport } from './kafka/index.js';
import { createPubSubTransport } from './pubsub/index.js';

/**
 * Builds the Transport the configuration names. The embedded log lives in the platform's own database.
 * With `BROKER_NAMESPACE`, every topic and group name is prefixed (see namespaced-transport.ts).
 */
export function createTransport(
  config: BrokerConfig,
  deps: { database: Database; logger: Logger },
): Transport {
  const transport = createPlainTransport(config, deps);
  return config.namespace ? namespacedTransport(transport, config.namespace) : transport;
}

function createPlainTransport(config: BrokerConfig, deps: { database: Database; logger: Logger }): Transport {
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
