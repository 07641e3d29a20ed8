/**
 * What the hosted-page tests share: a payment session inserted the way the Merchant Gateway creates it
 * (only the token's hash stored), session updates standing in for the orchestrator, the hosted routes
 * on a real HTTP server, and a logger that keeps every line so tests can prove no value was logged.
 */
import { randomUUID } from 'node:crypto';
import Koa from 'koa';
import type { Knex } from 'knex';
import { requestContext } from '../../core/http/request-context.js';
import type { Logger } from '../../core/logger.js';
import { hashSessionToken, newSessionToken } from '../../core/transactions/session-token.js';
import { hostedPageRoutes, type HostedPageOptions } from '../../gateway/hosted/index.js';
import { listen } from '../../platform/http-server.js';
import { insertMerchant, insertTransaction } from '../support/fixtures.js';
import { RecordingLogger } from '../support/recording-logger.js';

export { RecordingLogger };

export interface HostedSession {
  token: string;
  sessionId: string;
  transactionId: string;
  merchantId: string;
}

export const RETURN_URLS = {
  success: 'https://shop.example/return/success?order=42',
  failure: 'https://shop.example/return/failure?order=42',
};

/** A deposit with its payment session, as the Merchant Gateway leaves it (state `loading`). */
export async function insertHostedSession(
  knex: Knex,
  options: {
    merchantId?: string;
    transaction?: Record<string, unknown>;
    session?: Record<string, unknown>;
  } = {},
): Promise<HostedSession> {
  const merchantId = options.merchantId ?? (await insertMerchant(knex));
  const transactionId = await insertTransaction(knex, merchantId, {
    return_urls: JSON.stringify(RETURN_URLS),
    ...options.transaction,
  });
  const token = newSessionToken();
  const sessionId = `ses_${randomUUID()}`;
  await knex('payment_sessions').insert({
    id: sessionId,
    transaction_id: transactionId,
    token_hash: hashSessionToken(token),
    state: 'loading',
    expires_at: new Date(Date.now() + 30 * 60_000),
    ...options.session,
  });
  return { token, sessionId, transactionId, merchantId };
}

/** Plays the orchestrator: changes the session row. */
export async function updateSession(
  knex: Knex,
  sessionId: string,
  patch: { state?: string; required_fields?: unknown; redirect_url?: string | null; expires_at?: Date },
): Promise<void> {
  const row: Record<string, unknown> = { ...patch, updated_at: new Date() };
  if (patch.required_fields !== undefined) row.required_fields = JSON.stringify(patch.required_fields);
  await knex('payment_sessions').where({ id: sessionId }).update(row);
}

/** The fields a provider typically needs when the merchant sent too little. */
export const REQUESTED_FIELDS = [
  { name: 'email', kind: 'email', required: true, pattern: null, label: 'Email address' },
  { name: 'phone', kind: 'tel', required: true, pattern: null, label: 'Mobile phone' },
  { name: 'birth_date', kind: 'date', required: true, pattern: null, label: 'Date of birth' },
  { name: 'country', kind: 'country', required: true, pattern: null, label: 'Country' },
  { name: 'tax_id', kind: 'text', required: false, pattern: '[0-9]{9}', label: 'Tax number' },
];

/** The hosted routes on a real HTTP server on an ephemeral port. */
export async function startHostedServer(
  options: Omit<HostedPageOptions, 'logger'> & { logger?: Logger },
): Promise<{ url: string; close: () => Promise<void>; logs: RecordingLogger }> {
  const logs = new RecordingLogger();
  const app = new Koa();
  const routes = hostedPageRoutes({ logger: logs, ...options });
  app.use(requestContext()); // as the platform mounts it: request ids and the ids routes add
  app.use(routes.routes()).use(routes.allowedMethods());
  const server = await listen(app, '127.0.0.1', 0);
  return { ...server, logs };
}
