/**
 * How a provider call that produced no usable answer becomes a failed PaymentOutcome, the same for
 * every provider. Pure.
 *
 *   timeout, or reset once connected      -> timeout / network, outcomeUnknown: true
 *   refused, DNS failure (never sent)     -> network, outcomeUnknown: false
 *   429                                   -> velocity_limited
 *   401, 403                              -> inactive_config (bad or disabled credentials / account)
 *   502, 503                              -> provider_error, not processed (the front door refused)
 *   500, 504 and other 5xx                -> provider_error, outcomeUnknown: true (may have been processed)
 *   other 4xx                             -> provider_error, not processed (the provider refused our request)
 */
import type { ExchangeResult } from './http-exchange.js';
import type { PaymentOutcome } from './types.js';

export type FailedOutcome = Extract<PaymentOutcome, { kind: 'failed' }>;

export function failed(
  failureKind: FailedOutcome['failureKind'],
  code: string | null,
  outcomeUnknown: boolean,
): FailedOutcome {
  return { kind: 'failed', failureKind, code, outcomeUnknown };
}

export function transportFailure(result: Exclude<ExchangeResult, { kind: 'response' }>): FailedOutcome {
  return result.kind === 'timeout'
    ? failed('timeout', 'timeout', result.sent)
    : failed('network', result.code, result.sent);
}

export function httpFailure(status: number, code: string | null): FailedOutcome {
  if (status === 429) return failed('velocity_limited', code, false);
  if (status === 401 || status === 403) return failed('inactive_config', code, false);
  if (status === 502 || status === 503) return failed('provider_error', code ?? `http_${status}`, false);
  if (status >= 500) return failed('provider_error', code ?? `http_${status}`, true);
  return failed('provider_error', code ?? `http_${status}`, false);
}

/** A success status with a body we cannot read: something happened at the provider. */
export function unreadableAnswer(status: number): FailedOutcome {
  return failed('provider_error', `unreadable_answer_${status}`, true);
}
