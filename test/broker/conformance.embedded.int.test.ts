import { createEmbeddedTransport } from '../../adapters/broker/embedded/index.js';
import type { Database } from '../../adapters/db/index.js';
import { silentLogger } from '../../core/logger.js';
import { createTestDatabase } from '../support/database.js';
import { brokerConformance } from './conformance.js';

for (const driver of ['pglite', 'postgres'] as const) {
  describe(`broker conformance: embedded log on ${driver}`, function () {
    this.timeout(180_000);
    let database: Database;
    let release: () => Promise<void>;
    before(async function () {
      ({ database, release } = await createTestDatabase(driver, this));
    });
    after(async () => {
      await release?.();
    });
    brokerConformance(() => ({
      newTransport: async () =>
        createEmbeddedTransport({
          database,
          partitions: 8,
          logger: silentLogger,
          pollIntervalMs: 1_000,
          leaseMs: 3_000,
        }),
    }));
  });
}
