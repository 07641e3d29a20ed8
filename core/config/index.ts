export {
  loadConfig,
  loadDatabaseConfig,
  CONFIG_VARIABLES,
  CONFIG_PLACEHOLDER,
  SERVICES,
  type Config,
  type ServiceName,
  type BrokerConfig,
  type DatabaseConfig,
  DEV_SESSION_TOKEN_SECRET,
  type MerchantApiConfig,
  type RoutingConfig,
  type SimulatorConfig,
} from './load-config.js';
export type { Env } from './parsers.js';
