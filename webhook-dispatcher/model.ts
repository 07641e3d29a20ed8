/**
 * The dispatcher's vocabulary.
 *
 * - delivery: one merchant webhook (id = the stable Standard Webhooks `webhook-id`), created once from a
 *   MerchantWebhookRequested event, with the URL and body fixed at that moment (`webhook_deliveries`).
 * - attempt: one HTTP POST of a delivery (`webhook_attempts`), numbered per delivery. Numbers are handed
 *   out when an attempt is scheduled (automatic retry) or requested (manual resend), so every attempt
 *   message names exactly one attempt and a redelivered message is recognised by (delivery, number).
 * - trigger: `automatic` (the first attempt and the retry schedule) or `manual_resend` (back office).
 * - attempt command: the message that asks for one attempt, on the dispatcher's own topic.
 */
import type { DeliveryErrorClass } from './http-delivery.js';

export type DeliveryState = 'pending' | 'delivered' | 'exhausted' | 'skipped';

export type AttemptTrigger = 'automatic' | 'manual_resend';

/** Why an attempt failed: an HTTP outcome, or a refusal before any request was made. */
export type AttemptErrorClass = DeliveryErrorClass | 'no_signing_secret';

export interface AttemptCommand {
  deliveryId: string;
  attemptNumber: number;
  trigger: AttemptTrigger;
  /** Back-office user who asked for a manual resend; null for automatic attempts. */
  requestedBy: string | null;
  /** Carried into the facts the attempt records (correlation of the request that caused it). */
  correlationId: string;
  causationId: string | null;
  /** How often this attempt was put back because its host had too many attempts in flight. */
  deferrals: number;
}

/** A delivery as the dispatcher decides on it. */
export interface Delivery {
  id: string;
  transactionId: string;
  merchantId: string;
  webhookType: string;
  url: string | null;
  payload: string;
  state: DeliveryState;
  attempts: number;
  lastAttemptNumber: number;
  nextAttemptNumber: number | null;
  nextAttemptAt: Date | null;
  requestedAt: Date;
}

/** What one attempt produced, whether or not a request was made. */
export interface AttemptResult {
  delivered: boolean;
  status: number | null;
  errorClass: AttemptErrorClass | null;
  errorMessage: string | null;
  durationMs: number;
  requestHeaders: Record<string, string>;
  responseHeaders: Record<string, string>;
  bodyExcerpt: string;
  startedAt: Date;
  finishedAt: Date;
}
