import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { issueApiKey } from './api-keys.js';
import { addWebhookSecret } from './webhook-secrets.js';

/**
 * Onboarding: a merchant row with its first API key and webhook signing secret, created together so a
 * merchant never exists without credentials. The key and the secret are returned once; only the key's
 * hash is kept.
 */
export interface NewMerchant {
  id?: string;
  name: string;
  /** https URL (http only for local development); used when a deposit names no webhook URL. */
  defaultWebhookUrl?: string | null;
}

export interface CreatedMerchant {
  merchantId: string;
  apiKeyId: string;
  apiKey: string;
  webhookSecret: string;
}

const MERCHANT_ID = /^[A-Za-z0-9_-]{1,64}$/;

export async function createMerchant(knex: Knex, input: NewMerchant): Promise<CreatedMerchant> {
  const merchantId = input.id ?? `m_${randomBytes(8).toString('hex')}`;
  if (!MERCHANT_ID.test(merchantId))
    throw new Error('merchant id must be 1-64 characters of A-Z a-z 0-9 _ -');
  if (input.name.trim() === '') throw new Error('merchant name must not be empty');
  if (input.defaultWebhookUrl) assertHttpUrl(input.defaultWebhookUrl);
  return knex.transaction(async (trx) => {
    await trx('merchants').insert({
      id: merchantId,
      name: input.name,
      default_webhook_url: input.defaultWebhookUrl ?? null,
    });
    const { keyId, apiKey } = await issueApiKey(trx, merchantId, { label: 'initial' });
    const webhookSecret = await addWebhookSecret(trx, merchantId);
    return { merchantId, apiKeyId: keyId, apiKey, webhookSecret };
  });
}

/** A disabled merchant's keys are refused; its transactions keep processing. */
export async function setMerchantStatus(
  db: Knex | Knex.Transaction,
  merchantId: string,
  status: 'active' | 'disabled',
): Promise<void> {
  await db('merchants').where({ id: merchantId }).update({ status, updated_at: db.fn.now() });
}

function assertHttpUrl(value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error('default webhook URL must be an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new Error('default webhook URL must be http(s)');
}
