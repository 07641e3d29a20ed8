/**
 * Response bodies of the back-office API, one function per view. The merchant-safe views are built
 * from an explicit list of fields (never by removing internal ones from a bigger object), so a new
 * column or record field stays invisible to merchants until someone adds it here on purpose. Internal
 * views add an `internal` member (detail) or internal fields (webhooks). Shapes match openapi.ts. Pure.
 */
import type { FailedEvent } from '../core/failed-events/store.js';
import { merchantStatus, type MerchantStatus } from '../core/transactions/status.js';
import type { InternalRecords } from './internal-records.js';
import type { TransactionRecord } from './transaction-store.js';
import type { WebhookAttemptRecord, WebhookDeliveryRecord } from './webhook-records.js';

export type View = 'internal' | 'merchant';

export interface TransactionSummary {
  transactionId: string;
  merchantId: string;
  merchantTransactionId: string;
  status: MerchantStatus;
  amount: { value: number; currency: string };
  paymentMethod: string;
  createdAt: string;
  updatedAt: string;
  /** Internal views only. */
  internalStatus?: string;
}

export function transactionSummary(record: TransactionRecord, view: View): TransactionSummary {
  return {
    transactionId: record.transactionId,
    merchantId: record.merchantId,
    merchantTransactionId: record.merchantTransactionId,
    status: merchantStatus(record.status),
    amount: { value: record.amountMinor, currency: record.currency },
    paymentMethod: record.paymentMethod,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
    ...(view === 'internal' ? { internalStatus: record.status } : {}),
  };
}

const iso = (value: Date | null): string | null => (value === null ? null : value.toISOString());

export function merchantTransactionDetail(record: TransactionRecord): Record<string, unknown> {
  const { internalStatus: _internal, ...summary } = transactionSummary(record, 'merchant');
  return { view: 'merchant', ...summary };
}

export function internalTransactionDetail(
  record: TransactionRecord,
  records: InternalRecords,
): Record<string, unknown> {
  const { internalStatus: _internal, ...summary } = transactionSummary(record, 'merchant');
  return {
    view: 'internal',
    ...summary,
    internal: {
      status: record.status,
      statusReason: record.statusReason,
      customerCountry: record.customerCountry,
      webhookUrl: record.webhookUrl,
      routingPlan: records.routingPlan && {
        rulesVersion: records.routingPlan.rulesVersion,
        ruleId: records.routingPlan.ruleId,
        candidates: records.routingPlan.candidates,
        createdAt: records.routingPlan.createdAt.toISOString(),
      },
      attempts: records.attempts.map((a) => ({
        ...a,
        startedAt: a.startedAt.toISOString(),
        finishedAt: iso(a.finishedAt),
      })),
      callbacks: records.callbacks.map((c) => ({
        ...c,
        receivedAt: c.receivedAt.toISOString(),
        processedAt: iso(c.processedAt),
      })),
    },
  };
}

/** Request headers a merchant may see of an attempt: the Standard Webhooks headers they verify. */
export const MERCHANT_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'content-type',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
]);

export function webhookDeliveryView(delivery: WebhookDeliveryRecord, view: View): Record<string, unknown> {
  return {
    webhookId: delivery.webhookId,
    type: delivery.webhookType,
    state: delivery.state,
    requestedAt: delivery.requestedAt.toISOString(),
    deliveredAt: iso(delivery.deliveredAt),
    nextAttemptAt: iso(delivery.nextAttemptAt),
    attemptCount: delivery.attemptCount,
    ...(view === 'internal' ? { url: delivery.url } : {}),
    attempts: delivery.attempts.map((attempt) => webhookAttemptView(attempt, view)),
  };
}

function webhookAttemptView(attempt: WebhookAttemptRecord, view: View): Record<string, unknown> {
  const merchantHeaders = Object.fromEntries(
    Object.entries(attempt.requestHeaders).filter(([name]) =>
      MERCHANT_REQUEST_HEADERS.has(name.toLowerCase()),
    ),
  );
  const safe = {
    attemptNumber: attempt.attemptNumber,
    trigger: attempt.trigger,
    startedAt: attempt.startedAt.toISOString(),
    finishedAt: attempt.finishedAt.toISOString(),
    durationMs: attempt.durationMs,
    httpStatus: attempt.responseStatus,
    errorClass: attempt.errorClass,
    responseBodyExcerpt: attempt.responseBodyExcerpt,
  };
  if (view === 'merchant') return { ...safe, requestHeaders: merchantHeaders };
  return {
    ...safe,
    url: attempt.url,
    requestHeaders: attempt.requestHeaders,
    responseHeaders: attempt.responseHeaders,
    errorMessage: attempt.errorMessage,
    requestedBy: attempt.requestedBy,
    requestedByEmail: attempt.requestedByEmail,
  };
}

/** A dead-lettered event, without its payload and stack (ops' CLI shows those). */
export function failedEventView(record: FailedEvent): Record<string, unknown> {
  return {
    id: record.id,
    status: record.status,
    consumerGroup: record.consumerGroup,
    topic: record.topic,
    eventType: record.eventType,
    eventId: record.eventId,
    errorClass: record.errorClass,
    errorCode: record.errorCode,
    errorMessage: record.errorMessage,
    attempts: record.attempts,
    firstFailureAt: record.firstFailureAt.toISOString(),
    lastFailureAt: record.lastFailureAt.toISOString(),
    replayCount: record.replayCount,
  };
}
