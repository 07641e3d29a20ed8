/**
 * The crash guarantee: a platform process killed (SIGKILL) while its provider request is open charges
 * nobody twice. The provider simulator runs here, in the test process, so it outlives the kill and
 * keeps its idempotency memory like a real PSP; the platform runs as `npm start` runs it (a child
 * process without the `simulator` service, pointed at ours and sharing its callback secrets). After
 * the restart on the same data, the redelivered ProviderRequestStarted re-drives the same attempt with
 * the same idempotency key, the provider replays its first answer, and the payment completes once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { openDatabase, type Database } from '../../adapters/db/index.js';
import { migrate } from '../../core/db/index.js';
import { createMerchant } from '../../core/merchants/index.js';
import { eventually } from '../support/eventually.js';
import {
  prepareBackend,
  requireTestBackend,
  type PreparedBackend,
  type TestBackend,
} from '../support/platform-backends.js';
import { freePort } from '../support/platform.js';
import { startTestSimulator, type SimControl } from '../support/simulator.js';
import { MerchantReceiver } from '../webhooks/merchant-receiver.js';
import type { RunningSimulator } from '../../provider-simulator/index.js';

const root = path.resolve(import.meta.dirname, '../..');
const HANG_MS = 20_000;

/** The platform process, started like `npm start` (node --import tsx bin/platform.ts). */
class PlatformProcess {
  private child: ChildProcess | undefined;
  private output = '';
  private exited: Promise<number | null> = Promise.resolve(null);

  constructor(private readonly env: Record<string, string>) {}

  async start(): Promise<void> {
    this.output = '';
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/platform.ts'], {
      cwd: root,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    let gone = false;
    void this.exited.then(() => (gone = true));
    await eventually(
      () => {
        if (gone) throw new Error(`the platform exited while starting:\n${this.output}`);
        return this.output.includes('Payments platform is running');
      },
      90_000,
      'the platform start banner',
    );
  }

