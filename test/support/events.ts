/** A valid sample of every event type, for codec round trips and pipeline tests. */
import { randomUUID } from 'node:crypto';
import type { EventOf, EventPayloads, EventType, PlatformEvent } from '../../schemas/index.js';

const money = { amountMinor: 12_345, currency: 'EUR' };
const at = new Date('2026-11-24T12:00:00.000Z');

export const SAMPLE_PAYLOADS: { [T in EventType]: EventPayloads[T] } = {
  DepositRequested: {
    merchantTransactionId: 'order-42',
    amount: money,
    paymentMethod: 'card',
    customerCountry: 'DE',
    providedCustomerFields: ['email'],
  },
  PaymentSessionCreated: { sessionId: 'ses_1', expiresAt: at },
  RoutingStarted: { routingRulesVersion: '2026-11-01' },
  RoutingCompleted: {
    routingRulesVersion: '2026-11-01',
    candidates: [
      { providerId: 'stripe-sim', subMidId: 'sm_1', group: 0 },
      { providerId: 'adyen-sim', subMidId: 'sm_2', group: 1 },
    ],
  },
  RoutingFailed: { reason: 'all_candidates_failed', detail: null },
  ProviderRequestStarted: {
    attemptId: 'att_1',
    attemptNumber: 1,
    providerId: 'stripe-sim',
    subMidId: 'sm_1',
    providerIdempotencyKey: 'idem_1',
  },
  ProviderRequestSucceeded: {
    attemptId: 'att_1',
    providerId: 'stripe-sim',
    subMidId: 'sm_1',
    providerReference: 'pi_123',
    outcome: 'redirect_ready',
  },
  ProviderRequestFailed: {
    attemptId: 'att_1',
    providerId: 'stripe-sim',
    subMidId: 'sm_1',
    failureKind: 'timeout',
    providerErrorCode: null,
    fallbackAvailable: true,
    outcomeUnknown: true,
  },
  CustomerDataRequested: {
    attemptId: 'att_1',
    sessionId: 'ses_1',
    fields: [
      { name: 'phone', kind: 'phone', required: true, pattern: '^\\+[0-9]{7,15}$', label: 'Phone number' },
    ],
  },
  CustomerDataSubmitted: { sessionId: 'ses_1', fieldNames: ['phone'] },
  ProviderCallbackReceived: {
    callbackId: 'cb_1',
    providerId: 'stripe-sim',
    providerReference: 'pi_123',
    receivedAt: at,
  },
  ProviderCallbackProcessed: {
    callbackId: 'cb_1',
    providerId: 'stripe-sim',
    providerStatus: 'succeeded',
    resultingStatus: 'SUCCEEDED',
  },
  ProviderCallbackIgnored: {
    callbackId: 'cb_2',
    providerId: 'stripe-sim',
    reason: 'duplicate',
    detail: null,
  },
  TransactionStatusChanged: { fromStatus: 'PENDING', toStatus: 'SUCCEEDED', reason: null, amount: money },
  MerchantWebhookRequested: {
    webhookId: 'msg_1',
    webhookType: 'transaction.status_changed',
    status: 'SUCCEEDED',
  },
  MerchantWebhookDelivered: {
    webhookId: 'msg_1',
    attemptNumber: 2,
    httpStatus: 204,
    durationMs: 35,
    trigger: 'automatic',
  },
  MerchantWebhookFailed: {
    webhookId: 'msg_1',
    attemptNumber: 1,
    httpStatus: 500,
    errorClass: 'http_status',
    durationMs: 12,
    trigger: 'automatic',
  },
  MerchantWebhookRetryScheduled: { webhookId: 'msg_1', nextAttemptNumber: 2, nextAttemptAt: at },
  MerchantWebhookRetryExhausted: { webhookId: 'msg_1', attempts: 8 },
  EventProcessingFailed: {
    consumerGroup: 'processor',
    topic: 'payments.events.v1',
    failedEventId: 'evt_1',
    failedEventType: 'DepositRequested',
    errorClass: 'TypeError',
    errorMessage: 'boom',
    attempts: 5,
    failedEventRecordId: '17',
  },
};

/** A sample event of `type` for `transactionId`, with the given sequence number. */
export function sampleEvent<T extends EventType>(type: T, transactionId = 'tx_1', sequence = 1): EventOf<T> {
  return {
    envelope: {
      eventId: randomUUID(),
      type,
      schemaVersion: 1,
      occurredAt: at,
      transactionId,
      merchantId: 'merchant_1',
      sequence,
      correlationId: 'corr_1',
      causationId: null,
    },
    payload: structuredClone(SAMPLE_PAYLOADS[type]),
  } as unknown as EventOf<T>;
}

export type { PlatformEvent };
