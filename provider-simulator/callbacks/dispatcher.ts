/**
 * Sends a payment's callbacks to the callback URL of its request, like a PSP: signed in the provider's
 * format, retried on any non-2xx answer or network error after `retryDelaysMs`, then given up.
 *
 * The deliveries of one payment go out one after another (a retried callback holds back the next one),
 * so the order the receiver sees is exactly the scripted delivery order. Different payments do not wait
 * for each other.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { coerceError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { CallbackLogEntry, CallbackScript, SimPayment, SimProviderId } from '../model.js';
import type { NotificationFormat, NotificationItem, RenderedNotification } from './format.js';
import { planDeliveries, type PlannedDelivery } from './plan.js';

export interface DispatcherOptions {
  formats: Record<SimProviderId, NotificationFormat>;
  /** Pause before each retry; its length is the number of retries. */
  retryDelaysMs: readonly number[];
  /** One callback request that takes longer counts as failed. */
  requestTimeoutMs: number;
  logger: Logger;
  record(entry: Omit<CallbackLogEntry, 'seq'>): void;
}

export class CallbackDispatcher {
  private epoch = new AbortController();
  private readonly chains = new Map<string, Promise<void>>();
  private closed = false;

  constructor(private readonly options: DispatcherOptions) {}

  /** Schedules a script's deliveries, timed from `trigger`, after the payment's earlier ones. */
  schedule(payment: SimPayment, script: CallbackScript, trigger: Date = new Date()): void {
    if (this.closed) return;
    const format = this.options.formats[payment.input.provider];
    const deliveries = planDeliveries(script, format.canBatch);
    if (deliveries.length === 0) return;
    // Ids, timestamps and bodies are fixed now: a copy or a retry repeats the same notification.
    const items = new Map<number, NotificationItem>();
    for (const delivery of deliveries) {
      for (const item of delivery.items) {
        if (items.has(item.index)) continue;
        const createdAt = new Date(trigger.getTime() + item.index);
        items.set(item.index, { ...item, id: format.newNotificationId(payment, item), createdAt });
      }
    }
    const rendered = new Map<string, RenderedNotification>();
    const renderOnce = (delivery: PlannedDelivery) => {
      const key = delivery.items.map((item) => item.index).join(',');
      let notification = rendered.get(key);
      if (!notification) {
        notification = format.render(
          payment,
          delivery.items.map((item) => items.get(item.index)!),
        );
        rendered.set(key, notification);
      }
      return notification;
    };

    const signal = this.epoch.signal;
    const previous = this.chains.get(payment.id) ?? Promise.resolve();
    const chain = previous
      .then(async () => {
        for (const delivery of deliveries) {
          const wait = trigger.getTime() + delivery.deliverAfterMs - Date.now();
          if (wait > 0) await sleep(wait, undefined, { signal });
          const notificationItems = delivery.items.map((item) => items.get(item.index)!);
          await this.deliver(payment, renderOnce(delivery), notificationItems, delivery.copy, signal);
        }
      })
      .catch((error: unknown) => {
        if (!signal.aborted)
          this.options.logger.error('callback delivery failed', { error: coerceError(error).message });
      });
    this.chains.set(payment.id, chain);
    void chain.then(() => {
      if (this.chains.get(payment.id) === chain) this.chains.delete(payment.id);
    });
  }

  /** Resolves once no callback is scheduled or in flight. */
  async idle(): Promise<void> {
    while (this.chains.size > 0) await Promise.allSettled([...this.chains.values()]);
  }

  /** Drops everything scheduled (the control API's reset). */
  cancelAll(): void {
    this.epoch.abort();
    this.epoch = new AbortController();
    this.chains.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    const pending = [...this.chains.values()];
    this.cancelAll();
    await Promise.allSettled(pending);
  }

  private async deliver(
    payment: SimPayment,
    notification: RenderedNotification,
    items: NotificationItem[],
    copy: number,
    signal: AbortSignal,
  ): Promise<void> {
    const { provider, callbackUrl } = payment.input;
    const base = {
      provider,
      paymentId: payment.id,
      notificationId: items.map((item) => item.id).join(','),
      outcomes: items.map((item) => item.outcome),
      copy,
    };
    const log = this.options.logger.child({
      provider,
      paymentId: payment.id,
      notificationId: base.notificationId,
    });
    if (!callbackUrl) {
      this.record(base, { attempt: 0, url: '', httpStatus: null, error: 'no callback URL in the request' });
      return;
    }
    for (let attempt = 1; ; attempt++) {
      const { httpStatus, error } = await this.post(callbackUrl, notification, signal);
      if (signal.aborted) return;
      const delivered = httpStatus !== null && httpStatus >= 200 && httpStatus < 300;
      this.record(base, { attempt, url: callbackUrl, httpStatus, error });
      if (delivered) {
        log.info('callback delivered', { attempt, httpStatus });
        return;
      }
      const delay = this.options.retryDelaysMs[attempt - 1];
      if (delay === undefined) {
        log.warn('callback given up after retries', { attempt, httpStatus, error });
        return;
      }
      log.info('callback not accepted; will retry', { attempt, httpStatus, error, retryInMs: delay });
      await sleep(delay, undefined, { signal });
    }
  }

  private async post(
    url: string,
    notification: RenderedNotification,
    signal: AbortSignal,
  ): Promise<{ httpStatus: number | null; error: string | null }> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: notification.headers(new Date()),
        body: notification.body,
        redirect: 'manual',
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.options.requestTimeoutMs)]),
      });
      await response.arrayBuffer();
      return { httpStatus: response.status, error: null };
    } catch (thrown) {
      const error = coerceError(thrown);
      const code = (error.cause as { code?: unknown } | undefined)?.code;
      return { httpStatus: null, error: typeof code === 'string' ? code : error.name };
    }
  }

  private record(
    base: Pick<CallbackLogEntry, 'provider' | 'paymentId' | 'notificationId' | 'outcomes' | 'copy'>,
    attempt: Pick<CallbackLogEntry, 'attempt' | 'url' | 'httpStatus' | 'error'>,
  ): void {
    const delivered = attempt.httpStatus !== null && attempt.httpStatus >= 200 && attempt.httpStatus < 300;
    this.options.record({ ...base, ...attempt, delivered, at: new Date().toISOString() });
  }
}
