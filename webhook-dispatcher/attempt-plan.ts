/**
 * The dispatcher's decisions, pure: whether an attempt message should send, and what a finished
 * attempt changes (state, next retry). Every input (delivery row, recorded attempt, clock, randomness)
 * is passed in, so the crash and redelivery cases are tested without a network or a database.
 */
import type { AttemptCommand, Delivery, DeliveryState } from './model.js';
import { nextRetry } from './retry-schedule.js';

/** An attempt message arriving a little before its due time (clock skew) still runs. */
const EARLY_TOLERANCE_MS = 1_000;

export type AttemptPlan =
  | { kind: 'send' }
  /** Already done: nothing to send. */
  | { kind: 'skip'; reason: string }
  /**
   * Re-publish the attempt message of the scheduled retry: the attempt that scheduled it was recorded,
   * but the process may have died before the retry message was published (or the message came early).
   */
  | { kind: 'republish'; attemptNumber: number; dueAt: Date };

/**
 * What to do with an attempt message, given the delivery and the attempt row recorded for the same
 * (delivery, attempt number), if any. A recorded attempt is never sent again.
 */
export function planAttempt(
  delivery: Pick<Delivery, 'state' | 'url' | 'nextAttemptNumber' | 'nextAttemptAt'>,
  recorded: { nextAttemptNumber: number | null } | undefined,
  command: Pick<AttemptCommand, 'attemptNumber' | 'trigger'>,
  now: Date,
): AttemptPlan {
  if (recorded) {
    const scheduled = recorded.nextAttemptNumber;
    if (
      scheduled !== null &&
      delivery.state === 'pending' &&
      delivery.nextAttemptNumber === scheduled &&
      delivery.nextAttemptAt
    ) {
      return { kind: 'republish', attemptNumber: scheduled, dueAt: delivery.nextAttemptAt };
    }
    return { kind: 'skip', reason: 'attempt already recorded' };
  }
  if (delivery.url === null) return { kind: 'skip', reason: 'delivery has no URL' };
  if (command.trigger === 'manual_resend') return { kind: 'send' };
  if (delivery.state !== 'pending') return { kind: 'skip', reason: `delivery is ${delivery.state}` };
  if (delivery.nextAttemptNumber !== command.attemptNumber) {
    return { kind: 'skip', reason: 'attempt is not the scheduled one' };
  }
  if (delivery.nextAttemptAt && delivery.nextAttemptAt.getTime() - now.getTime() > EARLY_TOLERANCE_MS) {
    return { kind: 'republish', attemptNumber: command.attemptNumber, dueAt: delivery.nextAttemptAt };
  }
  return { kind: 'send' };
}

export interface OutcomeDecision {
  state: DeliveryState;
  /** The automatic retry after this attempt; `null` clears any scheduled one, `undefined` keeps it. */
  nextAttempt: { number: number; at: Date; delayMs: number } | null | undefined;
  /** This attempt made the delivery delivered (it was not before). */
  newlyDelivered: boolean;
  /** This attempt was the last of the schedule. */
  exhausted: boolean;
}

/**
 * The delivery after an attempt. Any delivered attempt (automatic or manual) delivers it and cancels a
 * scheduled retry. A failed automatic attempt that is the scheduled one retries on the schedule
 * (`Retry-After` honoured within bounds) or exhausts it. A failed manual resend changes nothing: the
 * automatic schedule, if any, goes on.
 */
export function decideOutcome(input: {
  delivery: Pick<Delivery, 'state' | 'lastAttemptNumber' | 'nextAttemptNumber'>;
  command: Pick<AttemptCommand, 'attemptNumber' | 'trigger'>;
  delivered: boolean;
  /** Automatic attempts recorded for this delivery, including this one. */
  automaticAttempts: number;
  schedule: readonly number[];
  retryAfterMs?: number | undefined;
  maxRetryAfterMs?: number;
  random?: () => number;
  now: Date;
}): OutcomeDecision {
  const { delivery, command } = input;
  if (input.delivered) {
    return {
      state: 'delivered',
      nextAttempt: null,
      newlyDelivered: delivery.state !== 'delivered',
      exhausted: false,
    };
  }
  const isScheduledAutomatic =
    command.trigger === 'automatic' &&
    delivery.state === 'pending' &&
    delivery.nextAttemptNumber === command.attemptNumber;
  if (!isScheduledAutomatic) {
    return { state: delivery.state, nextAttempt: undefined, newlyDelivered: false, exhausted: false };
  }
  const retry = nextRetry(input.schedule, input.automaticAttempts, {
    retryAfterMs: input.retryAfterMs,
    ...(input.maxRetryAfterMs === undefined ? {} : { maxRetryAfterMs: input.maxRetryAfterMs }),
    ...(input.random ? { random: input.random } : {}),
  });
  if (!retry.retry) return { state: 'exhausted', nextAttempt: null, newlyDelivered: false, exhausted: true };
  return {
    state: 'pending',
    nextAttempt: {
      number: delivery.lastAttemptNumber + 1,
      at: new Date(input.now.getTime() + retry.delayMs),
      delayMs: retry.delayMs,
    },
    newlyDelivered: false,
    exhausted: false,
  };
}
