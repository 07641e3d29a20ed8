/** `npm run bench`: runs every benchmark against the backends this machine reaches (see scripts/services/env.sh). */
import { runBrokerThroughput } from './broker-throughput.js';
import { runOutboxRelay } from './outbox-relay.js';

const benchmarks: Record<string, () => Promise<void>> = {
  'broker-throughput': runBrokerThroughput,
  'outbox-relay': runOutboxRelay,
};

const only = process.argv.slice(2);
for (const [name, run] of Object.entries(benchmarks)) {
  if (only.length > 0 && !only.includes(name)) continue;
  await run();
}
process.exit(0);
