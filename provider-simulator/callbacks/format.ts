/** What a provider front end supplies so the dispatcher can send its notifications. */
import type { SimPayment } from '../model.js';
import type { PlannedItem } from './plan.js';

export interface NotificationItem extends PlannedItem {
  /** The provider's id of this notification (copies repeat it). */
  id: string;
  /** When the provider "produced" it; follows logical order. */
  createdAt: Date;
}

export interface RenderedNotification {
  /** Sent unchanged on every copy and retry, as PSPs do. */
  body: Buffer;
  /** Headers for one send; Stripe signs with the send time, so each retry gets a fresh signature. */
  headers(now: Date): Record<string, string>;
}

export interface NotificationFormat {
  /** Adyen sends several items in one body; Stripe one event per request. */
  readonly canBatch: boolean;
  newNotificationId(payment: SimPayment, item: PlannedItem): string;
  render(payment: SimPayment, items: NotificationItem[]): RenderedNotification;
}
