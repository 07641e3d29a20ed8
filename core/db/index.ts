export { migrate, MIGRATIONS } from './migrate.js';
export { PartitionLeases } from './partition-leases.js';
export {
  DatabaseUnavailableError,
  isDatabaseUnavailable,
  isDependencyUnavailable,
  withDatabaseDeadline,
} from './availability.js';
