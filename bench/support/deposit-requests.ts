/**
 * Request factory (see http-load.ts) for `POST /api/v2/deposit`: a realistic card deposit with a full
 * customer (so no provider asks for more fields) and a unique merchantTransactionId per index, so
 * every request is a new deposit (never an idempotent replay).
 */
import type { BenchRequest, RequestFactory } from './http-load.js';

export interface DepositRequestOptions {
  apiKey: string;
  /** merchantTransactionId = `${prefix}-${index}` (see merchantTransactionIdFor). */
  prefix: string;
  /** Minor units; avoid the provider simulator's magic endings (01-12) to get a plain redirect + approval. */
  amountMinor: number;
  webhookUrl?: string;
}

export function merchantTransactionIdFor(prefix: string, index: number): string {
  return `${prefix}-${index}`;
}

export function createDepositRequests(options: DepositRequestOptions): RequestFactory {
  const headers = { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' };
  return (index): BenchRequest => ({
    method: 'POST',
    path: '/api/v2/deposit',
    headers,
    body: JSON.stringify({
      merchantTransactionId: merchantTransactionIdFor(options.prefix, index),
      amount: { value: options.amountMinor, currency: 'EUR' },
      paymentMethod: 'card',
      customer: {
        email: 'ada@example.com',
        firstName: 'Ada',
        lastName: 'Lovelace',
        phone: '+4915112345678',
        country: 'DE',
        city: 'Berlin',
        postalCode: '10115',
        addressLine1: 'Unter den Linden 1',
      },
      returnUrls: { success: 'https://shop.example/ok', failure: 'https://shop.example/failed' },
      ...(options.webhookUrl ? { webhookUrl: options.webhookUrl } : {}),
      metadata: { orderId: `order-${index}`, channel: 'web' },
    }),
  });
}
