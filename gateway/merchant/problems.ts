/**
 * Every problem (RFC 9457) the merchant API answers with, in one place: the stable `code` merchants
 * program against, a title, and a detail that never reveals internals. The OpenAPI document lists the
 * codes per response. Codes every API shares come from core/http/common-problems.ts.
 */
import { commonProblems } from '../../core/http/common-problems.js';
import type { Problem } from '../../core/http/problem.js';
import type { FieldError } from './field-errors.js';

export const problems = {
  unauthorized: (): Problem =>
    commonProblems.unauthorized('send a valid, unrevoked API key as "Authorization: Bearer <key>"'),
  merchantDisabled: (): Problem => ({
    status: 403,
    code: 'MERCHANT_DISABLED',
    title: 'Merchant disabled',
    detail: 'this merchant account is disabled; contact support',
  }),
  invalidRequest: (errors: FieldError[]): Problem => commonProblems.invalidRequest(errors, 'field'),
  malformedJson: (): Problem => ({
    status: 400,
    code: 'MALFORMED_JSON',
    title: 'Malformed JSON',
    detail: 'the body is not valid UTF-8 JSON',
  }),
  bodyAborted: (): Problem => ({
    status: 400,
    code: 'BODY_ABORTED',
    title: 'Body aborted',
    detail: 'the request body was not received completely',
  }),
  bodyTimeout: (timeoutMs: number): Problem => ({
    status: 408,
    code: 'BODY_TIMEOUT',
    title: 'Request timeout',
    detail: `the body was not received within ${timeoutMs} ms`,
  }),
  payloadTooLarge: (limitBytes: number): Problem => ({
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    title: 'Payload too large',
    detail: `request bodies are limited to ${limitBytes} bytes`,
  }),
  unsupportedMediaType: (): Problem => ({
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    title: 'Unsupported media type',
    detail: 'send the body as application/json (UTF-8, not content-encoded)',
  }),
  idempotencyConflict: (merchantTransactionId: string): Problem => ({
    status: 409,
    code: 'MERCHANT_TRANSACTION_ID_REUSED',
    title: 'Merchant transaction id already used',
    detail: `merchantTransactionId "${merchantTransactionId}" was already used for a different request; repeat the original request exactly, or use a new id`,
  }),
  notFound: commonProblems.notFound,
  methodNotAllowed: commonProblems.methodNotAllowed,
  databaseUnavailable: (): Problem =>
    commonProblems.serviceUnavailable(
      'the request could not be stored right now; retry later with the same request',
    ),
};
