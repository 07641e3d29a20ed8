/** Public surface of the provider simulator (see README.md). */
export {
  startProviderSimulator,
  DEFAULT_CALLBACK_RETRY_DELAYS_MS,
  type ProviderSimulatorOptions,
  type RunningSimulator,
} from './server.js';
export { MAGIC_AMOUNTS, defaultBehaviour } from './behaviour.js';
export { DEFAULT_REQUIRED_FIELDS, KNOWN_FIELDS } from './fields.js';
export type {
  Behaviour,
  CallbackLogEntry,
  CallbackOutcome,
  CallbackStep,
  RequestLogEntry,
  Scenario,
  ScenarioMatch,
  SimProviderId,
} from './model.js';
export { SIM_PROVIDERS } from './model.js';
