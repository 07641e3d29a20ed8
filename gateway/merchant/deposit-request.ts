/**
 * The `POST /api/v2/deposit` body: strict validation (unknown members are errors, every error is
 * reported with a pointer) and normalisation into a DepositRequest. The limits here are also what the
 * OpenAPI document publishes (openapi.ts reads them), so the two cannot drift. Pure.
 *
 * Normalisation is deliberately small: currency and country codes are upper-cased, null optional members
 * are treated as absent. Everything else is kept as sent, so the request hash means "the same request".
 */
import { isCountryCode, isCurrencyCode } from '../../core/reference-data/index.js';
import { escapePointer, FieldErrors, type FieldError } from './field-errors.js';
import { merchantUrlProblem, type UrlPolicy } from './url-policy.js';

export const PAYMENT_METHODS = ['card', 'bank_transfer', 'wallet'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

export const MERCHANT_TRANSACTION_ID = { maxLength: 64, pattern: /^[A-Za-z0-9._:-]+$/ };
/** Largest amount in minor units (12 digits: 9,999,999,999.99 EUR); far inside JS safe integers. */
export const MAX_AMOUNT_MINOR = 999_999_999_999;

/** Customer fields a merchant may send; the hosted page asks the customer for missing ones a provider needs. */
export const CUSTOMER_FIELDS = {
  email: { maxLength: 254, pattern: /^[^\s@]+@[^\s@]+\.[^\s@]+$/, patternHint: 'must be an email address' },
  firstName: { maxLength: 100 },
  lastName: { maxLength: 100 },
  phone: {
    maxLength: 16,
    pattern: /^\+[1-9][0-9]{6,14}$/,
    patternHint: 'must be an E.164 phone number, e.g. +4915112345678',
  },
  dateOfBirth: {
    maxLength: 10,
    pattern: /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/,
    patternHint: 'must be a date YYYY-MM-DD',
  },
  country: { maxLength: 2, pattern: /^[A-Za-z]{2}$/, patternHint: 'must be an ISO 3166-1 alpha-2 code' },
  state: { maxLength: 100 },
  city: { maxLength: 100 },
  postalCode: {
    maxLength: 16,
    pattern: /^[A-Za-z0-9][A-Za-z0-9 -]*$/,
    patternHint: 'must be letters, digits, spaces and dashes',
  },
  addressLine1: { maxLength: 200 },
  addressLine2: { maxLength: 200 },
} satisfies Record<string, { maxLength: number; pattern?: RegExp; patternHint?: string }>;
export type CustomerField = keyof typeof CUSTOMER_FIELDS;
export const CUSTOMER_FIELD_NAMES = Object.keys(CUSTOMER_FIELDS) as CustomerField[];

export const METADATA = { maxKeys: 20, keyPattern: /^[A-Za-z0-9_.-]{1,40}$/, maxValueLength: 500 };

const TOP_LEVEL = [
  'merchantTransactionId',
  'amount',
  'paymentMethod',
  'customer',
  'webhookUrl',
  'returnUrls',
  'metadata',
] as const;

export interface DepositRequest {
  merchantTransactionId: string;
  amount: { value: number; currency: string };
  paymentMethod: PaymentMethod;
  customer?: Partial<Record<CustomerField, string>>;
  webhookUrl?: string;
  returnUrls: { success: string; failure: string; cancel?: string };
  metadata?: Record<string, string>;
}

export type DepositRequestCheck = { ok: true; request: DepositRequest } | { ok: false; errors: FieldError[] };

export function parseDepositRequest(body: unknown, policy: UrlPolicy): DepositRequestCheck {
  const errors = new FieldErrors();
  const root = errors.object(body, '#', TOP_LEVEL);
  if (!root) return { ok: false, errors: errors.errors };

  const rawId = errors.required(root, 'merchantTransactionId', '#');
  const merchantTransactionId =
    rawId === undefined
      ? undefined
      : errors.text(rawId, '#/merchantTransactionId', {
          ...MERCHANT_TRANSACTION_ID,
          patternHint: 'must contain only letters, digits and . _ : -',
        });

  const amount = parseAmount(errors, errors.required(root, 'amount', '#'));

  const rawMethod = errors.required(root, 'paymentMethod', '#');
  let paymentMethod: PaymentMethod | undefined;
  if (rawMethod !== undefined) {
    if ((PAYMENT_METHODS as readonly unknown[]).includes(rawMethod))
      paymentMethod = rawMethod as PaymentMethod;
    else errors.add('#/paymentMethod', `must be one of ${PAYMENT_METHODS.join(', ')}`);
  }

  const customer = root.customer == null ? undefined : parseCustomer(errors, root.customer);
  const webhookUrl =
    root.webhookUrl == null ? undefined : parseUrl(errors, root.webhookUrl, '#/webhookUrl', policy);
  const returnUrls = parseReturnUrls(errors, errors.required(root, 'returnUrls', '#'), policy);
  const metadata = root.metadata == null ? undefined : parseMetadata(errors, root.metadata);

  if (!errors.ok) return { ok: false, errors: errors.errors };
  const request: DepositRequest = {
    merchantTransactionId: merchantTransactionId!,
    amount: amount!,
    paymentMethod: paymentMethod!,
    returnUrls: returnUrls!,
  };
  if (customer) request.customer = customer;
  if (webhookUrl) request.webhookUrl = webhookUrl;
  if (metadata) request.metadata = metadata;
  return { ok: true, request };
}

function parseAmount(errors: FieldErrors, value: unknown): DepositRequest['amount'] | undefined {
  if (value === undefined) return undefined;
  const amount = errors.object(value, '#/amount', ['value', 'currency']);
  if (!amount) return undefined;
  const minor = errors.required(amount, 'value', '#/amount');
  let valid = minor !== undefined;
  if (
    minor !== undefined &&
    !(Number.isSafeInteger(minor) && (minor as number) > 0 && (minor as number) <= MAX_AMOUNT_MINOR)
  ) {
    errors.add('#/amount/value', `must be an integer amount in minor units from 1 to ${MAX_AMOUNT_MINOR}`);
    valid = false;
  }
  const rawCurrency = errors.required(amount, 'currency', '#/amount');
  const currency = typeof rawCurrency === 'string' ? rawCurrency.toUpperCase() : undefined;
  if (rawCurrency !== undefined && !isCurrencyCode(currency)) {
    errors.add('#/amount/currency', 'must be an ISO 4217 currency code, e.g. EUR');
    valid = false;
  }
  return valid && currency !== undefined ? { value: minor as number, currency } : undefined;
}

function parseCustomer(errors: FieldErrors, value: unknown): DepositRequest['customer'] | undefined {
  const customer = errors.object(value, '#/customer', CUSTOMER_FIELD_NAMES);
  if (!customer) return undefined;
  const result: Partial<Record<CustomerField, string>> = {};
  for (const name of CUSTOMER_FIELD_NAMES) {
    if (customer[name] == null) continue;
    const text = errors.text(customer[name], `#/customer/${name}`, CUSTOMER_FIELDS[name]);
    if (text === undefined) continue;
    if (name === 'country') {
      const country = text.toUpperCase();
      if (isCountryCode(country)) result.country = country;
      else errors.add('#/customer/country', 'must be an ISO 3166-1 alpha-2 country code, e.g. DE');
    } else if (name === 'dateOfBirth' && !isCalendarDate(text)) {
      errors.add('#/customer/dateOfBirth', 'must be a real date YYYY-MM-DD');
    } else {
      result[name] = text;
    }
  }
  return result;
}

function parseReturnUrls(
  errors: FieldErrors,
  value: unknown,
  policy: UrlPolicy,
): DepositRequest['returnUrls'] | undefined {
  if (value === undefined) return undefined;
  const urls = errors.object(value, '#/returnUrls', ['success', 'failure', 'cancel']);
  if (!urls) return undefined;
  const success = parseUrl(
    errors,
    errors.required(urls, 'success', '#/returnUrls'),
    '#/returnUrls/success',
    policy,
  );
  const failure = parseUrl(
    errors,
    errors.required(urls, 'failure', '#/returnUrls'),
    '#/returnUrls/failure',
    policy,
  );
  const cancel =
    urls.cancel == null ? undefined : parseUrl(errors, urls.cancel, '#/returnUrls/cancel', policy);
  if (success === undefined || failure === undefined) return undefined;
  return cancel === undefined ? { success, failure } : { success, failure, cancel };
}

function parseUrl(
  errors: FieldErrors,
  value: unknown,
  pointer: string,
  policy: UrlPolicy,
): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    errors.add(pointer, 'must be a string');
    return undefined;
  }
  const problem = merchantUrlProblem(value, policy);
  if (problem) {
    errors.add(pointer, problem);
    return undefined;
  }
  return value;
}

function parseMetadata(errors: FieldErrors, value: unknown): Record<string, string> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    errors.add('#/metadata', 'must be an object of strings');
    return undefined;
  }
  const entries = Object.entries(value);
  if (entries.length > METADATA.maxKeys) {
    errors.add('#/metadata', `must have at most ${METADATA.maxKeys} keys`);
    return undefined;
  }
  const result: Record<string, string> = {};
  for (const [key, item] of entries) {
    const pointer = `#/metadata/${escapePointer(key)}`;
    if (!METADATA.keyPattern.test(key)) {
      errors.add(pointer, 'key must be 1 to 40 letters, digits or _ . -');
      continue;
    }
    const text = errors.text(item, pointer, { maxLength: METADATA.maxValueLength, minLength: 0 });
    if (text !== undefined)
      Object.defineProperty(result, key, { value: text, enumerable: true, writable: true });
  }
  return result;
}

function isCalendarDate(value: string): boolean {
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}
