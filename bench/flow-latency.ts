/**
 * End-to-end latency through the whole platform on PostgreSQL, on the embedded broker and on Kafka, at
 * fixed rates of deposits, in two layouts (BENCH_FLOW_LAYOUTS):
 *
 * - `one-process`: gateway, relay, processor, webhook dispatcher, provider simulator and merchant
 *   receiver in this process, as startTestPlatform (and `npm start`) runs them;
 * - `processes`: the production shape, one process per service (gateway, processor, relay, webhook
 *   dispatcher, as k8s/ deploys them; the chaos suites' cluster), the simulator and the merchant in
 *   this process. On a machine with more cores this is the layout that can use them.
 *
 * Measured:
 *
 * - deposit accepted -> redirect ready: from the merchant receiving 201 to the processor recording
 *   ProviderRequestSucceeded (session redirect_ready) on the timeline;
 * - callback received -> status changed: from the Provider Gateway receiving the simulator's callback
 *   (provider_callbacks.received_at, before its durable publish and 2xx) to TransactionStatusChanged
 *   to APPROVED on the timeline.
 *
 * The simulator completes each redirect payment by itself (SIMULATOR_AUTO_COMPLETE_MS), so no browser.
 * Same-run baseline: the outbox relay's own latency for the same deposits' DepositRequested rows
 * (outbox created_at -> published_at), i.e. one hop of the pipeline. Goals: p50 <= 50 ms, p99 <= 250 ms.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { loadConfig } from '../core/config/index.js';
import { startCluster } from '../test/chaos/support/cluster.js';
import { startTestPlatform, type TestPlatform } from '../test/support/platform.js';
import { runHttpLoad, type Completion, type LoadResult } from './support/http-load.js';
import { startCpuWindow, type CpuUsed } from './support/cpu.js';
import { createBenchSchema } from './support/postgres.js';
import { unlimitedRoutingRules } from './support/routing-rules.js';
import { envNumber, envRates, phaseSeconds } from './support/settings.js';
import { describeLatency, summarize, type LatencySummary } from './support/stats.js';
import { goal, newReport, saveReport, skipReport, type BenchReport } from './report.js';

const NAME = 'flow-latency';
const AMOUNT_MINOR = 2_500;

interface Target {
  name: string;
  /** The chaos cluster's backend for the same broker (processes layout). */
  backend: 'embedded-postgres' | 'kafka';
  env: Record<string, string>;
}

type Layout = 'one-process' | 'processes';

/** A running platform as the measurement sees it, whatever its layout. */
interface System {
  url: string;
  apiKey: string;
  webhookUrl: string;
  /** The bench's own connection to the platform's database. */
  knex: Knex;
  /** Whether `knex` carries the platform's own statements (one-process layout only). */
  seesPlatformStatements: boolean;
  /** The service processes to account CPU to (processes layout). */
  services(): Array<{ name: string; pid: number | undefined }>;
  stop(): Promise<void>;
}

interface Settings {
  /** Deposits per second of each measured run (BENCH_FLOW_RATES). */
  rates: number[];
  layouts: Layout[];
  phaseSeconds: number;
  autoCompleteMs: number;
  settleSeconds: number;
}

