/**
 * Every problem (RFC 9457) the back-office API answers with: a stable `code`, a title and a detail that
 * never reveals internals. Another merchant's transaction is NOT_FOUND (never FORBIDDEN), so a merchant
 * user cannot even learn that it exists. The OpenAPI document lists the codes per response. Codes every
 * API shares (core/http/common-problems.ts) keep their shared title; only the wording here is ours.
 */
import { commonProblems } from '../core/http/common-problems.js';
import type { Problem } from '../core/http/problem.js';

export interface ParameterError {
  parameter: string;
  detail: string;
}

export const problems = {
  unauthorized: (): Problem =>
    commonProblems.unauthorized(
      'send a valid, unexpired back-office access token as "Authorization: Bearer <token>"',
    ),
  forbidden: (permission: string): Problem => ({
    status: 403,
    code: 'FORBIDDEN',
    title: 'Forbidden',
    detail: `your roles do not grant ${permission}`,
  }),
  invalidRequest: (errors: ParameterError[]): Problem => commonProblems.invalidRequest(errors, 'parameter'),
  notFound: commonProblems.notFound,
  methodNotAllowed: commonProblems.methodNotAllowed,
  notResendable: (): Problem => ({
    status: 409,
    code: 'WEBHOOK_NOT_RESENDABLE',
    title: 'Webhook cannot be resent',
    detail: 'this webhook had no URL to send to when it was requested',
  }),
  databaseUnavailable: (): Problem =>
    commonProblems.serviceUnavailable('the database did not answer in time; retry later'),
};
