/**
 * Every problem (RFC 9457) the back-office API answers with: a stable `code`, a title and a detail that
 * never reveals internals. Another merchant's transaction is NOT_FOUND (never FORBIDDEN), so a merchant
 * user cannot even learn that it exists. The OpenAPI document lists the codes per response.
 */
import type { Problem } from '../core/http/problem.js';

export interface ParameterError {
  parameter: string;
  detail: string;
}

export const problems = {
  unauthorized: (): Problem => ({
    status: 401,
    code: 'UNAUTHORIZED',
    title: 'Unauthorized',
    detail: 'send a valid, unexpired back-office access token as "Authorization: Bearer <token>"',
  }),
  forbidden: (permission: string): Problem => ({
    status: 403,
    code: 'FORBIDDEN',
    title: 'Forbidden',
    detail: `your roles do not grant ${permission}`,
  }),
  invalidRequest: (errors: ParameterError[]): Problem => ({
    status: 400,
    code: 'INVALID_REQUEST',
    title: 'Invalid request',
    detail: `the request has ${errors.length} invalid parameter${errors.length === 1 ? '' : 's'}; see errors`,
    extensions: { errors },
  }),
  notFound: (): Problem => ({
    status: 404,
    code: 'NOT_FOUND',
    title: 'Not found',
    detail: 'no such resource',
  }),
  methodNotAllowed: (): Problem => ({
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
    title: 'Method not allowed',
    detail: 'see the Allow header',
  }),
  notResendable: (): Problem => ({
    status: 409,
    code: 'WEBHOOK_NOT_RESENDABLE',
    title: 'Webhook cannot be resent',
    detail: 'this webhook had no URL to send to when it was requested',
  }),
  databaseUnavailable: (): Problem => ({
    status: 503,
    code: 'SERVICE_UNAVAILABLE',
    title: 'Service unavailable',
    detail: 'the database did not answer in time; retry later',
  }),
};
