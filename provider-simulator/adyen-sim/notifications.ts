/**
 * Adyen standard notifications: `{"live":"false","notificationItems":[{"NotificationRequestItem":{…}}]}`,
 * each item signed in `additionalData.hmacSignature` by the gateway's own signer (the first configured
 * HMAC key). approved = AUTHORISATION success "true", declined = AUTHORISATION success "false",
 * pending = PENDING, a customer who cancelled on the checkout page = OFFER_CLOSED. Several items in one
 * body when the script batches.
 */
import { signAdyenItem } from '../../gateway/provider/adyen-sim.js';
import type { Logger } from '../../core/logger.js';
import type { NotificationFormat, NotificationItem } from '../callbacks/format.js';
import type { SimPayment } from '../model.js';
import { adyenRefusal } from './refusals.js';

function event(item: Pick<NotificationItem, 'outcome' | 'code'>): {
  eventCode: string;
  success: 'true' | 'false';
  reason: string;
} {
  if (item.outcome === 'approved') return { eventCode: 'AUTHORISATION', success: 'true', reason: '' };
  if (item.outcome === 'pending') return { eventCode: 'PENDING', success: 'true', reason: '' };
  if (item.code === 'canceled')
    return { eventCode: 'OFFER_CLOSED', success: 'true', reason: 'Cancelled by shopper' };
  return { eventCode: 'AUTHORISATION', success: 'false', reason: adyenRefusal(item.code).reason };
}

/** Adyen's way to spot a duplicate: same payment, event code and success flag. */
export function adyenNotificationId(
  pspReference: string,
  item: Pick<NotificationItem, 'outcome' | 'code'>,
): string {
  const { eventCode, success } = event(item);
  return `${pspReference}:${eventCode}:${success}`;
}

export function adyenNotifications(options: {
  hmacKeys: readonly string[];
  logger: Logger;
}): NotificationFormat {
  const key = options.hmacKeys[0];
  return {
    canBatch: true,
    newNotificationId: (payment, item) => adyenNotificationId(payment.id, item),
    render(payment: SimPayment, items: NotificationItem[]) {
      const notificationItems = items.map((item) => {
        const { eventCode, success, reason } = event(item);
        const unsigned = {
          additionalData: {},
          amount: { value: payment.input.amountMinor, currency: payment.input.currency },
          eventCode,
          eventDate: item.createdAt.toISOString(),
          merchantAccountCode: payment.input.account,
          merchantReference: payment.input.reference ?? '',
          pspReference: payment.id,
          paymentMethod: payment.input.paymentMethod ?? 'scheme',
          reason,
          success,
        };
        return { NotificationRequestItem: key === undefined ? unsigned : signAdyenItem(unsigned, key) };
      });
      if (key === undefined)
        options.logger.warn('adyen-sim notification sent unsigned: no HMAC key configured');
      const body = Buffer.from(JSON.stringify({ live: 'false', notificationItems }), 'utf8');
      return { body, headers: () => ({ 'content-type': 'application/json' }) };
    },
  };
}