  /** SIGKILL: no drain, no commit, nothing flushed. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<number | null> {
    this.child?.kill('SIGTERM');
    return this.exited;
  }

  get log(): string {
    return this.output;
  }
}

const targets: Array<{ name: string; backend: TestBackend }> = [
  { name: 'embedded broker on PGlite (data dir on disk)', backend: 'embedded-pglite' },
  { name: 'Kafka + PostgreSQL', backend: 'kafka' },
];

for (const { name, backend } of targets) {
  describe(`processor killed mid provider call: ${name}`, function () {
    this.timeout(240_000);
    let dataDir: string;
    let prepared: PreparedBackend;
    let simulator: RunningSimulator;
    let sim: SimControl;
    let receiver: MerchantReceiver;
    let platform: PlatformProcess;
    let baseUrl: string;
    let apiKey: string;

    /** PGlite belongs to one process: the test opens it only while the platform is down. */
    const withDatabase = async <T>(run: (database: Database) => Promise<T>): Promise<T> => {
      const database = await openDatabase(
        prepared.env.DATABASE_URL
          ? { driver: 'postgres', url: prepared.env.DATABASE_URL, poolMax: 2 }
          : { driver: 'pglite', dataDir: path.join(dataDir, 'pglite') },
      );
      try {
        return await run(database);
      } finally {
        await database.close();
      }
    };
    const api = async (method: string, route: string, body?: unknown) => {
      const response = await fetch(`${baseUrl}${route}`, {
        method,
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };

    before(async function () {
      requireTestBackend(this, backend);
      dataDir = await mkdtemp(path.join(tmpdir(), 'payments-crash-'));
      prepared = await prepareBackend(backend);
      let webhookSecret = '';
      await withDatabase(async (database) => {
        await migrate(database.knex);
        const merchant = await createMerchant(database.knex, { name: 'Crash Shop' });
        apiKey = merchant.apiKey;
        webhookSecret = merchant.webhookSecret;
      });
      receiver = await new MerchantReceiver(webhookSecret).start();
      const started = await startTestSimulator({ callbackRetryDelaysMs: [200, 1_000] });
      ({ sim: simulator, control: sim } = started);
      const port = await freePort();
      baseUrl = `http://127.0.0.1:${port}`;
      platform = new PlatformProcess({
        ...prepared.env,
        SERVICES: 'gateway,relay,processor,webhook-dispatcher',
        DATA_DIR: dataDir,
        HTTP_PORT: String(port),
        LOG_LEVEL: 'warn',
        DEMO: 'off',
        SIMULATOR_PUBLIC_URL: simulator.url,
        PROVIDER_STRIPESIM_WEBHOOK_SECRET: started.secrets['stripe-sim'].join(','),
        PROVIDER_ADYENSIM_HMAC_KEY: started.secrets['adyen-sim'].join(','),
        PROVIDER_TIMEOUT_MS: String(HANG_MS + 10_000),
        MERCHANT_API_ALLOW_HTTP_LOOPBACK: 'true',
        WEBHOOK_ALLOW_HTTP: 'true',
        WEBHOOK_ALLOWED_ADDRESS_CLASSES: 'loopback',
      });
    });

    after(async () => {
      await platform?.kill();
      await simulator?.close();
      await receiver?.close();
      await prepared?.release();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    it('re-drives the open request with the same idempotency key after a restart: one payment at the provider', async () => {
      await platform.start();
      // The provider takes the payment but holds its answer far longer than the process will live.
      await sim.addScenario({
        match: { amountMinor: 4250 },
        behaviour: { kind: 'timeout', hangMs: HANG_MS, then: { kind: 'redirect' } },
      });
      const deposit = await api('POST', '/api/v2/deposit', {
        merchantTransactionId: `crash-${Date.now()}`,
        amount: { value: 4250, currency: 'EUR' },
        paymentMethod: 'card',
        customer: { email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', country: 'DE' },
        webhookUrl: receiver.url(),
        returnUrls: { success: 'https://shop.example/ok', failure: 'https://shop.example/failed' },
      });
      expect(deposit.status, JSON.stringify(deposit.body)).to.equal(201);
      const { transactionId, hostedPaymentUrl } = deposit.body as {
        transactionId: string;
        hostedPaymentUrl: string;
      };
      const requests = async () =>
        (await sim.get<{ requests: Array<Record<string, unknown>> }>('requests', { transactionId })).requests;
      await eventually(async () => (await requests()).length === 1, 60_000, 'the provider request');
      expect(await sim.paymentCount({ transactionId }), 'the provider created the payment').to.equal(1);

      await platform.kill();
      await platform.start();

      let state: Record<string, string> = {};
      await eventually(
        async () =>
          (state = (await (await fetch(`${hostedPaymentUrl}/state`)).json()) as Record<string, string>)
            .state === 'redirect',
        90_000,
        'the re-driven attempt answered',
      );
      const paid = await fetch(state.redirectUrl!, {
        method: 'POST',
        body: new URLSearchParams({ action: 'pay' }),
        redirect: 'manual',
      });
      expect(paid.status).to.equal(303);
      await eventually(
        async () => (await api('GET', `/api/v2/transactions/${transactionId}`)).body.status === 'approved',
        60_000,
        'the transaction approved',
      );
      await eventually(() => receiver.received.length === 1, 60_000, 'the approved webhook');
      expect(receiver.received[0]!.verified).to.equal(true);
      expect(JSON.parse(receiver.received[0]!.body)).to.include({ transactionId, status: 'approved' });

      // The provider: one payment; the second request was a replay of the first answer (same key).
      expect(await sim.paymentCount({ transactionId })).to.equal(1);
      const calls = await requests();
      expect(calls.map((c) => c.replayed)).to.deep.equal([false, true]);
      expect(new Set(calls.map((c) => c.idempotencyKey)).size).to.equal(1);

      expect(await platform.stop(), platform.log).to.equal(0);
      await withDatabase(async ({ knex }) => {
        const attempts = await knex('payment_attempts').where({ transaction_id: transactionId });
        expect(attempts).to.have.length(1);
        expect(attempts[0]).to.include({
          state: 'succeeded',
          outcome: 'approved',
          idempotency_key: calls[0]!.idempotencyKey,
        });
        const types = (
          await knex('transaction_timeline').where({ transaction_id: transactionId }).orderBy('id')
        ).map((row) => row.entry_type as string);
        expect(types.filter((t) => t === 'ProviderRequestStarted')).to.have.length(1);
        expect(types.filter((t) => t === 'ProviderRequestSucceeded')).to.have.length(1);
        expect(types.filter((t) => t === 'MerchantWebhookRequested')).to.have.length(1);
      });
    });
  });
}
