/**
 * The event catalog as TypeScript types, mirroring `schemas/avro/<Type>/v<N>.avsc` (latest version).
 *
 * Glossary — transaction: one merchant deposit, identified by the platform `transactionId` (the ordering
 * key of every stream); session: the hosted payment page state for a transaction; attempt: one request to
 * one provider account; candidate / SUB MID: a provider account routing may choose; delivery: one merchant
 * webhook (stable `webhookId`) and its attempts; outbox: events written in the same DB transaction as the
 * state change, published later by the relay; inbox: the record of event ids a consumer has applied.
 */
import { randomUUID } from 'node:crypto';

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
  ProviderCallbackReceived: {
    callbackId: string;
    providerId: string;
    providerReference: string | null;
    receivedAt: Date;
  };
  ProviderCallbackProcessed: {
    callbackId: string;
    providerId: string;
    providerStatus: string;
    resultingStatus: string | null;
  };
  ProviderCallbackIgnored: { callbackId: string; providerId: string; reason: string; detail: string | null };
  TransactionStatusChanged: {
    fromStatus: string | null;
    toStatus: string;
    reason: string | null;
    amount: Money;
  };
  MerchantWebhookRequested: { webhookId: string; webhookType: string; status: string };
  MerchantWebhookDelivered: {
    webhookId: string;
    attemptNumber: number;
    httpStatus: number;
    durationMs: number;
    trigger: string;
  };
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

/**
 * The schema version each TypeScript payload type above mirrors (the latest released `v<N>.avsc`; a
 * unit test keeps them equal). Bump it together with the payload type when releasing a new version.
 */
export const LATEST_SCHEMA_VERSIONS: { readonly [T in EventType]: number } = {
  DepositRequested: 1,
  PaymentSessionCreated: 1,
  RoutingStarted: 1,
  RoutingCompleted: 1,
  RoutingFailed: 1,
  ProviderRequestStarted: 1,
  ProviderRequestSucceeded: 1,
  ProviderRequestFailed: 1,
  CustomerDataRequested: 1,
  CustomerDataSubmitted: 1,
  ProviderCallbackReceived: 1,
  ProviderCallbackProcessed: 1,
  ProviderCallbackIgnored: 1,
  TransactionStatusChanged: 1,
  MerchantWebhookRequested: 1,
  MerchantWebhookDelivered: 1,
  MerchantWebhookFailed: 1,
  MerchantWebhookRetryScheduled: 1,
  MerchantWebhookRetryExhausted: 1,
  EventProcessingFailed: 1,
};

/** Documented values of `ProviderCallbackIgnored.reason` (a string on the wire, so new reasons stay compatible). */
export const CALLBACK_IGNORED_REASONS = ['duplicate', 'rejected', 'late', 'conflicting', 'expired'] as const;
export type CallbackIgnoredReason = (typeof CALLBACK_IGNORED_REASONS)[number];

/**
 * One event: envelope plus the payload its type dictates. The union's members differ in
 * `envelope.type`, but TypeScript does not narrow a union through a nested property: narrow with
 * `isEventOf(event, 'DepositRequested')` (or switch on `event.envelope.type` and call it).
 */
export type PlatformEvent = {
  [T in EventType]: { envelope: EventEnvelope<T>; payload: EventPayloads[T] };
}[EventType];

/** The event of one given type. */
export type EventOf<T extends EventType> = Extract<PlatformEvent, { envelope: { type: T } }>;

/** Narrows an event to one type: `if (isEventOf(event, 'RoutingFailed')) event.payload.reason`. */
export function isEventOf<T extends EventType>(event: PlatformEvent, type: T): event is EventOf<T> {
  return event.envelope.type === type;
}

/** True for a string that names an event type of the catalog. */
export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(LATEST_SCHEMA_VERSIONS, value);
}

/** What a producer knows when it builds an envelope; ids and time default to fresh values. */
export interface EnvelopeInit<T extends EventType = EventType> {
  type: T;
  transactionId: string;
  merchantId: string;
  /** Per-transaction sequence number, taken from the transaction row in the same DB transaction. */
  sequence: number;
  /** Defaults to the new eventId: the event starts a new chain (e.g. an incoming request). */
  correlationId?: string;
  /** eventId of the event this one reacts to; null for events caused by an external request. */
  causationId?: string | null;
  eventId?: string;
  occurredAt?: Date;
}

/**
 * Builds a complete envelope. `schemaVersion` is the version the TypeScript types mirror (the codec
 * writes the latest released version and sets it again). Combine with `causedBy(parent)` to continue
 * a chain: `buildEnvelope({ ...causedBy(parent.envelope), type: 'RoutingStarted', sequence: 3 })`.
 */
export function buildEnvelope<T extends EventType>(init: EnvelopeInit<T>): EventEnvelope<T> {
  if (!isEventType(init.type)) throw new TypeError(`unknown event type ${String(init.type)}`);
  if (!Number.isSafeInteger(init.sequence) || init.sequence < 0) {
    throw new TypeError(`sequence must be a non-negative integer, got ${init.sequence}`);
  }
  for (const key of ['transactionId', 'merchantId'] as const) {
    if (typeof init[key] !== 'string' || init[key] === '')
      throw new TypeError(`${key} must be a non-empty string`);
  }
  const eventId = init.eventId ?? randomUUID();
  return {
    eventId,
    type: init.type,
    schemaVersion: LATEST_SCHEMA_VERSIONS[init.type],
    occurredAt: init.occurredAt ?? new Date(),
    transactionId: init.transactionId,
    merchantId: init.merchantId,
    sequence: init.sequence,
    correlationId: init.correlationId ?? eventId,
    causationId: init.causationId ?? null,
  };
}

/** The envelope fields an event inherits from the event that caused it. */
export function causedBy(
  parent: Pick<EventEnvelope, 'eventId' | 'transactionId' | 'merchantId' | 'correlationId'>,
): Pick<EnvelopeInit, 'transactionId' | 'merchantId' | 'correlationId' | 'causationId'> {
  return {
    transactionId: parent.transactionId,
    merchantId: parent.merchantId,
    correlationId: parent.correlationId,
    causationId: parent.eventId,
  };
}

/** Builds a typed event: `buildEvent({ type: 'RoutingFailed', ...ids }, { reason, detail: null })`. */
export function buildEvent<T extends EventType>(
  init: EnvelopeInit<T>,
  payload: EventPayloads[T],
): EventOf<T> {
  return { envelope: buildEnvelope(init), payload } as unknown as EventOf<T>;
}
