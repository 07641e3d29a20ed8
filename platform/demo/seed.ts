/**
 * The demo of `npm start`: a demo merchant whose webhooks go to the demo receiver, and a support user
 * for the back office. Their secrets exist in clear only when issued, so they are kept in the data
 * directory (development data, never a production path) to be printed again after a restart.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Knex } from 'knex';
import { createBackofficeUser, issueAccessToken } from '../../backoffice/index.js';
import { createMerchant, issueApiKey } from '../../core/merchants/index.js';

export const DEMO_MERCHANT_ID = 'demo-merchant';
export const DEMO_SUPPORT_EMAIL = 'support@demo.example';
export const DEMO_CREDENTIALS_FILE = 'demo-credentials.json';

export interface DemoCredentials {
  merchantId: string;
  apiKey: string;
  supportToken: string;
  platformUrl: string;
  webhookReceiverUrl: string;
}

export async function ensureDemo(
  knex: Knex,
  options: { dir: string; webhookUrl: string; platformUrl: string },
): Promise<DemoCredentials> {
  const file = path.join(options.dir, DEMO_CREDENTIALS_FILE);
  const saved = await readFile(file, 'utf8')
    .then((text) => JSON.parse(text) as Partial<DemoCredentials>)
    .catch(() => ({}) as Partial<DemoCredentials>);
  const merchant = await knex('merchants').where({ id: DEMO_MERCHANT_ID }).first('id');
  let apiKey = merchant ? saved.apiKey : undefined;
  if (!merchant) {
    ({ apiKey } = await createMerchant(knex, {
      id: DEMO_MERCHANT_ID,
      name: 'Demo Merchant',
      defaultWebhookUrl: options.webhookUrl,
    }));
  } else if (!apiKey) {
    ({ apiKey } = await issueApiKey(knex, DEMO_MERCHANT_ID, { label: 'demo' }));
  }
  // The receiver's port may differ between runs: keep the merchant pointed at this run's receiver.
  await knex('merchants').where({ id: DEMO_MERCHANT_ID }).update({ default_webhook_url: options.webhookUrl });

  const support = await knex('backoffice_users').where({ email: DEMO_SUPPORT_EMAIL }).first('id');
  let supportToken = support ? saved.supportToken : undefined;
  if (!support) {
    ({ token: supportToken } = await createBackofficeUser(knex, {
      email: DEMO_SUPPORT_EMAIL,
      kind: 'platform',
      roles: ['support'],
      tokenLabel: 'demo',
    }));
  } else if (!supportToken) {
    ({ token: supportToken } = await issueAccessToken(knex, DEMO_SUPPORT_EMAIL, { label: 'demo' }));
  }

  const credentials: DemoCredentials = {
    merchantId: DEMO_MERCHANT_ID,
    apiKey: apiKey!,
    supportToken: supportToken!,
    platformUrl: options.platformUrl,
    webhookReceiverUrl: options.webhookUrl,
  };
  await mkdir(options.dir, { recursive: true });
  await writeFile(file, JSON.stringify(credentials, null, 2), { mode: 0o600 });
  return credentials;
}
