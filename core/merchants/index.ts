export {
  API_KEY_PREFIX,
  apiKeyId,
  apiKeyMatches,
  hashApiKey,
  mintApiKey,
  type MintedApiKey,
} from './api-key-format.js';
export {
  authenticateApiKey,
  issueApiKey,
  revokeApiKey,
  type AuthenticatedMerchant,
  type AuthenticationResult,
} from './api-keys.js';
export { ApiKeyCache, type ApiKeyCacheOptions } from './api-key-cache.js';
export { createMerchant, setMerchantStatus, type CreatedMerchant, type NewMerchant } from './merchants.js';
export {
  activeWebhookSecrets,
  addWebhookSecret,
  DEFAULT_ROTATION_OVERLAP_SECONDS,
  newWebhookSecret,
  rotateWebhookSecret,
  WEBHOOK_SECRET_PREFIX,
} from './webhook-secrets.js';
