export {
  merchantApi,
  MERCHANT_API_PREFIX,
  DEFAULT_BODY_TIMEOUT_MS,
  DEFAULT_DATABASE_TIMEOUT_MS,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_SESSION_TTL_SECONDS,
  type MerchantApi,
  type MerchantApiOptions,
} from './routes.js';
export { merchantApiMetrics, type MerchantApiObserver, type DepositMetricOutcome } from './metrics.js';
export { openApiDocument } from './openapi.js';
export { parseDepositRequest, PAYMENT_METHODS, type DepositRequest } from './deposit-request.js';
export { acceptDeposit, type DepositOutcome, type StoredDeposit } from './deposits.js';
export { SessionLinks } from './session-links.js';
