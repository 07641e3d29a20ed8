/**
 * What the Provider Gateway puts on the broker: the raw callback, untouched, in a small JSON envelope.
 * The processor decodes it, re-parses the provider's body and applies it (DESIGN decision 2).
 */
import { NonRetryableError } from '../../core/errors.js';
import type { Headers } from '../../core/broker/types.js';

/** Raw provider callbacks, keyed by the provider's payment reference (else the callback id). */
export const PROVIDER_CALLBACKS_TOPIC = 'payments.provider-callbacks.v1';

export const PROVIDER_CALLBACK_CONTENT_TYPE = 'application/vnd.payments.provider-callback+json; version=1';

/** Broker message headers, so consumers can route and log without decoding the value. */
export const PROVIDER_CALLBACK_HEADERS = {
  contentType: 'content-type',
  callbackId: 'callback-id',
  provider: 'provider',
} as const;

export interface ProviderCallbackEnvelope {
  /** Ours, unique per HTTP request (a provider's duplicate gets a new one; dedupe is the processor's job). */
  callbackId: string;
  provider: string;
  /** The provider's payment reference read from the signed body, or null. Also the message key when set. */
  reference: string | null;
  /** ISO-8601 instant the gateway received the request. */
  receivedAt: string;
  /** Only the relevant request headers (lower-case names): content type and signature header. */
  headers: Record<string, string>;
  /** The request body exactly as received. */
  bodyBase64: string;
}

export function encodeProviderCallback(envelope: ProviderCallbackEnvelope): Buffer {
  return Buffer.from(JSON.stringify(envelope), 'utf8');
}

export function providerCallbackMessageHeaders(envelope: ProviderCallbackEnvelope): Headers {
  return {
    [PROVIDER_CALLBACK_HEADERS.contentType]: PROVIDER_CALLBACK_CONTENT_TYPE,
    [PROVIDER_CALLBACK_HEADERS.callbackId]: envelope.callbackId,
    [PROVIDER_CALLBACK_HEADERS.provider]: envelope.provider,
  };
}

/** Decodes a message value; a value that is not an envelope cannot get better: NonRetryableError. */
export function decodeProviderCallback(value: Buffer): ProviderCallbackEnvelope & { body: Buffer } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (error) {
    throw new NonRetryableError('provider callback envelope is not JSON', {
      cause: error,
      code: 'BAD_CALLBACK_ENVELOPE',
    });
  }
  const e = parsed as Partial<ProviderCallbackEnvelope> | null;
  const headersOk =
    typeof e?.headers === 'object' &&
    e.headers !== null &&
    Object.values(e.headers).every((v) => typeof v === 'string');
  if (
    typeof e?.callbackId !== 'string' ||
    typeof e.provider !== 'string' ||
    typeof e.receivedAt !== 'string' ||
    Number.isNaN(Date.parse(e.receivedAt)) ||
    typeof e.bodyBase64 !== 'string' ||
    !(e.reference === null || typeof e.reference === 'string') ||
    !headersOk
  ) {
    throw new NonRetryableError('provider callback envelope is missing fields', {
      code: 'BAD_CALLBACK_ENVELOPE',
    });
  }
  const envelope = e as ProviderCallbackEnvelope;
  return { ...envelope, body: Buffer.from(envelope.bodyBase64, 'base64') };
}