export async function runFlowLatency(): Promise<void> {
  const baseUrl = process.env.TEST_DATABASE_URL;
  if (!baseUrl) return skipReport(NAME, 'TEST_DATABASE_URL is not set (source scripts/services/env.sh)');
  const settings: Settings = {
    rates: envRates('BENCH_FLOW_RATES', [200, 30]),
    layouts: layouts(process.env.BENCH_FLOW_LAYOUTS ?? 'one-process,processes'),
    phaseSeconds: phaseSeconds(),
    autoCompleteMs: envNumber('BENCH_FLOW_AUTO_COMPLETE_MS', 500),
    settleSeconds: envNumber('BENCH_FLOW_SETTLE_SECONDS', 60),
  };
  const report = newReport(NAME, 'Payment flow latency through the whole platform', { ...settings });
  const notes: string[] = [];
  const targets: Target[] = [
    { name: 'embedded broker (PostgreSQL)', backend: 'embedded-postgres', env: { BROKER: 'embedded' } },
  ];
  const brokers = process.env.TEST_KAFKA_BROKERS;
  if (!brokers) notes.push('Kafka skipped: TEST_KAFKA_BROKERS is not set.');
  else {
    // The platform's topic names are fixed: a namespace keeps this run off any other platform's topics.
    const namespace = `bench-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
    const kafkaEnv = { BROKER: 'kafka', KAFKA_BROKERS: brokers, BROKER_NAMESPACE: namespace };
    const supportsNamespace = (loadConfig(kafkaEnv).broker as { namespace?: string }).namespace === namespace;
    if (supportsNamespace) targets.push({ name: 'Kafka (PostgreSQL)', backend: 'kafka', env: kafkaEnv });
    else
      notes.push(
        'Kafka skipped: this build has no BROKER_NAMESPACE, needed to keep the run off shared topics.',
      );
  }
  const routing = await unlimitedRoutingRules();
  try {
    for (const layout of settings.layouts)
      for (const target of targets)
        for (const rate of settings.rates) {
          process.stderr.write(`${NAME}: ${target.name}, ${layout}, at ${rate}/s...\n`);
          await measure(baseUrl, target, layout, rate, settings, routing.file, report);
        }
  } finally {
    await routing.remove();
  }
  report.notes = [
    ...notes,
    "Latencies come from timestamps in one clock: the load generator's (201 received), the gateway's (callback received) and the handlers' (timeline occurred_at, taken just before their transaction commits).",
    "Baseline: the outbox relay's latency for the same deposits (DepositRequested row committed -> published), one hop of the pipeline; deposit -> redirect ready is two such hops plus the processor's transactions and the provider call.",
  ];
  await saveReport(report);
}

async function measure(
  baseUrl: string,
  target: Target,
  layout: Layout,
  rate: number,
  settings: Settings,
  rulesFile: string,
  report: BenchReport,
): Promise<void> {
  const env = {
    ROUTING_RULES_FILE: rulesFile,
    SIMULATOR_AUTO_COMPLETE_MS: String(settings.autoCompleteMs),
  };
  const system =
    layout === 'one-process'
      ? await startOneProcess(baseUrl, { ...target.env, ...env })
      : await startProcesses(target.backend, env, settings.autoCompleteMs);
  try {
    const prefix = `flow-${Date.now().toString(36)}`;
    const run = (phase: string, perSecond: number, durationMs: number) =>
      runHttpLoad({
        baseUrl: system.url,
        shape: { kind: 'rate', perSecond, durationMs },
        recordCompletions: true,
        factory: {
          module: new URL('./support/deposit-requests.ts', import.meta.url).href,
          exportName: 'createDepositRequests',
          options: {
            apiKey: system.apiKey,
            prefix: `${prefix}-${phase}`,
            amountMinor: AMOUNT_MINOR,
            webhookUrl: system.webhookUrl,
          },
        },
      });
    const { knex } = system;
    const warmup = await run('warmup', Math.max(5, rate / 10), 2_000);
    await settle(knex, `${prefix}-warmup-`, warmup.ok, 30_000);
    let statements = 0;
    const countStatement = () => void statements++;
    knex.on('query', countStatement);
    const cpuWindow = startCpuWindow(system.services());
    const load = await run('m', rate, settings.phaseSeconds * 1000);
    const settled = await settle(knex, `${prefix}-m-`, load.ok, settings.settleSeconds * 1000);
    const cpu = cpuWindow.stop();
    knex.removeListener('query', countStatement);
    // What one payment costs the database, end to end (the settle polls are a few dozen of these).
    const statementsPerPayment = system.seesPlatformStatements
      ? Math.round(statements / Math.max(1, settled.approved))
      : null;
    const flows = await readFlows(knex, `${prefix}-m-`, load.completions ?? []);
    const name = layout === 'one-process' ? target.name : `${target.name}, services in processes`;
    addRows(report, `${name}, ${rate}/s`, rate, load, settled, flows, statementsPerPayment, cpu);
  } finally {
    await system.stop();
  }
}

/** The whole platform in this process, on a fresh schema of the bench database. */
async function startOneProcess(baseUrl: string, env: Record<string, string>): Promise<System> {
  const db = await createBenchSchema(baseUrl, 'flow');
  let platform: TestPlatform;
  try {
    platform = await startTestPlatform({ ...env, DATABASE_URL: db.url });
  } catch (error) {
    await db.drop();
    throw error;
  }
  return {
    url: platform.url,
    apiKey: platform.merchant.apiKey,
    webhookUrl: platform.receiver.url(),
    knex: platform.platform.database.knex,
    seesPlatformStatements: true,
    services: () => [],
    stop: async () => {
      await platform.stop();
      await db.drop();
    },
  };
}

/** One process per service (the chaos suites' cluster) on a run-isolated backend; nothing flaky. */
async function startProcesses(
  backend: Target['backend'],
  env: Record<string, string>,
  autoCompleteMs: number,
): Promise<System> {
  const cluster = await startCluster({
    backend,
    env: { ...env, LOG_LEVEL: 'warn' },
    simulator: { autoCompleteAfterMs: autoCompleteMs },
    merchant: { failRate: 0, dropRate: 0 },
  });
  return {
    url: cluster.gatewayUrl,
    apiKey: cluster.apiKey,
    webhookUrl: cluster.merchant.url(),
    knex: cluster.database.knex,
    seesPlatformStatements: false,
    services: () => cluster.services.map((service) => ({ name: service.name, pid: service.pid })),
    stop: () => cluster.close(false),
  };
}

function layouts(raw: string): Layout[] {
  const names = raw.split(',').map((name) => name.trim());
  for (const name of names)
    if (name !== 'one-process' && name !== 'processes')
      throw new Error(`BENCH_FLOW_LAYOUTS: unknown layout ${name} (one-process, processes)`);
  return names as Layout[];
}

/** Waits until `expected` transactions of the run are APPROVED; returns how many were, and how long it took. */
async function settle(
  knex: Knex,
  prefix: string,
  expected: number,
  timeoutMs: number,
): Promise<{ approved: number; waitedMs: number }> {
  const started = Date.now();
  let approved = 0;
  while (Date.now() - started < timeoutMs) {
    const row = await knex('transactions')
      .where('merchant_transaction_id', 'like', `${prefix}%`)
      .andWhere({ status: 'APPROVED' })
      .count<{ count: string }[]>('* as count');
    approved = Number(row[0]!.count);
    if (approved >= expected) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { approved, waitedMs: Date.now() - started };
}

interface Flows {
  toRedirect: number[];
  callbackToStatus: number[];
  relay: number[];
  /** Callbacks that arrived before the attempt was recorded (parked, then applied). */
  parked: number;
}

async function readFlows(knex: Knex, prefix: string, completions: readonly Completion[]): Promise<Flows> {
  const acceptedAt = new Map(completions.filter((c) => c.status === 201).map((c) => [c.index, c.atMs]));
  const rows = (await knex.raw(
    `select t.merchant_transaction_id as mtid,
        (select extract(epoch from min(tl.occurred_at)) * 1000 from transaction_timeline tl
          where tl.transaction_id = t.id and tl.entry_type = 'ProviderRequestSucceeded') as redirect_ms,
        (select extract(epoch from min(pc.received_at)) * 1000 from provider_callbacks pc
          where pc.transaction_id = t.id and pc.state = 'processed') as callback_ms,
        (select extract(epoch from min(tl.occurred_at)) * 1000 from transaction_timeline tl
          where tl.transaction_id = t.id and tl.entry_type = 'TransactionStatusChanged'
            and tl.internal->>'toStatus' = 'APPROVED') as approved_ms,
        (select extract(epoch from (o.published_at - o.created_at)) * 1000 from outbox o
          where o.key = t.id and o.event_type = 'DepositRequested' limit 1) as relay_ms
     from transactions t where t.merchant_transaction_id like ?`,
    [`${prefix}%`],
  )) as { rows: Array<Record<string, string | null>> };
  const flows: Flows = { toRedirect: [], callbackToStatus: [], relay: [], parked: 0 };
  for (const row of rows.rows) {
    const index = Number(String(row.mtid).slice(prefix.length));
    const accepted = acceptedAt.get(index);
    const redirect = row.redirect_ms === null ? null : Number(row.redirect_ms);
    const callback = row.callback_ms === null ? null : Number(row.callback_ms);
    const approved = row.approved_ms === null ? null : Number(row.approved_ms);
    if (accepted !== undefined && redirect !== null) flows.toRedirect.push(Math.max(0, redirect - accepted));
    if (callback !== null && approved !== null) flows.callbackToStatus.push(approved - callback);
    if (callback !== null && redirect !== null && callback < redirect) flows.parked++;
    if (row.relay_ms !== null) flows.relay.push(Number(row.relay_ms));
  }
  return flows;
}

function addRows(
  report: BenchReport,
  target: string,
  rate: number,
  load: LoadResult,
  settled: { approved: number; waitedMs: number },
  flows: Flows,
  statementsPerPayment: number | null,
  cpu: CpuUsed,
): void {
  const toRedirect = summarize(flows.toRedirect);
  const toStatus = summarize(flows.callbackToStatus);
  const relay = summarize(flows.relay);
  const completeness = `${settled.approved}/${load.ok} accepted deposits approved (${Math.round(load.okPerSecond)} deposits/s achieved; answers ${JSON.stringify(load.statuses)}); ${statementsPerPayment === null ? '' : `${statementsPerPayment} SQL statements per payment (background polling included); `}${describeCpu(cpu, settled.approved)}`;
  const row = (metric: string, summary: LatencySummary, which: 'p50' | 'p99', limit: number, extra = '') => ({
    target,
    metric: `${metric} ${which}`,
    value: summary[which],
    unit: 'ms',
    ratio: { value: summary[which] / relay[which], against: `relay ${which}` },
    goal: goal('value', summary[which], '<=', limit, 'ms'),
    note: `${describeLatency(summary)}${extra}`,
    detail: { ...summary },
  });
  report.rows.push(
    row('deposit accepted -> redirect ready', toRedirect, 'p50', 50, `; ${completeness}`),
    row('deposit accepted -> redirect ready', toRedirect, 'p99', 250),
    row(
      'callback received -> status changed',
      toStatus,
      'p50',
      50,
      flows.parked ? `; ${flows.parked} callbacks came before the redirect was recorded (parked)` : '',
    ),
    row('callback received -> status changed', toStatus, 'p99', 250),
    {
      target,
      metric: 'baseline: outbox relay, DepositRequested committed -> published, p50',
      value: relay.p50,
      unit: 'ms',
      note: describeLatency(relay),
      detail: {
        ...relay,
        offeredPerSecond: rate,
        statementsPerPayment,
        cpu,
        load: { ...load, completions: undefined },
        settled,
      },
    },
  );
}

/**
 * CPU per payment over the measured window (load and settle), and the rate this machine's cores could
 * complete at most at that cost (all cores busy, whatever the latency): when it is below the offered
 * rate, the rate is beyond this machine, not a matter of latency.
 */
function describeCpu(cpu: CpuUsed, payments: number): string {
  if (payments === 0) return 'no payment completed';
  const perPayment = (ms: number) => (ms / payments).toFixed(1);
  const services = Object.entries(cpu.children);
  const inBench =
    services.length > 0
      ? `${perPayment(cpu.processMs)} ms in the bench process (simulator, merchant, load), ${services.map(([name, ms]) => `${name} ${perPayment(ms)}`).join(', ')} ms in the services`
      : `${perPayment(cpu.processMs)} ms in the bench process: platform, simulator, receiver, load`;
  if (cpu.machineMs === null) return `CPU per payment: ${inBench}`;
  const ceiling = Math.round((cpu.cores * 1000 * payments) / cpu.machineMs);
  return `CPU per payment ${perPayment(cpu.machineMs)} ms machine-wide (${inBench}), so ${cpu.cores} cores complete at most ~${ceiling} payments/s`;
}
