/**
 * `adyen-sim`: a provider speaking Adyen's standard-notification wire format.
 *
 * Body: `{"live":"false","notificationItems":[{"NotificationRequestItem":{"pspReference", "originalReference",
 * "merchantAccountCode", "merchantReference", "amount":{"value","currency"}, "eventCode", "success",
 * "additionalData":{"hmacSignature":"…"}, …}}]}`. Every item carries its own signature: base64
 * HMAC-SHA256, key = the hex-decoded HMAC key, over
 * `pspReference:originalReference:merchantAccountCode:merchantReference:value:currency:eventCode:success`
 * (absent fields as empty strings). That is exactly what `@adyen/api-library`'s `HmacValidator`
 * computes for a NotificationRequestItem (values are joined as-is; the backslash/colon escaping some
 * descriptions mention belongs to Adyen's older sorted key/value HPP signature, not to notifications).
 * Answer: 200 text/plain `[accepted]`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  isRecord,
  parseJson,
  stringField,
  type CallbackProvider,
  type RequestHeaders,
  type VerifyResult,
} from './types.js';

export const ADYEN_SIM_ID = 'adyen-sim';

/** The fields of a NotificationRequestItem that take part in its HMAC, in signing order. */
export interface AdyenSignedFields {
  pspReference?: unknown;
  originalReference?: unknown;
  merchantAccountCode?: unknown;
  merchantReference?: unknown;
  amount?: unknown;
  eventCode?: unknown;
  success?: unknown;
}

const HEX_KEY = /^(?:[0-9a-f]{2})+$/i;

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return '';
}

/** The string Adyen signs for one NotificationRequestItem. */
export function adyenSigningString(item: AdyenSignedFields): string {
  const amount = isRecord(item.amount) ? item.amount : {};
  return [
    text(item.pspReference),
    text(item.originalReference),
    text(item.merchantAccountCode),
    text(item.merchantReference),
    text(amount.value),
    text(amount.currency),
    text(item.eventCode),
    text(item.success),
  ].join(':');
}

/** True when `key` is a usable Adyen HMAC key (hex, whole bytes). */
export function isAdyenHmacKey(key: string): boolean {
  return HEX_KEY.test(key);
}

/** base64 HMAC-SHA256 of the item's signing string with the hex-decoded key. */
export function adyenHmac(item: AdyenSignedFields, hexKey: string): string {
  if (!isAdyenHmacKey(hexKey)) throw new Error('Adyen HMAC keys are hex strings');
  return createHmac('sha256', Buffer.from(hexKey, 'hex'))
    .update(adyenSigningString(item), 'utf8')
    .digest('base64');
}

/**
 * Returns a copy of `item` with `additionalData.hmacSignature` set, as Adyen sends it. For the provider
 * simulator and tests; fixtures are also signed with `@adyen/api-library`'s HmacValidator.
 */
export function signAdyenItem<T extends AdyenSignedFields & { additionalData?: Record<string, unknown> }>(
  item: T,
  hexKey: string,
): T {
  return { ...item, additionalData: { ...item.additionalData, hmacSignature: adyenHmac(item, hexKey) } };
}

function base64Equals(expected: string, received: string): boolean {
  const a = Buffer.from(expected, 'base64');
  const b = Buffer.from(received, 'base64');
  return a.length === b.length && timingSafeEqual(a, b);
}

const SIGNED_TEXT_FIELDS = [
  'pspReference',
  'originalReference',
  'merchantAccountCode',
  'merchantReference',
  'eventCode',
  'success',
] as const;

/**
 * The signing string flattens values to text, so `"success": "true"` and `"success": true`, or an
 * absent `originalReference` and `"originalReference": {}`, sign alike. Signed fields must therefore
 * have Adyen's types (text, and an integer amount with a currency): otherwise a captured notification
 * could be replayed as a different document under the same signature.
 */
function signedFieldTypeProblem(item: Record<string, unknown>): string | null {
  for (const name of SIGNED_TEXT_FIELDS) {
    if (item[name] !== undefined && typeof item[name] !== 'string') return `${name} must be a string`;
  }
  const amount = item.amount;
  if (
    amount !== undefined &&
    !(isRecord(amount) && Number.isSafeInteger(amount.value) && typeof amount.currency === 'string')
  ) {
    return 'amount must be {"value": <integer>, "currency": <string>}';
  }
  return null;
}

/** The payment the notification is about: a modification's original payment, else the payment itself. */
function adyenReference(item: Record<string, unknown>): string | undefined {
  return (
    stringField(item.originalReference) ??
    stringField(item.pspReference) ??
    stringField(item.merchantReference)
  );
}

export function verifyAdyenSim(
  rawBody: Buffer,
  _headers: RequestHeaders,
  secrets: readonly string[],
  _now: Date,
): VerifyResult {
  const json = parseJson(rawBody);
  if (!json.ok || !isRecord(json.value)) {
    return { ok: false, reason: 'bad-body', detail: 'body is not a JSON object' };
  }
  const list = json.value.notificationItems;
  if (!Array.isArray(list) || list.length === 0) {
    return { ok: false, reason: 'bad-body', detail: 'notificationItems must be a non-empty array' };
  }
  const keys = secrets.filter(isAdyenHmacKey);
  let reference: string | undefined;
  for (const [index, wrapper] of list.entries()) {
    const item: unknown = isRecord(wrapper) ? wrapper.NotificationRequestItem : undefined;
    if (!isRecord(item)) {
      return {
        ok: false,
        reason: 'bad-body',
        detail: `notificationItems[${index}] has no NotificationRequestItem object`,
      };
    }
    const typeProblem = signedFieldTypeProblem(item);
    if (typeProblem) {
      return { ok: false, reason: 'bad-body', detail: `notificationItems[${index}]: ${typeProblem}` };
    }
    const received = isRecord(item.additionalData) ? item.additionalData.hmacSignature : undefined;
    if (typeof received !== 'string' || received.length === 0) {
      return {
        ok: false,
        reason: 'missing-signature',
        detail: `notificationItems[${index}] has no additionalData.hmacSignature`,
      };
    }
    if (!keys.some((key) => base64Equals(adyenHmac(item, key), received))) {
      return {
        ok: false,
        reason: 'signature-mismatch',
        detail: `notificationItems[${index}] hmacSignature does not match the configured HMAC keys`,
      };
    }
    reference ??= adyenReference(item);
  }
  return reference === undefined ? { ok: true } : { ok: true, reference };
}

export function createAdyenSimProvider(): CallbackProvider {
  return {
    id: ADYEN_SIM_ID,
    verify: verifyAdyenSim,
    successResponse: { status: 200, contentType: 'text/plain; charset=utf-8', body: '[accepted]' },
    relevantHeaders: ['content-type'],
  };
}
