/**
 * What back-office tests share: the real routes on a real HTTP server, a client that checks every
 * response against the OpenAPI document, users of every kind, and a transaction whose history looks
 * like the orchestrator's after a provider failure and a fallback — recorded with the processor's own
 * decision functions and appendFacts, the dispatcher's own delivery store, and the failed-events store.
 */
import { randomUUID } from 'node:crypto';
import Koa from 'koa';
import type { Knex } from 'knex';
import {
  backofficeRoutes,
  BACKOFFICE_API_PREFIX,
  createBackofficeUser,
  openApiDocument,
  type BackofficeOptions,
  type IssuedToken,
} from '../../backoffice/index.js';
import { FailedEventStore } from '../../core/failed-events/store.js';
import { silentLogger } from '../../core/logger.js';
import { appendFacts, fact } from '../../core/transactions/journal.js';
import { listen } from '../../platform/http-server.js';
import { attemptStartedFact, decideAttemptOutcome } from '../../processor/decisions/attempt-outcome.js';
import { statusChangeFacts } from '../../processor/decisions/status-change.js';
import type { PlannedCandidate } from '../../processor/routing/types.js';
import { encodeEvent, isEventOf, type PlatformEvent } from '../../schemas/index.js';
import { recordAttempt } from '../../webhook-dispatcher/attempt-recorder.js';
import { createDelivery } from '../../webhook-dispatcher/delivery-store.js';
import { openApiChecker } from '../support/openapi.js';
import { insertTransaction } from '../support/fixtures.js';

export interface BackofficeServer {
  url: string;
  close(): Promise<void>;
}

export async function startBackofficeServer(
  knex: Knex,
  options: Partial<BackofficeOptions> = {},
): Promise<BackofficeServer> {
  const app = new Koa();
  app.use(backofficeRoutes({ knex, logger: silentLogger, ...options }).middleware);
  return listen(app, '127.0.0.1', 0);
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** The raw body: leak checks search it, not a parsed copy. */
  text: string;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read whatever the API returned
}

const checker = openApiChecker(openApiDocument({ serverUrl: BACKOFFICE_API_PREFIX }) as never, {
  basePath: BACKOFFICE_API_PREFIX,
});

/** Calls the API over HTTP; every answer must be what the OpenAPI document promises. */
export function apiClient(server: BackofficeServer) {
  return async (token: string | null, method: string, path: string): Promise<ApiResponse> => {
    const response = await fetch(`${server.url}${BACKOFFICE_API_PREFIX}${path}`, {
      method,
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });
    const text = await response.text();
    const contentType = response.headers.get('content-type') ?? '';
    const body = contentType.includes('json') && text !== '' ? JSON.parse(text) : text;
    checker.check(
      { method, path: `${BACKOFFICE_API_PREFIX}${path}` },
      { status: response.status, contentType, body },
    );
    return { status: response.status, headers: response.headers, text, body };
  };
}

export interface Users {
  merchantA: IssuedToken;
  developerA: IssuedToken;
  merchantB: IssuedToken;
  developerB: IssuedToken;
  viewer: IssuedToken;
  support: IssuedToken;
  ops: IssuedToken;
}

export async function createUsers(knex: Knex, merchantA: string, merchantB: string): Promise<Users> {
  const user = (kind: 'merchant' | 'platform', roles: string[], merchantId?: string) =>
    createBackofficeUser(knex, {
      email: `${roles[0]}-${randomUUID().slice(0, 8)}@example.test`,
      kind,
      roles,
      ...(merchantId ? { merchantId } : {}),
    });
  return {
    merchantA: await user('merchant', ['merchant_user'], merchantA),
    developerA: await user('merchant', ['merchant_developer'], merchantA),
    merchantB: await user('merchant', ['merchant_user'], merchantB),
    developerB: await user('merchant', ['merchant_developer'], merchantB),
    viewer: await user('platform', ['viewer']),
    support: await user('platform', ['support']),
    ops: await user('platform', ['ops']),
  };
}

