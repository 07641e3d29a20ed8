/**
 * Contract between the orchestrator and provider connectors. One connector per provider wire format;
 * a connector only speaks HTTP to its provider and maps the provider's vocabulary to ours. It never
 * retries (fallback is the orchestrator's job) and never touches the database.
 */
import type { CustomerFieldSpec } from '../../schemas/index.js';

/** Credentials and endpoint of one provider account (SUB MID), from configuration. */
export interface SubMidAccount {
  subMidId: string;
  providerId: string;
  /** Base URL of the provider API (the simulator in development and tests). */
  apiBaseUrl: string;
  /** Provider-side merchant account / API key; never logged. */
  credentials: Record<string, string>;
}

export interface PaymentRequest {
  account: SubMidAccount;
  /** Ours; sent to the provider as its idempotency key. A re-driven attempt reuses it. */
  idempotencyKey: string;
  attemptId: string;
  transactionId: string;
  amountMinor: number;
  currency: string;
  paymentMethod: string;
  /** Customer fields known so far (from the merchant and the hosted form). */
  customer: Record<string, string>;
  /** Where the provider sends the customer back (the hosted page). */
  returnUrl: string;
  /** Where the provider posts callbacks (our Provider Gateway, `/callbacks/<providerId>`). */
  callbackUrl: string;
}

export type PaymentOutcome =
  | { kind: 'redirect'; providerReference: string; redirectUrl: string }
  | { kind: 'customer_data_required'; providerReference: string | null; fields: CustomerFieldSpec[] }
  | { kind: 'pending'; providerReference: string }
  | { kind: 'approved'; providerReference: string }
  | { kind: 'declined'; providerReference: string | null; code: string | null }
  | {
      kind: 'failed';
      failureKind: 'provider_error' | 'timeout' | 'velocity_limited' | 'inactive_config' | 'network';
      code: string | null;
      /** True when the provider may have processed the request (timeouts, connection reset after send). */
      outcomeUnknown: boolean;
    };

/** What a (signature-verified) callback body says, in our vocabulary. */
export interface CallbackFacts {
  /** The provider's payment reference (matches PaymentOutcome.providerReference). */
  providerReference: string;
  /** Our attempt id if the provider echoes the merchant reference we sent, else null. */
  attemptId: string | null;
  /** The provider's own id of this notification (duplicates repeat it), for deduplication. */
  notificationId: string;
  outcome: 'approved' | 'declined' | 'pending';
  /** The provider's raw status word, for the timeline. */
  providerStatus: string;
  amountMinor: number | null;
  currency: string | null;
}

export interface ProviderConnector {
  readonly providerId: string;
  createPayment(request: PaymentRequest, options: { timeoutMs: number }): Promise<PaymentOutcome>;
  /** Sends fields the customer filled in after `customer_data_required`; same idempotency key. */
  submitCustomerData(
    request: PaymentRequest,
    providerReference: string | null,
    options: { timeoutMs: number },
  ): Promise<PaymentOutcome>;
  /**
   * Parses a callback body the Provider Gateway already verified. A body may hold several
   * notifications (Adyen batches). Throws NonRetryableError for a body it cannot understand.
   */
  parseCallback(body: Buffer, headers: Record<string, string>): CallbackFacts[];
}
