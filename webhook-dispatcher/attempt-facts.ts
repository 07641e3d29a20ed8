/**
 * The business facts one recorded attempt produces, with their timeline views. Pure.
 *
 * Merchant view: what the merchant's own users may see (attempt number, HTTP status, error class,
 * when the next try is) — never headers, signatures, URLs (they may embed tokens) or response bodies.
 * Internal view (platform users with permission) adds the target origin, the error message, the
 * duration, who asked for a resend and the retry delay.
 */
import { fact, type Fact } from '../core/transactions/journal.js';
import type { OutcomeDecision } from './attempt-plan.js';
import type { AttemptCommand, AttemptResult } from './model.js';

export function attemptFacts(input: {
  webhookId: string;
  url: string;
  command: Pick<AttemptCommand, 'attemptNumber' | 'trigger' | 'requestedBy'>;
  result: AttemptResult;
  decision: OutcomeDecision;
  /** Attempts recorded for the delivery, including this one. */
  totalAttempts: number;
}): Fact[] {
  const { webhookId, command, result, decision } = input;
  const base = { webhookId, attemptNumber: command.attemptNumber, trigger: command.trigger };
  const internal = {
    ...base,
    target: originOf(input.url),
    httpStatus: result.status,
    errorClass: result.errorClass,
    errorMessage: result.errorMessage,
    durationMs: result.durationMs,
    requestedBy: command.requestedBy,
  };
  const occurredAt = result.finishedAt;
  if (result.delivered) {
    return [
      fact(
        'MerchantWebhookDelivered',
        { ...base, httpStatus: result.status ?? 0, durationMs: result.durationMs },
        { ...base, httpStatus: result.status },
        { internal, occurredAt },
      ),
    ];
  }
  const facts: Fact[] = [
    fact(
      'MerchantWebhookFailed',
      {
        ...base,
        httpStatus: result.status,
        errorClass: result.errorClass ?? 'unknown',
        durationMs: result.durationMs,
      },
      { ...base, httpStatus: result.status, errorClass: result.errorClass },
      { internal, occurredAt },
    ),
  ];
  if (decision.nextAttempt) {
    const next = decision.nextAttempt;
    facts.push(
      fact(
        'MerchantWebhookRetryScheduled',
        { webhookId, nextAttemptNumber: next.number, nextAttemptAt: next.at },
        { webhookId, nextAttemptNumber: next.number, nextAttemptAt: next.at.toISOString() },
        { internal: { webhookId, nextAttemptNumber: next.number, delayMs: next.delayMs }, occurredAt },
      ),
    );
  }
  if (decision.exhausted) {
    facts.push(
      fact(
        'MerchantWebhookRetryExhausted',
        { webhookId, attempts: input.totalAttempts },
        { webhookId, attempts: input.totalAttempts },
        { internal: { webhookId, attempts: input.totalAttempts }, occurredAt },
      ),
    );
  }
  return facts;
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}
