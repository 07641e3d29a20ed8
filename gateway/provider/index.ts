export {
  providerGatewayRoutes,
  DEFAULT_BODY_TIMEOUT_MS,
  DEFAULT_MAX_CALLBACK_BYTES,
  DEFAULT_MAX_IN_FLIGHT,
  type CallbackOutcome,
  type ProviderGatewayObserver,
  type ProviderGatewayOptions,
} from './routes.js';
export { providerCallbackMetrics } from './metrics.js';
export {
  decodeProviderCallback,
  encodeProviderCallback,
  PROVIDER_CALLBACK_CONTENT_TYPE,
  PROVIDER_CALLBACK_HEADERS,
  PROVIDER_CALLBACKS_TOPIC,
  type ProviderCallbackEnvelope,
} from './envelope.js';
export { createProviderRegistry, PROVIDERS, type ProviderRegistryOptions } from './providers.js';
export {
  createStripeSimProvider,
  parseStripeSignatureHeader,
  signStripeSim,
  STRIPE_DEFAULT_TOLERANCE_SECONDS,
  STRIPE_SIGNATURE_HEADER,
  STRIPE_SIM_ID,
  verifyStripeSim,
} from './stripe-sim.js';
export {
  ADYEN_SIM_ID,
  adyenHmac,
  adyenSigningString,
  createAdyenSimProvider,
  isAdyenHmacKey,
  signAdyenItem,
  verifyAdyenSim,
} from './adyen-sim.js';
export type {
  CallbackProvider,
  ProviderRegistry,
  ProviderSecrets,
  RequestHeaders,
  SuccessResponse,
  VerifyFailure,
  VerifyResult,
} from './types.js';
