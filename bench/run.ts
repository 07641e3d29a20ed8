/**
 * `npm run bench [-- <name>...]`: runs every benchmark (or the named ones) against the backends this
 * machine reaches (see scripts/services/env.sh). A benchmark whose backend is missing says SKIPPED and
 * keeps its last results; one that fails is reported and the others still run (exit code 1 at the end).
 * Sizes come from BENCH_* environment variables (see docs/benchmarks.md).
 */
import { runBrokerThroughput } from './broker-throughput.js';
import { runCallbackIngest } from './callback-ingest.js';
import { runDepositAcceptance } from './deposit-acceptance.js';
import { runFlowLatency } from './flow-latency.js';
import { runOutboxRelay } from './outbox-relay.js';
import { runWebhookDelivery } from './webhook-delivery.js';

const benchmarks: Record<string, () => Promise<void>> = {
  'broker-throughput': runBrokerThroughput,
  'outbox-relay': runOutboxRelay,
  'deposit-acceptance': runDepositAcceptance,
  'callback-ingest': runCallbackIngest,
  'flow-latency': runFlowLatency,
  'webhook-delivery': runWebhookDelivery,
};

const only = process.argv.slice(2);
const unknown = only.filter((name) => !(name in benchmarks));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(benchmarks).join(', ')}\n`,
  );
  process.exit(2);
}
let failed = false;
for (const [name, run] of Object.entries(benchmarks)) {
  if (only.length > 0 && !only.includes(name)) continue;
  try {
    await run();
  } catch (error) {
    failed = true;
    process.stderr.write(`${name}: FAILED ${(error as Error).stack ?? String(error)}\n`);
  }
}
process.exit(failed ? 1 : 0);
