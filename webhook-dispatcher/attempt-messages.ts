/**
 * The dispatcher's own work queue: one message per attempt to make, on `payments.webhook-attempts.v1`
 * keyed by transaction id (so one transaction's attempts are handled one at a time). Retries reach it
 * through the broker's delay tiers; resend requests through the outbox. JSON, not Avro: these messages
 * are internal to the dispatcher and never part of the data team's event stream.
 */
import { NonRetryableError } from '../core/errors.js';
import type { OutgoingMessage } from '../core/broker/index.js';
import type { AttemptCommand } from './model.js';

export const WEBHOOK_ATTEMPTS_TOPIC = 'payments.webhook-attempts.v1';

/** Consumer group of the attempts topic. Not the business-topic group: Kafka groups should read one topic. */
export const WEBHOOK_ATTEMPTS_GROUP = 'webhook-dispatcher-attempts';

const CONTENT_TYPE = 'application/vnd.payments.webhook-attempt+json; version=1';

export function attemptMessage(transactionId: string, command: AttemptCommand): OutgoingMessage {
  return {
    key: transactionId,
    value: Buffer.from(JSON.stringify(command)),
    headers: {
      'content-type': CONTENT_TYPE,
      'webhook-attempt': `${command.deliveryId}#${command.attemptNumber}`,
    },
  };
}

/** Parses an attempt message; a message that is not one goes to the dead-letter topic. */
export function parseAttemptMessage(value: Buffer): AttemptCommand {
  let parsed: Partial<AttemptCommand>;
  try {
    parsed = JSON.parse(value.toString('utf8')) as Partial<AttemptCommand>;
  } catch (error) {
    throw new NonRetryableError('webhook attempt message is not JSON', { cause: error });
  }
  const valid =
    typeof parsed === 'object' &&
    parsed !== null &&
    typeof parsed.deliveryId === 'string' &&
    Number.isSafeInteger(parsed.attemptNumber) &&
    (parsed.trigger === 'automatic' || parsed.trigger === 'manual_resend') &&
    typeof parsed.correlationId === 'string';
  if (!valid) throw new NonRetryableError('malformed webhook attempt message');
  return {
    deliveryId: parsed.deliveryId!,
    attemptNumber: parsed.attemptNumber!,
    trigger: parsed.trigger!,
    requestedBy: typeof parsed.requestedBy === 'string' ? parsed.requestedBy : null,
    correlationId: parsed.correlationId!,
    causationId: typeof parsed.causationId === 'string' ? parsed.causationId : null,
    deferrals: Number.isSafeInteger(parsed.deferrals) ? parsed.deferrals! : 0,
  };
}
