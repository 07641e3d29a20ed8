/**
 * The part every connector shares: build the endpoint URL, send one request through `exchange`, map the
 * answer (or the lack of one) to a PaymentOutcome, and log the call without credentials or customer data.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../../core/logger.js';
import { failed, transportFailure, unreadableAnswer } from './failures.js';
import { exchange } from './http-exchange.js';
import type { PaymentOutcome, PaymentRequest } from './types.js';

export interface ProviderCall {
  providerId: string;
  operation: 'create_payment' | 'submit_customer_data';
  request: PaymentRequest;
  /** Path under the account's `apiBaseUrl`, e.g. `/v1/payment_intents`. */
  path: string;
  /** Includes credentials: never logged. */
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Maps the provider's answer; throwing counts as an unreadable answer. */
  toOutcome(status: number, body: Buffer): PaymentOutcome;
}

/** The account's API base URL joined with `path`, or undefined when the base is not an http(s) URL. */
export function endpointUrl(apiBaseUrl: string, path: string): URL | undefined {
  try {
    const base = new URL(apiBaseUrl);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') return undefined;
    return new URL(`${base.pathname.replace(/\/+$/, '')}${path}`, base);
  } catch {
    return undefined;
  }
}

/**
 * The idempotency key of a customer-data submission: derived from the attempt's key and the submitted
 * data, so re-driving the same submission is idempotent while a corrected submission is a new request.
 */
export function submissionKey(idempotencyKey: string, customer: Readonly<Record<string, string>>): string {
  const data = JSON.stringify(Object.entries(customer).sort(([a], [b]) => a.localeCompare(b)));
  return `cd_${createHash('sha256').update(`${idempotencyKey}\n${data}`).digest('base64url').slice(0, 40)}`;
}

export async function callProvider(call: ProviderCall, logger: Logger): Promise<PaymentOutcome> {
  const { request } = call;
  const log = logger.child({
    providerId: call.providerId,
    subMidId: request.account.subMidId,
    transactionId: request.transactionId,
    attemptId: request.attemptId,
    operation: call.operation,
  });
  const url = endpointUrl(request.account.apiBaseUrl, call.path);
  if (!url) {
    log.error('provider call not made: the account has no valid apiBaseUrl');
    return failed('inactive_config', 'invalid_api_base_url', false);
  }
  const started = performance.now();
  const result = await exchange({
    url,
    method: 'POST',
    headers: call.headers,
    body: call.body,
    timeoutMs: call.timeoutMs,
  });
  let outcome: PaymentOutcome;
  if (result.kind === 'response') {
    try {
      outcome = call.toOutcome(result.status, result.body);
    } catch {
      outcome = unreadableAnswer(result.status);
    }
  } else {
    outcome = transportFailure(result);
  }
  log.info('provider call finished', {
    httpStatus: result.kind === 'response' ? result.status : null,
    transport: result.kind,
    outcome: outcome.kind,
    ...(outcome.kind === 'failed'
      ? { failureKind: outcome.failureKind, code: outcome.code, outcomeUnknown: outcome.outcomeUnknown }
      : {}),
    durationMs: Math.round(performance.now() - started),
  });
  return outcome;
}

/** The named credential, or undefined when it is missing or blank. */
export function credential(request: PaymentRequest, name: string): string | undefined {
  const value = request.account.credentials[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}
