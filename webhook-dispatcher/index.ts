export { signWebhook, newWebhookSecret, type SignedHeaders } from './signature.js';
export {
  nextRetry,
  parseRetryAfter,
  DEFAULT_WEBHOOK_SCHEDULE_MS,
  type RetryDecision,
} from './retry-schedule.js';
export {
  classifyAddress,
  resolveAllowedTarget,
  ForbiddenUrlError,
  type AddressClass,
  type UrlPolicy,
} from './ssrf-guard.js';
export {
  deliverOnce,
  type DeliveryRequest,
  type DeliveryResult,
  type DeliveryErrorClass,
} from './http-delivery.js';
export type {
  AttemptCommand,
  AttemptErrorClass,
  AttemptResult,
  AttemptTrigger,
  Delivery,
  DeliveryState,
} from './model.js';
export { buildWebhookPayload, merchantSafeStatus, type WebhookPayload } from './payload.js';
export { planAttempt, decideOutcome, type AttemptPlan, type OutcomeDecision } from './attempt-plan.js';
export { WEBHOOK_ATTEMPTS_TOPIC, WEBHOOK_ATTEMPTS_GROUP } from './attempt-messages.js';
export { HostGate, hostKey, deferDelay, type Admission, type HostGateLimits } from './host-gate.js';
export {
  WebhookDispatcher,
  type WebhookDispatcherOptions,
  type WebhookDispatcherSettings,
} from './dispatcher.js';
export {
  startWebhookDispatcher,
  type StartWebhookDispatcherOptions,
  type RunningWebhookDispatcher,
} from './start.js';
export {
  requestResend,
  WebhookNotFoundError,
  WebhookNotResendableError,
  type ResendRequest,
} from './resend.js';
export { webhookMetrics, type WebhookObserver } from './metrics.js';
export {
  claimOverdueAttempts,
  OverdueSweeper,
  type OverdueAttempt,
  type OverdueSweepSettings,
} from './overdue-sweep.js';
