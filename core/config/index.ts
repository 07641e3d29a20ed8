export {
  loadConfig,
  CONFIG_VARIABLES,
  SERVICES,
  type Config,
  type ServiceName,
  type BrokerConfig,
  type DatabaseConfig,
} from './load-config.js';
export type { Env } from './parsers.js';
