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
