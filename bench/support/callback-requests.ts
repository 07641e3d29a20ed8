/**
 * Request factory (see http-load.ts) for `POST /callbacks/stripe-sim`: a `payment_intent.succeeded`
 * event shaped like the provider simulator's (pretty-printed, ~1.3 KiB), signed at send time with
 * `Stripe-Signature` exactly as the simulator and Stripe sign, so each request passes the real check.
 */
import { signStripeSim } from '../../gateway/provider/stripe-sim.js';
import type { BenchRequest, RequestFactory } from './http-load.js';

export interface CallbackRequestOptions {
  secret: string;
  /** Ids are `evt_${prefix}_${index}` / `pi_${prefix}_${index}`. */
  prefix: string;
}

/** The event body for one index (also used by the raw-publish baseline, so both carry the same bytes). */
export function stripeSucceededEvent(prefix: string, index: number): Buffer {
  const created = Math.floor(Date.now() / 1000);
  const intent = `pi_${prefix}_${index}`;
  const event = {
    id: `evt_${prefix}_${index}`,
    object: 'event',
    api_version: '2024-06-20',
    created,
    type: 'payment_intent.succeeded',
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: `att_${prefix}_${index}` },
    data: {
      object: {
        id: intent,
        object: 'payment_intent',
        amount: 2500,
        amount_received: 2500,
        currency: 'eur',
        status: 'succeeded',
        client_secret: `${intent}_secret_sim`,
        created,
        livemode: false,
        metadata: { reference: `att_${prefix}_${index}`, transaction_id: `tx_${prefix}_${index}` },
        payment_method_types: ['card'],
        next_action: null,
        last_payment_error: null,
        cancellation_reason: null,
        return_url: 'https://pay.example/pay/return',
      },
    },
  };
  return Buffer.from(JSON.stringify(event, null, 2), 'utf8');
}

export function createStripeCallbacks(options: CallbackRequestOptions): RequestFactory {
  return (index): BenchRequest => {
    const body = stripeSucceededEvent(options.prefix, index);
    return {
      method: 'POST',
      path: '/callbacks/stripe-sim',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
        'stripe-signature': signStripeSim(body, [options.secret], new Date()),
      },
      body: body.toString('utf8'),
    };
  };
}
