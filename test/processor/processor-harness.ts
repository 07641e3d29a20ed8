/**
 * The orchestrator's handlers on a real database, without a broker or an HTTP provider: a one-candidate
 * routing port, a connector whose answers the test scripts, and helpers that hand the handlers the
 * messages the broker would deliver. For tests about what the handlers write (and how many statements
 * that takes), not about delivery.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { Registry } from 'prom-client';
import type { Broker, DeliveredMessage } from '../../core/broker/types.js';
import { silentLogger } from '../../core/logger.js';
import { encodeProviderCallback } from '../../gateway/provider/envelope.js';
import type { CallbackFacts, PaymentOutcome, ProviderConnector } from '../../processor/connectors/types.js';
import { onDepositRequested } from '../../processor/handlers/deposit-requested.js';
import { onProviderCallback } from '../../processor/handlers/provider-callback.js';
import { onProviderRequestStarted } from '../../processor/handlers/provider-request.js';
import { processorMetrics } from '../../processor/metrics.js';
import type { ProcessorDeps, RoutingPort } from '../../processor/ports.js';
import type { PlannedCandidate } from '../../processor/routing/types.js';
import { buildEvent, type EventOf } from '../../schemas/index.js';
import { createTestDatabase } from '../support/database.js';
import { insertMerchant, insertTransaction } from '../support/fixtures.js';

export const PROVIDER = 'test-psp';
const CANDIDATE: PlannedCandidate = {
  providerId: PROVIDER,
  subMidId: 'sub-1',
  group: 0,
  groupFallback: 'stop',
  velocity: [{ windowSeconds: 60, maxCount: 1_000_000 }],
};

const routing: RoutingPort = {
  plan: (request) => ({
    ok: true,
    rulesVersion: 'v1',
    ruleId: 'all',
    candidates: [CANDIDATE],
    amountMinor: request.amountMinor,
    skipped: [],
  }),
  next: () => null,
  velocityWindows: () => [{ subMidId: CANDIDATE.subMidId, windowSeconds: 60 }],
  account: (subMidId) => ({
    subMidId,
    providerId: PROVIDER,
    apiBaseUrl: 'http://psp.invalid',
    credentials: {},
  }),
};

export class ProcessorHarness {
  /** What the connector answers to the next createPayment. */
  answer: (attemptId: string) => PaymentOutcome = (attemptId) => ({
    kind: 'redirect',
    providerReference: `ref-${attemptId}`,
    redirectUrl: `https://psp.example/checkout/${attemptId}`,
  });
  readonly deps: ProcessorDeps;
  private merchantId: string | null = null;

  constructor(readonly knex: Knex) {
    const connector: ProviderConnector = {
      providerId: PROVIDER,
      createPayment: async (request) => this.answer(request.attemptId),
      submitCustomerData: async (request) => this.answer(request.attemptId),
      parseCallback: (body) => JSON.parse(body.toString('utf8')) as CallbackFacts[],
    };
    this.deps = {
      knex,
      broker: {} as Broker,
      logger: silentLogger,
      routing,
      connector: () => connector,
      publicBaseUrl: 'http://platform.test',
      returnUrl: (sessionId) => `http://platform.test/pay/${sessionId}`,
      providerTimeoutMs: 1000,
      metrics: processorMetrics(new Registry(), async () => ({ count: 0, oldestAgeSeconds: 0 })),
    };
  }

  /** A transaction as the Merchant Gateway leaves it (CREATED, with its session and DepositRequested #1). */
  async createTransaction(): Promise<string> {
    this.merchantId ??= await insertMerchant(this.knex);
    const id = await insertTransaction(this.knex, this.merchantId, { last_sequence: 1 });
    await this.knex('payment_sessions').insert({
      id: `ps_${randomUUID()}`,
      transaction_id: id,
      token_hash: randomUUID(),
      expires_at: new Date(Date.now() + 3600_000),
    });
    return id;
  }

  async depositRequested(transactionId: string): Promise<void> {
    const event = buildEvent(
      { type: 'DepositRequested', transactionId, merchantId: this.merchantId!, sequence: 1 },
      {
        merchantTransactionId: 'order',
        amount: { amountMinor: 1000, currency: 'EUR' },
        paymentMethod: 'card',
        customerCountry: null,
        providedCustomerFields: [],
      },
    );
    await onDepositRequested(this.deps, event);
  }

  /** The ProviderRequestStarted of the transaction's latest attempt, to deliver with `deliver`. */
  async providerRequestStarted(transactionId: string): Promise<EventOf<'ProviderRequestStarted'>> {
    const row = await this.knex('payment_attempts')
      .where({ transaction_id: transactionId })
      .orderBy('attempt_number', 'desc')
      .first();
    const event = buildEvent(
      { type: 'ProviderRequestStarted', transactionId, merchantId: this.merchantId!, sequence: 5 },
      {
        attemptId: row.id as string,
        attemptNumber: Number(row.attempt_number),
        providerId: row.provider_id as string,
        subMidId: row.sub_mid_id as string,
        providerIdempotencyKey: row.idempotency_key as string,
      },
    );
    return event;
  }

  async deliver(event: EventOf<'ProviderRequestStarted'>): Promise<void> {
    await onProviderRequestStarted(this.deps, event);
  }

  /** Delivers a provider callback (one notification) as the Provider Gateway would put it on the topic. */
  async callback(facts: Partial<CallbackFacts> & { providerReference: string }): Promise<void> {
    const notification: CallbackFacts = {
      attemptId: null,
      notificationId: randomUUID(),
      outcome: 'approved',
      providerStatus: 'succeeded',
      amountMinor: null,
      currency: null,
      ...facts,
    };
    const callbackId = randomUUID();
    const message: DeliveredMessage = {
      topic: 'callbacks',
      key: notification.providerReference,
      value: encodeProviderCallback({
        callbackId,
        provider: PROVIDER,
        reference: notification.providerReference,
        receivedAt: new Date().toISOString(),
        headers: {},
        bodyBase64: Buffer.from(JSON.stringify([notification])).toString('base64'),
      }),
      headers: {},
      messageId: callbackId,
      partition: null,
      offset: null,
      publishedAt: new Date(),
    };
    await onProviderCallback(this.deps, message);
  }
}

/** Counts the SQL statements `knex` sends while `work` runs (BEGIN/COMMIT included). */
export async function countStatements(
  knex: Knex,
  work: () => Promise<unknown>,
): Promise<{ count: number; statements: string[] }> {
  const statements: string[] = [];
  const listener = (query: { sql: string }) => statements.push(query.sql);
  knex.on('query', listener);
  try {
    await work();
  } finally {
    knex.removeListener('query', listener);
  }
  return { count: statements.length, statements };
}

/**
 * For the enclosing `describe`: a test database of `driver` (before) released afterwards, and a harness
 * on it. Read `knex` and `harness` inside the tests (they are set once the hook ran).
 */
export function useProcessorHarness(driver: 'pglite' | 'postgres'): {
  readonly knex: Knex;
  readonly harness: ProcessorHarness;
} {
  const setup = {} as { knex: Knex; harness: ProcessorHarness };
  let release: (() => Promise<void>) | undefined;
  before(async function () {
    const { database, release: releaseDatabase } = await createTestDatabase(driver, this);
    release = releaseDatabase;
    setup.knex = database.knex;
    setup.harness = new ProcessorHarness(database.knex);
  });
  after(async () => release?.());
  return setup;
}