/** Strings only platform users with permission may ever see; a merchant-safe answer contains none of them. */
export const SECRETS = {
  firstProvider: 'stripe-sim',
  firstSubMid: 'submid-eu-card-7731',
  firstErrorCode: 'PSP_GATEWAY_OVERLOADED_4411',
  secondProvider: 'adyen-sim',
  secondSubMid: 'submid-eu-card-9902',
  providerReference: 'psp_ref_8f1c2d',
  ruleId: 'rule-eu-cards-primary',
  rulesVersion: 'rules-v-2026-11-01',
  statusReason: 'provider_approved',
  internalStatus: 'PROCESSING',
  deadLetterError: 'processor crashed: connection reset by 10.20.30.40',
  webhookHost: 'hooks-origin-4471.example',
  webhookErrorMessage: 'connect ECONNREFUSED 10.9.8.7:443 via egress-eu-2',
  internalHeader: 'x-platform-egress-node',
} as const;

/**
 * A card deposit of `merchantId` that failed at its first provider and was approved by the fallback,
 * with a webhook whose first attempt failed — recorded as the gateway, orchestrator, dispatcher and
 * dead-letter recorder record it. Returns the transaction and webhook ids.
 */
export async function seedFallbackTransaction(
  knex: Knex,
  merchantId: string,
): Promise<{ transactionId: string; webhookId: string; merchantTransactionId: string }> {
  const merchantTransactionId = `order-${randomUUID().slice(0, 8)}`;
  const transactionId = await insertTransaction(knex, merchantId, {
    merchant_transaction_id: merchantTransactionId,
    amount_minor: 4_200,
    currency: 'EUR',
    status: 'CREATED',
    webhook_url: `https://${SECRETS.webhookHost}/payments/hook`,
    customer_country: 'DE',
  });
  const ref = { transactionId, merchantId };
  const money = { amountMinor: 4_200, currency: 'EUR' };
  const candidate = (providerId: string, subMidId: string, group: number) =>
    ({
      providerId,
      subMidId,
      group,
      groupFallback: 'next_group',
      velocity: [],
    }) as unknown as PlannedCandidate;
  const first = candidate(SECRETS.firstProvider, SECRETS.firstSubMid, 0);
  const second = candidate(SECRETS.secondProvider, SECRETS.secondSubMid, 1);
  const attempt = (number: number, c: PlannedCandidate) => ({
    id: `att_${randomUUID().replace(/-/g, '')}`,
    number,
    providerId: c.providerId,
    subMidId: c.subMidId,
    group: c.group,
    idempotencyKey: `${transactionId}:${number}`,
  });
  const attempt1 = attempt(1, first);
  const attempt2 = attempt(2, second);

  const events = await knex.transaction(async (trx) => {
    const insertAttempt = (a: typeof attempt1, extra: Record<string, unknown>) =>
      trx('payment_attempts').insert({
        id: a.id,
        transaction_id: transactionId,
        attempt_number: a.number,
        provider_id: a.providerId,
        sub_mid_id: a.subMidId,
        candidate_group: a.group,
        idempotency_key: a.idempotencyKey,
        amount_minor: money.amountMinor,
        currency: money.currency,
        ...extra,
      });
    await trx('routing_plans').insert({
      transaction_id: transactionId,
      rules_version: SECRETS.rulesVersion,
      rule_id: SECRETS.ruleId,
      candidates: JSON.stringify([first, second]),
    });
    await insertAttempt(attempt1, {
      state: 'failed',
      failure_kind: 'provider_error',
      provider_error_code: SECRETS.firstErrorCode,
    });
    await insertAttempt(attempt2, {
      state: 'succeeded',
      outcome: 'approved',
      provider_reference: SECRETS.providerReference,
    });
    const failed = decideAttemptOutcome({
      transaction: { status: 'PROCESSING', ...money },
      sessionId: 'ses_1',
      attempt: attempt1,
      outcome: {
        kind: 'failed',
        failureKind: 'provider_error',
        code: SECRETS.firstErrorCode,
        outcomeUnknown: false,
      },
      nextCandidate: () => second,
    });
    const approved = decideAttemptOutcome({
      transaction: { status: 'PROCESSING', ...money },
      sessionId: 'ses_1',
      attempt: attempt2,
      outcome: { kind: 'approved', providerReference: SECRETS.providerReference },
      nextCandidate: () => null,
    });
    await trx('transactions')
      .where({ id: transactionId })
      .update({ status: 'APPROVED', status_reason: SECRETS.statusReason });
    return appendFacts(trx, ref, [
      fact(
        'DepositRequested',
        {
          merchantTransactionId,
          amount: money,
          paymentMethod: 'card',
          customerCountry: 'DE',
          providedCustomerFields: ['country'],
        },
        { merchantTransactionId, amount: { value: 4_200, currency: 'EUR' }, paymentMethod: 'card' },
      ),
      ...statusChangeFacts({ from: 'CREATED', to: 'PROCESSING', reason: 'routing', ...money }),
      fact('RoutingStarted', { routingRulesVersion: SECRETS.rulesVersion }, null),
      fact(
        'RoutingCompleted',
        {
          routingRulesVersion: SECRETS.rulesVersion,
          candidates: [first, second].map(({ providerId, subMidId, group }) => ({
            providerId,
            subMidId,
            group,
          })),
        },
        null,
        { internal: { ruleId: SECRETS.ruleId, candidates: [first, second] } },
      ),
      attemptStartedFact(attempt1),
      ...failed.facts,
      attemptStartedFact(attempt2),
      ...approved.facts,
    ]);
  });
  const requested = events.find((event: PlatformEvent) => isEventOf(event, 'MerchantWebhookRequested'));
  if (!requested || !isEventOf(requested, 'MerchantWebhookRequested'))
    throw new Error('no webhook requested');

  // The dispatcher's first attempt failed (connection refused), and a retry is scheduled.
  const now = new Date();
  await knex.transaction((trx) => createDelivery(trx, requested, now));
  await recordAttempt(knex, {
    command: {
      deliveryId: requested.payload.webhookId,
      attemptNumber: 1,
      trigger: 'automatic',
      requestedBy: null,
      correlationId: requested.envelope.correlationId,
      causationId: requested.envelope.eventId,
      deferrals: 0,
    },
    url: `https://${SECRETS.webhookHost}/payments/hook`,
    result: {
      delivered: false,
      status: null,
      errorClass: 'connection',
      errorMessage: SECRETS.webhookErrorMessage,
      durationMs: 12,
      requestHeaders: {
        'content-type': 'application/json',
        'webhook-id': requested.payload.webhookId,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': 'v1,c2lnbmF0dXJl',
        [SECRETS.internalHeader]: 'egress-eu-2',
      },
      responseHeaders: {},
      bodyExcerpt: '',
      startedAt: now,
      finishedAt: now,
    },
    now,
    policy: { schedule: [60_000], maxRetryAfterMs: 60_000, random: () => 0.5 },
  });

  // A consumer dead-lettered one of its events.
  await new FailedEventStore(knex).record({
    consumerGroup: 'processor',
    originalTopic: 'payments.events.v1',
    deadLetterTopic: 'payments.events.v1.dlq.processor',
    message: {
      topic: 'payments.events.v1',
      key: transactionId,
      value: encodeEvent(requested),
      headers: {},
      messageId: `0:${randomUUID()}`,
      partition: 0,
      offset: '1',
      publishedAt: now,
    },
    attempts: 5,
    errorClass: 'Error',
    errorCode: null,
    errorMessage: SECRETS.deadLetterError,
    errorStack: null,
    firstFailureAt: now,
    lastFailureAt: now,
  });
  return { transactionId, webhookId: requested.payload.webhookId, merchantTransactionId };
}

/** Audit rows of one actor, oldest first. */
export async function auditRows(knex: Knex, userId: string): Promise<Array<Record<string, unknown>>> {
  return knex('backoffice_audit_log').where({ actor_user_id: userId }).orderBy('id');
}
