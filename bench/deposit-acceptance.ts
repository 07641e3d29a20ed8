/**
 * Deposit acceptance: the real Merchant Gateway (the platform with SERVICES=gateway) on PostgreSQL,
 * `POST /api/v2/deposit` at a fixed offered rate and at its maximum, beside pgbench sending the very
 * same SQL (captured from one real deposit: API-key lookup, replay check, then one transaction with the
 * transaction row, the payment session, the sequence update, two outbox rows + NOTIFY, two timeline
 * rows) over the same number of connections, in the same run.
 *
 * Goals: at max, gateway deposits/s >= 0.6 x pgbench transactions/s; at the fixed rate, p99 <= 50 ms.
 */
import { describeThreads, runHttpLoad, type LoadResult, type LoadShape } from './support/http-load.js';
import { pgbenchScript, type CapturedStatement } from './support/pgbench-script.js';
import { findPgbench, runPgbench, type PgbenchResult } from './support/pgbench.js';
import { createBenchSchema } from './support/postgres.js';
import { envNumber, phaseSeconds, reachableRate } from './support/settings.js';
import { describeLatency } from './support/stats.js';
import { startTestPlatform, type TestPlatform } from '../test/support/platform.js';
import { goal, newReport, saveReport, skipReport, type BenchReport } from './report.js';

const NAME = 'deposit-acceptance';
const AMOUNT_MINOR = 2_500;

export async function runDepositAcceptance(): Promise<void> {
  const baseUrl = process.env.TEST_DATABASE_URL;
  if (!baseUrl) return skipReport(NAME, 'TEST_DATABASE_URL is not set (source scripts/services/env.sh)');
  const pgbench = await findPgbench();
  if (!pgbench) return skipReport(NAME, 'pgbench not found (Debian package postgresql, or set PGBENCH)');
  const settings = {
    offeredRate: envNumber('BENCH_DEPOSIT_RATE', 1_000),
    phaseSeconds: phaseSeconds(),
    httpConnectionsAtMax: envNumber('BENCH_DEPOSIT_CONNECTIONS', 32),
    databasePool: envNumber('BENCH_DEPOSIT_POOL', 10),
  };
  const report = newReport(NAME, 'Deposit acceptance: Merchant Gateway vs pgbench (same SQL)', settings);
  const db = await createBenchSchema(baseUrl, 'deposit');
  let platform: TestPlatform | undefined;
  try {
    platform = await startTestPlatform({
      DATABASE_URL: db.url,
      DATABASE_POOL_MAX: String(settings.databasePool),
      SERVICES: 'gateway',
    });
    const prefix = `dep-${Date.now().toString(36)}`;
    const factory = (phase: string) => ({
      module: new URL('./support/deposit-requests.ts', import.meta.url).href,
      exportName: 'createDepositRequests',
      options: { apiKey: platform!.merchant.apiKey, prefix: `${prefix}-${phase}`, amountMinor: AMOUNT_MINOR },
    });
    const load = (phase: string, shape: LoadShape) =>
      runHttpLoad({ baseUrl: platform!.url, shape, factory: factory(phase) });

    const script = await captureDepositScript(platform, `${prefix}-probe`);
    process.stderr.write(`${NAME}: warm-up...\n`);
    await load('warmup', { kind: 'rate', perSecond: 200, durationMs: 2_000 });
    await runPgbench({
      binary: pgbench,
      url: baseUrl,
      schema: db.schema,
      script,
      clients: settings.databasePool,
      threads: 2,
      durationSeconds: 1,
    });

    const durationMs = settings.phaseSeconds * 1000;
    const pgbenchRun = (rate?: number) =>
      runPgbench({
        binary: pgbench,
        url: baseUrl,
        schema: db.schema,
        script,
        clients: settings.databasePool,
        threads: 2,
        durationSeconds: settings.phaseSeconds,
        ...(rate ? { rate } : {}),
      });
    process.stderr.write(`${NAME}: gateway at max...\n`);
    const gatewayAtMax = await load('max', {
      kind: 'max',
      connections: settings.httpConnectionsAtMax,
      durationMs,
    });
    process.stderr.write(`${NAME}: pgbench at max...\n`);
    const pgbenchAtMax = await pgbenchRun();
    // The fixed rate is the requested one when the gateway can sustain it, else 70% of its measured max
    // (an open loop above capacity only measures how fast the queue grows).
    const rate = reachableRate(settings.offeredRate, gatewayAtMax.okPerSecond);
    process.stderr.write(`${NAME}: gateway at ${rate}/s...\n`);
    const gatewayAtRate = await load('rate', { kind: 'rate', perSecond: rate, durationMs });
    process.stderr.write(`${NAME}: pgbench at ${rate}/s...\n`);
    const pgbenchAtRate = await pgbenchRun(rate);
    addRows(report, { ...settings, rate }, { gatewayAtRate, pgbenchAtRate, gatewayAtMax, pgbenchAtMax });
  } finally {
    await platform?.stop();
    await db.drop();
  }
  await saveReport(report);
}

/**
 * Sends one deposit and records the SQL it caused, minus the once-a-minute `last_used_at` refresh of
 * the API key; the ids and unique keys become per-transaction values in the pgbench script.
 */
