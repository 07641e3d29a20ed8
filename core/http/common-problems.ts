/**
 * The problems (RFC 9457) every public API of the platform answers the same way: the stable `code` and
 * the title are shared so clients see one vocabulary; where the wording depends on the API (which
 * credential to send, what could not be stored) the API passes the detail. Each API keeps its own
 * `problems` module for the codes only it uses. Pure.
 */
import type { Problem } from './problem.js';

export const commonProblems = {
  /** `detail` says which credential to send and how. */
  unauthorized: (detail: string): Problem => ({
    status: 401,
    code: 'UNAUTHORIZED',
    title: 'Unauthorized',
    detail,
  }),
  /** `errors` are listed as the `errors` member; `noun` is what each error names (a field, a parameter). */
  invalidRequest: (errors: readonly unknown[], noun: 'field' | 'parameter'): Problem => ({
    status: 400,
    code: 'INVALID_REQUEST',
    title: 'Invalid request',
    detail: `the request has ${errors.length} invalid ${noun}${errors.length === 1 ? '' : 's'}; see errors`,
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
  /** `detail` says what was unavailable and whether repeating the request is safe. */
  serviceUnavailable: (detail: string): Problem => ({
    status: 503,
    code: 'SERVICE_UNAVAILABLE',
    title: 'Service unavailable',
    detail,
  }),
};
