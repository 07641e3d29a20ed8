export {
  backofficeRoutes,
  BACKOFFICE_API_PREFIX,
  BACKOFFICE_PREFIX,
  DEFAULT_BACKOFFICE_DATABASE_TIMEOUT_MS,
  type Backoffice,
  type BackofficeOptions,
} from './routes.js';
export {
  createBackofficeUser,
  disableBackofficeUser,
  issueAccessToken,
  BackofficeUserError,
  type IssuedToken,
  type NewBackofficeUser,
} from './users.js';
export { authenticateAccessToken, type TokenCheck } from './authentication.js';
export {
  PERMISSIONS,
  ROLES,
  ROLE_NAMES,
  MERCHANT_GRANTABLE,
  permissionsOf,
  roleProblem,
  type Permission,
  type RoleName,
  type UserKind,
} from './permissions.js';
export type { Principal } from './principal.js';
export { openApiDocument } from './openapi.js';
