import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { openDatabase } from '../../adapters/db/index.js';

const root = path.resolve(import.meta.dirname, '../..');
/** The command `npm start` runs (npm itself re-raises SIGTERM, which would hide our exit code). */
const startCommand = (
  JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }
).scripts.start;

/** Runs the platform exactly as `npm start` does, on embedded defaults, in a scratch data dir. */
function startPlatform(
  dataDir: string,
  port: number,
  extraArgs: string[] = [],
): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn('sh', ['-c', `exec ${startCommand} "$@"`, 'start', ...extraArgs], {
    cwd: root,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      HTTP_PORT: String(port),
      LOG_LEVEL: 'warn',
      PROVIDER_STRIPESIM_WEBHOOK_SECRET: 'whsec_e2e',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('npm start (embedded defaults)', function () {
  this.timeout(120_000);
  let dataDir: string;
  const port = 18080 + Math.floor(Math.random() * 1000);

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'platform-e2e-'));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('boots with no servers, reports healthy and ready, and drains on SIGTERM with exit code 0', async () => {
    const { child, output } = startPlatform(dataDir, port);
    const exited = exitCode(child);
    await waitFor(() => output().includes('Payments platform is running'), 90_000, 'the start banner');
    expect(output()).to.contain(`http://127.0.0.1:${port}`);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).to.equal(200);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.deep.include({ status: 'ready' });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).to.contain('process_cpu_seconds_total');
    expect(metrics).to.match(/^outbox_backlog_events\{[^}]*\} 0$/m);
    expect(metrics).to.match(
      /^http_request_duration_seconds_count\{[^}]*route="\/readyz",method="GET",status="200"[^}]*\} 1$/m,
    );
    const forged = await fetch(`http://127.0.0.1:${port}/callbacks/stripe-sim`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' },
      body: '{"id":"evt_1","type":"payment_intent.succeeded"}',
    });
    expect(forged.status, 'the provider gateway refuses a forged callback').to.equal(401);
    child.kill('SIGTERM');
    expect(await exited).to.equal(0);
  });

  it('fails fast on bad configuration, keeps its data across restarts, and --reset wipes it', async () => {
    let output = '';
    const bad = spawn('sh', ['-c', `exec ${startCommand}`], {
      cwd: root,
      env: { ...process.env, DATA_DIR: dataDir, BROKER: 'kafka' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    bad.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    expect(await exitCode(bad)).to.equal(2);
    expect(output).to.contain('KAFKA_BROKERS must be set when BROKER=kafka');

    // Leave a marker in the embedded database the first run created, restart, and find it again.
    const pglite = { driver: 'pglite' as const, dataDir: path.join(dataDir, 'pglite') };
    let db = await openDatabase(pglite);
    await db.knex('broker_topics').insert({ name: 'e2e-marker', partitions: 1 });
    await db.close();

    const runOnce = async (args: string[]) => {
      const { child, output: out } = startPlatform(dataDir, port + 1, args);
      const exited = exitCode(child);
      await waitFor(() => out().includes('Payments platform is running'), 90_000, 'the start banner');
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
    };
    const markers = async () => {
      db = await openDatabase(pglite);
      const rows = await db.knex('broker_topics').where({ name: 'e2e-marker' });
      await db.close();
      return rows.length;
    };
    await runOnce([]);
    expect(await markers(), 'data survives a restart').to.equal(1);
    await runOnce(['--reset']);
    expect(await markers(), '--reset wipes the embedded data').to.equal(0);
  });
  it('runs the README demo against it: npm run demo drives a payment to approved with a verified webhook', async () => {
    const demoDir = await mkdtemp(path.join(tmpdir(), 'platform-demo-'));
    const demoPort = port + 10;
    const { child, output } = startPlatform(demoDir, demoPort);
    const exited = exitCode(child);
    try {
      await waitFor(() => output().includes('npm run demo'), 90_000, 'the try-it block');
      expect(output()).to.match(/authorization: Bearer psk_live_/i);
      const demoCommand = (
        JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: { demo: string } }
      ).scripts.demo;
      const demo = spawn('sh', ['-c', `exec ${demoCommand}`], {
        cwd: root,
        env: { ...process.env, DATA_DIR: demoDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let demoOutput = '';
      demo.stdout!.on('data', (chunk: Buffer) => (demoOutput += chunk.toString()));
      demo.stderr!.on('data', (chunk: Buffer) => (demoOutput += chunk.toString()));
      expect(await exitCode(demo), demoOutput).to.equal(0);
      expect(demoOutput).to.contain('merchant API says: approved');
      expect(demoOutput).to.match(/demo merchant got webhook msg_\w+: approved \(signature verified\)/);
      expect(demoOutput).to.contain('internal only');
      await waitFor(() => output().includes('[demo merchant] webhook'), 10_000, 'the printed webhook');
      expect(output()).to.contain('signature OK');
      child.kill('SIGTERM');
      expect(await exited, output()).to.equal(0);
    } finally {
      child.kill('SIGKILL');
      await rm(demoDir, { recursive: true, force: true });
    }
  });
});
