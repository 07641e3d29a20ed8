/**
 * The transaction state machine as data. Allowed transitions are listed here and nowhere else;
 * terminal states never change. The merchant sees a coarser status: internal stages (routing,
 * waiting for the customer) are all "pending" to them.
 */
export const TRANSACTION_STATUSES = [
  /** Durably accepted by the Merchant Gateway; nothing else has happened yet. */
  'CREATED',
  /** The orchestrator is choosing provider accounts or talking to one. */
  'PROCESSING',
  /** The provider needs fields the merchant did not send; the hosted page asks the customer. */
  'AWAITING_CUSTOMER_DATA',
  /** The customer was (or can be) redirected to the provider; waiting for the provider's callback. */
  'AWAITING_PROVIDER',
  'APPROVED',
  /** The provider declined the payment. */
  'DECLINED',
  /** No provider path remained (no route, all candidates failed). */
  'REJECTED',
  /** The payment session expired before the payment completed. */
  'EXPIRED',
] as const;

export type TransactionStatus = (typeof TRANSACTION_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<TransactionStatus> = new Set([
  'APPROVED',
  'DECLINED',
  'REJECTED',
  'EXPIRED',
]);

const FAILURES: TransactionStatus[] = ['DECLINED', 'REJECTED', 'EXPIRED'];

/** from -> allowed targets. A provider may report a final outcome at any non-terminal stage. */
export const TRANSITIONS: { readonly [S in TransactionStatus]: readonly TransactionStatus[] } = {
  CREATED: ['PROCESSING', 'REJECTED', 'EXPIRED'],
  PROCESSING: ['AWAITING_CUSTOMER_DATA', 'AWAITING_PROVIDER', 'APPROVED', ...FAILURES],
  AWAITING_CUSTOMER_DATA: ['PROCESSING', 'AWAITING_PROVIDER', 'APPROVED', ...FAILURES],
  AWAITING_PROVIDER: ['PROCESSING', 'APPROVED', ...FAILURES],
  APPROVED: [],
  DECLINED: [],
  REJECTED: [],
  EXPIRED: [],
};

export function isTransactionStatus(value: unknown): value is TransactionStatus {
  return typeof value === 'string' && (TRANSACTION_STATUSES as readonly string[]).includes(value);
}

export function isTerminal(status: TransactionStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

export function canTransition(from: TransactionStatus, to: TransactionStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** What merchants see (API responses, webhooks, merchant timeline). */
export type MerchantStatus = 'pending' | 'approved' | 'declined' | 'rejected' | 'expired';

export function merchantStatus(status: TransactionStatus): MerchantStatus {
  switch (status) {
    case 'APPROVED':
      return 'approved';
    case 'DECLINED':
      return 'declined';
    case 'REJECTED':
      return 'rejected';
    case 'EXPIRED':
      return 'expired';
    default:
      return 'pending';
  }
}
