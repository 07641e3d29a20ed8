/**
 * The event catalog as TypeScript types, mirroring `schemas/avro/<Type>/v<N>.avsc` (latest version).
 *
 * Glossary — transaction: one merchant deposit, identified by the platform `transactionId` (the ordering
 * key of every stream); session: the hosted payment page state for a transaction; attempt: one request to
 * one provider account; candidate / SUB MID: a provider account routing may choose; delivery: one merchant
 * webhook (stable `webhookId`) and its attempts; outbox: events written in the same DB transaction as the
 * state change, published later by the relay; inbox: the record of event ids a consumer has applied.
 */

export interface EventEnvelope<T extends EventType = EventType> {
  eventId: string;
  type: T;
  schemaVersion: number;
  occurredAt: Date;
  transactionId: string;
  merchantId: string;
  /** Increases with every event of one transaction. */
  sequence: number;
  correlationId: string;
  causationId: string | null;
}

export interface Money {
  /** Integer minor units (cents). */
  amountMinor: number;
  /** ISO 4217 alphabetic code. */
  currency: string;
}

export interface RouteCandidate {
  providerId: string;
  subMidId: string;
  group: number;
}

export interface CustomerFieldSpec {
  name: string;
  kind: string;
  required: boolean;
  pattern: string | null;
  label: string | null;
}

/** Payload of each event type. */
export interface EventPayloads {
  DepositRequested: {
    merchantTransactionId: string;
    amount: Money;
    paymentMethod: string;
    customerCountry: string | null;
    providedCustomerFields: string[];
  };
  PaymentSessionCreated: { sessionId: string; expiresAt: Date };
  RoutingStarted: { routingRulesVersion: string };
  RoutingCompleted: { routingRulesVersion: string; candidates: RouteCandidate[] };
  RoutingFailed: { reason: string; detail: string | null };
  ProviderRequestStarted: {
    attemptId: string;
    attemptNumber: number;
    providerId: string;
    subMidId: string;
    providerIdempotencyKey: string;
  };
  ProviderRequestSucceeded: {
    attemptId: string;
    providerId: string;
    subMidId: string;
    providerReference: string | null;
    outcome: string;
  };
  ProviderRequestFailed: {
    attemptId: string;
    providerId: string;
    subMidId: string;
    failureKind: string;
    providerErrorCode: string | null;
    fallbackAvailable: boolean;
    outcomeUnknown: boolean;
  };
  CustomerDataRequested: { attemptId: string; sessionId: string; fields: CustomerFieldSpec[] };
  CustomerDataSubmitted: { sessionId: string; fieldNames: string[] };
  ProviderCallbackReceived: { callbackId: string; providerId: string; providerReference: string | null; receivedAt: Date };
  ProviderCallbackProcessed: { callbackId: string; providerId: string; providerStatus: string; resultingStatus: string | null };
  ProviderCallbackIgnored: { callbackId: string; providerId: string; reason: string; detail: string | null };
  TransactionStatusChanged: { fromStatus: string | null; toStatus: string; reason: string | null; amount: Money };
  MerchantWebhookRequested: { webhookId: string; webhookType: string; status: string };
  MerchantWebhookDelivered: { webhookId: string; attemptNumber: number; httpStatus: number; durationMs: number; trigger: string };
  MerchantWebhookFailed: {
    webhookId: string;
    attemptNumber: number;
    httpStatus: number | null;
    errorClass: string;
    durationMs: number;
    trigger: string;
  };
  MerchantWebhookRetryScheduled: { webhookId: string; nextAttemptNumber: number; nextAttemptAt: Date };
  MerchantWebhookRetryExhausted: { webhookId: string; attempts: number };
  EventProcessingFailed: {
    consumerGroup: string;
    topic: string;
    failedEventId: string | null;
    failedEventType: string | null;
    errorClass: string;
    errorMessage: string;
    attempts: number;
    failedEventRecordId: string | null;
  };
}

export type EventType = keyof EventPayloads;

export const EVENT_TYPES: readonly EventType[] = [
  'DepositRequested',
  'PaymentSessionCreated',
  'RoutingStarted',
  'RoutingCompleted',
  'RoutingFailed',
  'ProviderRequestStarted',
  'ProviderRequestSucceeded',
  'ProviderRequestFailed',
  'CustomerDataRequested',
  'CustomerDataSubmitted',
  'ProviderCallbackReceived',
  'ProviderCallbackProcessed',
  'ProviderCallbackIgnored',
  'TransactionStatusChanged',
  'MerchantWebhookRequested',
  'MerchantWebhookDelivered',
  'MerchantWebhookFailed',
  'MerchantWebhookRetryScheduled',
  'MerchantWebhookRetryExhausted',
  'EventProcessingFailed',
];

/** One event: envelope plus the payload its type dictates (a discriminated union on `envelope.type`). */
export type PlatformEvent = { [T in EventType]: { envelope: EventEnvelope<T>; payload: EventPayloads[T] } }[EventType];

/** The event of one given type. */
export type EventOf<T extends EventType> = Extract<PlatformEvent, { envelope: { type: T } }>;
