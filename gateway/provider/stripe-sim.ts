/**
 * `stripe-sim`: a provider speaking Stripe's webhook wire format.
 *
 * Body: a Stripe event (`{"id":"evt_…","type":"payment_intent.succeeded","data":{"object":{…}}}`).
 * Header: `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>[,v1=…]`,
 * with one `v1` per secret the provider currently signs with (Stripe sends several while an endpoint
 * secret is being rolled). The secret is used as-is (UTF-8 bytes of `whsec_…`), exactly like the
 * `stripe` package's `webhooks.constructEvent`, so that package both signs and checks our fixtures.
 * Answer: 200 `{"received":true}`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  headerValue,
  isRecord,
  parseJson,
  stringField,
  type CallbackProvider,
  type RequestHeaders,
  type VerifyResult,
} from './types.js';

export const STRIPE_SIM_ID = 'stripe-sim';
export const STRIPE_SIGNATURE_HEADER = 'stripe-signature';
/** Stripe's default tolerance between the signed timestamp and our clock. */
export const STRIPE_DEFAULT_TOLERANCE_SECONDS = 300;

const SCHEME = 'v1';
const HEX_SHA256 = /^[0-9a-f]{64}$/i;
/** A header longer than this is not a real signature header (20 rotated secrets would be ~1.4 KiB). */
const MAX_HEADER_LENGTH = 4096;

export interface ParsedStripeSignature {
  timestamp: number;
  signatures: string[];
}

/** Parses `t=…,v1=…,v1=…` (other schemes, e.g. `v0`, are ignored as Stripe does). */
export function parseStripeSignatureHeader(header: string): ParsedStripeSignature | undefined {
  if (header.length > MAX_HEADER_LENGTH) return undefined;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const item of header.split(',')) {
    const separator = item.indexOf('=');
    if (separator <= 0) return undefined;
    const key = item.slice(0, separator).trim();
    const value = item.slice(separator + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return undefined;
      timestamp = Number(value);
    } else if (key === SCHEME) {
      signatures.push(value);
    }
  }
  if (timestamp === undefined || signatures.length === 0) return undefined;
  return { timestamp, signatures };
}

/** hex HMAC-SHA256 over `"<t>.<raw body>"`, computed on the raw bytes (no re-encoding of the body). */
export function stripeSignature(rawBody: Buffer, timestamp: number, secret: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(`${timestamp}.`)
    .update(rawBody)
    .digest('hex');
}

/**
 * Signs like Stripe does (one `v1` per secret). For the provider simulator and tests; production
 * fixtures are also signed with the `stripe` package's `webhooks.generateTestHeaderString`.
 */
export function signStripeSim(rawBody: Buffer | string, secrets: readonly string[], now: Date): string {
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  const timestamp = Math.floor(now.getTime() / 1000);
  const v1 = secrets.map((secret) => `${SCHEME}=${stripeSignature(body, timestamp, secret)}`);
  return [`t=${timestamp}`, ...v1].join(',');
}

/** The payment the event is about: a PaymentIntent's id, or the PaymentIntent a charge/refund belongs to. */
function stripeReference(event: Record<string, unknown>): string | undefined {
  const data = event.data;
  if (!isRecord(data) || !isRecord(data.object)) return undefined;
  const object = data.object;
  return stringField(object.payment_intent) ?? stringField(object.id);
}

function constantTimeHexEquals(expectedHex: string, candidate: string): boolean {
  if (!HEX_SHA256.test(candidate)) return false;
  return timingSafeEqual(Buffer.from(expectedHex, 'hex'), Buffer.from(candidate, 'hex'));
}

export function verifyStripeSim(
  rawBody: Buffer,
  headers: RequestHeaders,
  secrets: readonly string[],
  now: Date,
  toleranceSeconds: number = STRIPE_DEFAULT_TOLERANCE_SECONDS,
): VerifyResult {
  const header = headerValue(headers, STRIPE_SIGNATURE_HEADER);
  if (!header) {
    return { ok: false, reason: 'missing-signature', detail: 'Stripe-Signature header is missing' };
  }
  const parsed = parseStripeSignatureHeader(header);
  if (!parsed) {
    return {
      ok: false,
      reason: 'malformed-signature',
      detail: 'Stripe-Signature must be t=<unix seconds>,v1=<hex signature>[,v1=…]',
    };
  }
  const matches = secrets.some((secret) => {
    if (!secret) return false;
    const expected = stripeSignature(rawBody, parsed.timestamp, secret);
    return parsed.signatures.some((candidate) => constantTimeHexEquals(expected, candidate));
  });
  if (!matches) {
    return {
      ok: false,
      reason: 'signature-mismatch',
      detail: 'no v1 signature matches the payload for the configured secrets',
    };
  }
  const ageSeconds = Math.floor(now.getTime() / 1000) - parsed.timestamp;
  if (Math.abs(ageSeconds) > toleranceSeconds) {
    return {
      ok: false,
      reason: 'timestamp-outside-tolerance',
      detail: `signature timestamp is ${ageSeconds} s away from now (tolerance ${toleranceSeconds} s)`,
    };
  }
  const json = parseJson(rawBody);
  if (!json.ok || !isRecord(json.value)) {
    return { ok: false, reason: 'bad-body', detail: 'body is not a JSON object' };
  }
  const reference = stripeReference(json.value);
  return reference === undefined ? { ok: true } : { ok: true, reference };
}

export function createStripeSimProvider(options: { toleranceSeconds?: number } = {}): CallbackProvider {
  const toleranceSeconds = options.toleranceSeconds ?? STRIPE_DEFAULT_TOLERANCE_SECONDS;
  return {
    id: STRIPE_SIM_ID,
    verify: (rawBody, headers, secrets, now) =>
      verifyStripeSim(rawBody, headers, secrets, now, toleranceSeconds),
    successResponse: {
      status: 200,
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify({ received: true }),
    },
    relevantHeaders: ['content-type', STRIPE_SIGNATURE_HEADER],
  };
}