async function captureDepositScript(platform: TestPlatform, merchantTransactionId: string): Promise<string> {
  const knex = platform.platform.database.knex;
  const statements: CapturedStatement[] = [];
  const onQuery = (query: { sql: string; bindings?: unknown[] }) =>
    statements.push({ sql: query.sql, bindings: query.bindings ?? [] });
  knex.on('query', onQuery);
  let answer: { status: number; body: { transactionId: string } };
  try {
    answer = await platform.deposit({
      merchantTransactionId,
      amount: { value: AMOUNT_MINOR, currency: 'EUR' },
      paymentMethod: 'card',
      returnUrls: { success: 'https://shop.example/ok', failure: 'https://shop.example/failed' },
    });
  } finally {
    knex.removeListener('query', onQuery);
  }
  if (answer.status !== 201) throw new Error(`probe deposit answered ${answer.status}`);
  const session = await knex('payment_sessions')
    .where({ transaction_id: answer.body.transactionId })
    .first('id', 'token_hash');
  const perRequest = statements.filter((s) => !/^update "merchant_api_keys"/.test(s.sql));
  return pgbenchScript(perRequest, [
    { value: answer.body.transactionId, expression: `('tx_bench_' || :bench_seq::text)` },
    { value: merchantTransactionId, expression: `('bench-' || :bench_seq::text)` },
    { value: session.id as string, expression: `('ps_bench_' || :bench_seq::text)` },
    { value: session.token_hash as string, expression: `md5(:bench_seq::text)` },
  ]);
}

function addRows(
  report: BenchReport,
  settings: { offeredRate: number; rate: number; databasePool: number; httpConnectionsAtMax: number },
  runs: {
    gatewayAtRate: LoadResult;
    pgbenchAtRate: PgbenchResult;
    gatewayAtMax: LoadResult;
    pgbenchAtMax: PgbenchResult;
  },
): void {
  const { gatewayAtRate, pgbenchAtRate, gatewayAtMax, pgbenchAtMax } = runs;
  const { rate, offeredRate } = settings;
  const pool = settings.databasePool;
  if (rate < offeredRate) {
    report.rows.push({
      target: 'gateway, max',
      metric: `sustains the requested ${offeredRate}/s`,
      value: gatewayAtMax.okPerSecond,
      unit: 'deposits/s',
      goal: goal('value', gatewayAtMax.okPerSecond, '>=', offeredRate, '/s'),
      note: `not reachable in this run: the fixed-rate rows below ran at ${rate}/s (70% of the measured max)`,
    });
  }
  report.rows.push(
    {
      target: `gateway, offered ${rate}/s`,
      metric: 'p99 latency (from scheduled send, 201s only)',
      value: gatewayAtRate.latency.p99,
      unit: 'ms',
      ratio: {
        value: gatewayAtRate.latency.p99 / pgbenchAtRate.latency.p99,
        against: `pgbench p99 at ${rate}/s`,
      },
      goal: goal('value', gatewayAtRate.latency.p99, '<=', 50, 'ms'),
      note: `${Math.round(gatewayAtRate.okPerSecond)} deposits/s achieved; ${describeLatency(gatewayAtRate.latency)}; ${describeThreads(gatewayAtRate)}; answers ${JSON.stringify(gatewayAtRate.statuses)}`,
      detail: { ...gatewayAtRate, offeredPerSecond: rate },
    },
    {
      target: `pgbench, offered ${rate}/s`,
      metric: 'p99 latency (from scheduled start)',
      value: pgbenchAtRate.latency.p99,
      unit: 'ms',
      note: `${Math.round(pgbenchAtRate.tps)} tx/s achieved, ${pool} clients; ${describeLatency(pgbenchAtRate.latency)}`,
      detail: {
        tps: pgbenchAtRate.tps,
        latency: pgbenchAtRate.latency,
        transactions: pgbenchAtRate.transactions,
      },
    },
    {
      target: 'gateway, max',
      metric: `deposits/s (${settings.httpConnectionsAtMax} HTTP connections, pool ${pool})`,
      value: gatewayAtMax.okPerSecond,
      unit: 'deposits/s',
      ratio: { value: gatewayAtMax.okPerSecond / pgbenchAtMax.tps, against: `pgbench max (${pool} clients)` },
      goal: goal('ratio', gatewayAtMax.okPerSecond / pgbenchAtMax.tps, '>=', 0.6),
      note: `${describeLatency(gatewayAtMax.latency)}; ${describeThreads(gatewayAtMax)}; answers ${JSON.stringify(gatewayAtMax.statuses)}`,
      detail: { ...gatewayAtMax },
    },
    {
      target: 'pgbench, max',
      metric: `transactions/s (${pool} clients, same SQL)`,
      value: pgbenchAtMax.tps,
      unit: 'tx/s',
      note: describeLatency(pgbenchAtMax.latency),
      detail: {
        tps: pgbenchAtMax.tps,
        latency: pgbenchAtMax.latency,
        transactions: pgbenchAtMax.transactions,
      },
    },
  );
}
