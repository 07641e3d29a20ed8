/**
 * What the customer may see of a payment session: the hosted page's state machine, derived from the
 * session row (written by the orchestrator) and the transaction's status, at a given time. Only
 * customer-safe words leave here: no technical statuses, provider names, reasons or internal errors.
 * Pure; the clock is an input.
 *
 *   transaction terminal        -> completed (APPROVED) | failed (DECLINED, REJECTED) | expired (EXPIRED)
 *   session completed/failed/expired -> the same word
 *   expires_at passed           -> expired
 *   customer_data_required      -> form (with the fields to render)
 *   redirect_ready + http(s) URL -> redirect
 *   anything else               -> loading
 */
import { isTransactionStatus, merchantStatus } from '../../core/transactions/status.js';
import type { CustomerFieldSpec } from '../../schemas/events.js';
import { formFields, parseFieldSpecs, type FormField } from './form-fields.js';

export type HostedState = 'loading' | 'form' | 'redirect' | 'completed' | 'failed' | 'expired';

/** The body of `GET /pay/:token/state`. */
export interface HostedView {
  state: HostedState;
  fields?: FormField[];
  redirectUrl?: string;
  /** Back to the merchant (its success or failure return URL), when the payment is over. */
  returnUrl?: string;
  /** When to ask again; 0 = the state will not change any more (or the page navigates away). */
  pollAfterMs: number;
}

/** The session row joined with what the page needs of its transaction and merchant. */
export interface SessionSnapshot {
  sessionId: string;
  transactionId: string;
  merchantId: string;
  merchantName: string;
  amountMinor: number;
  currency: string;
  sessionState: string;
  requiredFields: unknown;
  redirectUrl: string | null;
  expiresAt: Date;
  customerDataSubmittedAt: Date | null;
  transactionStatus: string;
  returnUrls: unknown;
}

export const POLL_LOADING_MS = 1_000;
/** While the customer types we still look for expiry or a cancelled payment, but rarely. */
export const POLL_FORM_MS = 5_000;

/** Derives the customer's view of a session at `now`. */
export function hostedView(snapshot: SessionSnapshot, now: Date): HostedView {
  const outcome = finalOutcome(snapshot, now);
  if (outcome) {
    const returnUrl = returnUrlFor(snapshot.returnUrls, outcome === 'completed' ? 'success' : 'failure');
    return { state: outcome, ...(returnUrl ? { returnUrl } : {}), pollAfterMs: 0 };
  }
  if (snapshot.sessionState === 'customer_data_required') {
    const specs = parseFieldSpecs(snapshot.requiredFields);
    if (specs) return { state: 'form', fields: formFields(specs), pollAfterMs: POLL_FORM_MS };
  }
  if (snapshot.sessionState === 'redirect_ready') {
    const redirectUrl = safeHttpUrl(snapshot.redirectUrl);
    if (redirectUrl) return { state: 'redirect', redirectUrl, pollAfterMs: 0 };
  }
  return { state: 'loading', pollAfterMs: POLL_LOADING_MS };
}

/** The fields the session asks for right now, or null when it asks for none (or they are malformed). */
export function requestedFields(snapshot: SessionSnapshot): CustomerFieldSpec[] | null {
  return snapshot.sessionState === 'customer_data_required' ? parseFieldSpecs(snapshot.requiredFields) : null;
}

/** True when a malformed orchestrator write keeps the page waiting (worth an error log, not a customer message). */
export function isStuck(snapshot: SessionSnapshot, view: HostedView): boolean {
  return (
    view.state === 'loading' &&
    (snapshot.sessionState === 'customer_data_required' || snapshot.sessionState === 'redirect_ready')
  );
}

function finalOutcome(snapshot: SessionSnapshot, now: Date): 'completed' | 'failed' | 'expired' | null {
  // The transaction is the truth about money: a payment approved after the link expired is still approved.
  if (isTransactionStatus(snapshot.transactionStatus)) {
    switch (merchantStatus(snapshot.transactionStatus)) {
      case 'approved':
        return 'completed';
      case 'declined':
      case 'rejected':
        return 'failed';
      case 'expired':
        return 'expired';
      case 'pending':
        break;
    }
  }
  if (snapshot.sessionState === 'completed') return 'completed';
  if (snapshot.sessionState === 'failed') return 'failed';
  if (snapshot.sessionState === 'expired') return 'expired';
  if (snapshot.expiresAt.getTime() <= now.getTime()) return 'expired';
  return null;
}

function returnUrlFor(returnUrls: unknown, which: 'success' | 'failure'): string | null {
  let value = returnUrls;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return null;
    }
  }
  if (typeof value !== 'object' || value === null) return null;
  return safeHttpUrl((value as Record<string, unknown>)[which]);
}

/** An absolute http(s) URL without credentials, normalised; anything else (javascript:, data:, …) is null. */
export function safeHttpUrl(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username !== '' || url.password !== '') return null;
  return url.href;
}
