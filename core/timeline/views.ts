/**
 * Who sees what of a transaction's timeline. Entries are written with an optional merchant view
 * (core/transactions/journal.ts); this is the only place that turns stored entries into a response.
 *
 * Merchant users get the merchant-safe interpretation only: entries without a merchant view are
 * dropped, and of a merchant view only allow-listed fields with plain values pass — so even a writer
 * that put something internal into a merchant view (a provider name in a free-text field would still
 * be its bug) cannot leak raw callbacks, SUB MIDs, error stacks or nested objects. Platform users with
 * the permission get everything, internal details included.
 */

export interface StoredTimelineEntry {
  id: string;
  entryType: string;
  occurredAt: Date;
  merchantView: Record<string, unknown> | null;
  internal: Record<string, unknown>;
}

export interface MerchantTimelineEntry {
  type: string;
  occurredAt: string;
  details: Record<string, MerchantValue>;
}

export interface InternalTimelineEntry {
  id: string;
  type: string;
  occurredAt: string;
  merchantVisible: boolean;
  merchantView: Record<string, unknown> | null;
  internal: Record<string, unknown>;
}

type Scalar = string | number | boolean | null;
export type MerchantValue = Scalar | Scalar[];

/** Timeline entry types a merchant may ever see. Provider, routing and processing entries are not among them. */
export const MERCHANT_ENTRY_TYPES: ReadonlySet<string> = new Set([
  'DepositRequested',
  'PaymentSessionCreated',
  'CustomerDataRequested',
  'CustomerDataSubmitted',
  'ProviderRequestStarted',
  'TransactionStatusChanged',
  'MerchantWebhookRequested',
  'MerchantWebhookDelivered',
  'MerchantWebhookFailed',
  'MerchantWebhookRetryScheduled',
  'MerchantWebhookRetryExhausted',
]);

/** Fields of a merchant view that may reach a merchant. Anything else is dropped. */
export const MERCHANT_FIELDS: ReadonlySet<string> = new Set([
  'message',
  'status',
  'merchantTransactionId',
  'amount',
  'currency',
  'amountMinor',
  'paymentMethod',
  'expiresAt',
  'attemptNumber',
  'fields',
  'fieldNames',
  'webhookId',
  'httpStatus',
  'nextAttemptAt',
  'attempts',
  'trigger',
  'durationMs',
  'errorClass',
]);

const MAX_STRING = 200;

export function merchantTimeline(entries: readonly StoredTimelineEntry[]): MerchantTimelineEntry[] {
  return [...entries]
    .sort(byTime)
    .filter((e) => e.merchantView !== null && MERCHANT_ENTRY_TYPES.has(e.entryType))
    .map((e) => ({
      type: e.entryType,
      occurredAt: e.occurredAt.toISOString(),
      details: safeFields(e.merchantView!),
    }));
}

export function internalTimeline(entries: readonly StoredTimelineEntry[]): InternalTimelineEntry[] {
  return [...entries].sort(byTime).map((e) => ({
    id: e.id,
    type: e.entryType,
    occurredAt: e.occurredAt.toISOString(),
    merchantVisible: e.merchantView !== null && MERCHANT_ENTRY_TYPES.has(e.entryType),
    merchantView: e.merchantView,
    internal: e.internal,
  }));
}

function safeFields(view: Record<string, unknown>): Record<string, MerchantValue> {
  const out: Record<string, MerchantValue> = {};
  for (const [key, value] of Object.entries(view)) {
    if (!MERCHANT_FIELDS.has(key)) continue;
    const safe = safeValue(value);
    if (safe !== undefined) out[key] = safe;
  }
  return out;
}

function safeValue(value: unknown): MerchantValue | undefined {
  if (Array.isArray(value)) {
    const items = value.map(safeScalar);
    return items.every((v) => v !== undefined) ? (items as Scalar[]) : undefined;
  }
  return safeScalar(value);
}

function safeScalar(value: unknown): Scalar | undefined {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string') return value.length <= MAX_STRING ? value : undefined;
  return undefined;
}

function byTime(a: StoredTimelineEntry, b: StoredTimelineEntry): number {
  return a.occurredAt.getTime() - b.occurredAt.getTime() || Number(a.id) - Number(b.id);
}
