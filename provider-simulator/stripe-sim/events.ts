/**
 * Stripe webhook events (`payment_intent.succeeded`, `.payment_failed`, `.canceled`, `.processing`),
 * one per request, signed with `Stripe-Signature` by the gateway's own signer (one `v1` per secret, as
 * Stripe does while a secret is being rolled). Each retry is signed afresh with the send time.
 */
import { randomBytes } from 'node:crypto';
import { signStripeSim } from '../../gateway/provider/stripe-sim.js';
import type { NotificationFormat, NotificationItem } from '../callbacks/format.js';
import type { SimPayment } from '../model.js';
import { paymentIntent, type StripeStatus } from './payment-intent.js';

const API_VERSION = '2024-06-20';

function eventType(item: NotificationItem): { type: string; status: StripeStatus } {
  if (item.outcome === 'approved') return { type: 'payment_intent.succeeded', status: 'succeeded' };
  if (item.outcome === 'pending') return { type: 'payment_intent.processing', status: 'processing' };
  if (item.code === 'canceled') return { type: 'payment_intent.canceled', status: 'canceled' };
  return { type: 'payment_intent.payment_failed', status: 'requires_payment_method' };
}

export function stripeNotifications(options: {
  secrets: readonly string[];
  checkoutUrl: (payment: SimPayment) => string;
}): NotificationFormat {
  return {
    canBatch: false,
    newNotificationId: () => `evt_${randomBytes(12).toString('hex')}`,
    render(payment, items) {
      const item = items[0]!;
      const { type, status } = eventType(item);
      const event = {
        id: item.id,
        object: 'event',
        api_version: API_VERSION,
        created: Math.floor(item.createdAt.getTime() / 1000),
        type,
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: payment.input.idempotencyKey },
        data: {
          object: paymentIntent(payment, options.checkoutUrl(payment), {
            status,
            declineCode: item.outcome === 'declined' ? item.code : null,
          }),
        },
      };
      const body = Buffer.from(JSON.stringify(event, null, 2), 'utf8');
      return {
        body,
        headers: (now) => ({
          'content-type': 'application/json; charset=utf-8',
          'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          ...(options.secrets.length > 0
            ? { 'stripe-signature': signStripeSim(body, options.secrets, now) }
            : {}),
        }),
      };
    },
  };
}
