/**
 * The database, not the broker, is the record of every scheduled webhook attempt: a pending delivery
 * names its next attempt and when it is due. The broker only carries the message that triggers it.
 * Should that message be lost (a broker that lost data, a delay topic purged by hand, a message
 * dead-lettered and never replayed), the delivery would stay pending for ever, silently.
 *
 * The sweep looks for pending deliveries whose next attempt is overdue by more than `graceMs` and
 * publishes that attempt's message again. Claiming moves the attempt's due time to now, so another
 * dispatcher replica (or the next sweep) leaves it alone for another grace period; `skip locked` lets
 * replicas sweep at once without waiting on each other. A copy of a message that was merely late is
 * harmless: attempt messages of one transaction are handled in order, and an attempt already recorded
 * is never sent again (attempt-plan.ts).
 *
 * The grace must exceed the longest a live attempt can take to be recorded (the HTTP timeout plus the
 * wait in a busy host's queue), or the sweep would send a second copy of an attempt still in flight.
 */
import type { Knex } from 'knex';
import type { Broker } from '../core/broker/index.js';
import type { Logger } from '../core/logger.js';
import { attemptMessage } from './attempt-messages.js';

export interface OverdueSweepSettings {
  /** Time between sweeps; 0 = no sweeping. */
  intervalMs: number;
  /** How late an attempt must be before the sweep re-publishes it. */
  graceMs: number;
  /** Most deliveries re-published per sweep. */
  limit?: number;
}

export interface OverdueAttempt {
  deliveryId: string;
  transactionId: string;
  attemptNumber: number;
  correlationId: string;
}

/** Claims up to `limit` overdue attempts (their due time becomes now) and returns them. */
export async function claimOverdueAttempts(
  knex: Knex,
  graceMs: number,
  limit: number,
): Promise<OverdueAttempt[]> {
  const result = await knex.raw(
    `with due as (
       select id from webhook_deliveries
       where state = 'pending' and next_attempt_number is not null
         and next_attempt_at < now() - ? * interval '1 millisecond'
       order by next_attempt_at
       limit ?
       for update skip locked
     )
     update webhook_deliveries w set next_attempt_at = now(), updated_at = now()
     from due where w.id = due.id
     returning w.id, w.transaction_id, w.next_attempt_number, w.correlation_id`,
    [graceMs, limit],
  );
  return (result.rows as Array<Record<string, unknown>>).map((row) => ({
    deliveryId: String(row.id),
    transactionId: String(row.transaction_id),
    attemptNumber: Number(row.next_attempt_number),
    correlationId: String(row.correlation_id),
  }));
}

/** Sweeps every `intervalMs` until stopped; one sweep at a time. */
export class OverdueSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly options: {
      knex: Knex;
      broker: Broker;
      attemptsTopic: string;
      logger: Logger;
      settings: OverdueSweepSettings;
      /** Attempts re-published by one sweep. */
      onSwept?: (count: number) => void;
    },
  ) {}

  start(): void {
    if (this.options.settings.intervalMs <= 0) return;
    this.schedule();
  }

  /** Claims overdue attempts and re-publishes them; returns how many. */
  async sweep(): Promise<number> {
    const { knex, broker, attemptsTopic, logger, settings } = this.options;
    const overdue = await claimOverdueAttempts(knex, settings.graceMs, settings.limit ?? 100);
    if (overdue.length === 0) return 0;
    await broker.publish(
      attemptsTopic,
      overdue.map((attempt) =>
        attemptMessage(attempt.transactionId, {
          deliveryId: attempt.deliveryId,
          attemptNumber: attempt.attemptNumber,
          trigger: 'automatic',
          requestedBy: null,
          correlationId: attempt.correlationId,
          causationId: null,
          deferrals: 0,
        }),
      ),
    );
    logger.warn('overdue webhook attempts published again (their messages were lost or very late)', {
      count: overdue.length,
      webhookIds: overdue.slice(0, 10).map((attempt) => attempt.deliveryId),
    });
    this.options.onSwept?.(overdue.length);
    return overdue.length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.sweep()
        .then(
          () => undefined,
          (error: unknown) =>
            this.options.logger.error('overdue webhook sweep failed; retrying at the next interval', {
              error,
            }),
        )
        .finally(() => this.schedule());
    }, this.options.settings.intervalMs);
    this.timer.unref();
  }
}
