/**
 * Stripe's PaymentIntent and error objects as the simulator renders them, in API answers and in
 * webhook events (`data.object`). Pure.
 *
 * Simulator extension: customer fields are asked for with `status: "requires_action"` and
 * `next_action: {type: "collect_customer_data", collect_customer_data: {fields: […]}}`; they are sent back
 * with `POST /v1/payment_intents/:id/confirm` as `payment_method_data[billing_details][…]`.
 */
import { fieldsToAskFor } from '../fields.js';
import type { SimPayment } from '../model.js';

export type StripeStatus =
  'requires_action' | 'processing' | 'succeeded' | 'requires_payment_method' | 'canceled';

export function stripeStatus(payment: Pick<SimPayment, 'status'>): StripeStatus {
  switch (payment.status) {
    case 'requires_customer_data':
    case 'requires_action':
      return 'requires_action';
    case 'pending':
      return 'processing';
    case 'approved':
      return 'succeeded';
    case 'declined':
      return 'requires_payment_method';
    case 'canceled':
      return 'canceled';
  }
}

export function declineError(code: string): Record<string, unknown> {
  return {
    type: 'card_error',
    code: 'card_declined',
    decline_code: code,
    message: code === 'canceled' ? 'The payment was canceled.' : 'Your card was declined.',
  };
}

/** The PaymentIntent with `status` overridden (events carry the status of their moment). */
export function paymentIntent(
  payment: SimPayment,
  checkoutUrl: string,
  override?: { status: StripeStatus; declineCode: string | null },
): Record<string, unknown> {
  const { input } = payment;
  const status = override?.status ?? stripeStatus(payment);
  const declineCode = override ? override.declineCode : payment.declineCode;
  let nextAction: Record<string, unknown> | null = null;
  if (payment.status === 'requires_customer_data' && !override) {
    nextAction = {
      type: 'collect_customer_data',
      collect_customer_data: {
        fields: fieldsToAskFor(payment.missingFields),
      },
    };
  } else if (status === 'requires_action') {
    nextAction = {
      type: 'redirect_to_url',
      redirect_to_url: { url: checkoutUrl, return_url: input.returnUrl },
    };
  }
  return {
    id: payment.id,
    object: 'payment_intent',
    amount: input.amountMinor,
    amount_received: status === 'succeeded' ? input.amountMinor : 0,
    currency: input.currency.toLowerCase(),
    status,
    client_secret: `${payment.id}_secret_sim`,
    created: Math.floor(payment.createdAt.getTime() / 1000),
    livemode: false,
    metadata: input.metadata,
    payment_method_types: [input.paymentMethod ?? 'card'],
    next_action: nextAction,
    last_payment_error:
      status === 'requires_payment_method' ? declineError(declineCode ?? 'generic_decline') : null,
    cancellation_reason: status === 'canceled' ? 'abandoned' : null,
    return_url: input.returnUrl,
  };
}

export function stripeError(type: string, message: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ error: { type, message, ...extra } });
}
