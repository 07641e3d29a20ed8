import { expect } from 'chai';
import { Webhook } from 'standardwebhooks';
import type { Database } from '../../adapters/db/index.js';
import {
  activeWebhookSecrets,
  authenticateApiKey,
  createMerchant,
  issueApiKey,
  revokeApiKey,
  rotateWebhookSecret,
  setMerchantStatus,
} from '../../core/merchants/index.js';
import { signWebhook } from '../../webhook-dispatcher/signature.js';
import { createTestDatabase } from '../support/database.js';

for (const driver of ['pglite', 'postgres'] as const) {
  describe(`merchant credentials (${driver})`, function () {
    this.timeout(30_000);
    let database: Database;
    let release: () => Promise<void>;

    before(async function () {
      ({ database, release } = await createTestDatabase(driver, this));
    });
    after(async () => release?.());

    it('creates a merchant with an API key that authenticates, keeping only its hash', async () => {
      const created = await createMerchant(database.knex, {
        name: 'Shop',
        defaultWebhookUrl: 'https://shop.example/hooks',
      });
      const result = await authenticateApiKey(database.knex, created.apiKey);
      expect(result).to.deep.equal({
        ok: true,
        merchant: {
          merchantId: created.merchantId,
          keyId: created.apiKeyId,
          defaultWebhookUrl: 'https://shop.example/hooks',
        },
      });
      const rows = await database.knex('merchant_api_keys').where({ merchant_id: created.merchantId });
      expect(rows).to.have.length(1);
      expect(JSON.stringify(rows)).not.to.contain(created.apiKey.slice(created.apiKeyId.length + 1));
      expect(rows[0].last_used_at, 'last use is recorded').to.not.equal(null);
    });

    it('refuses malformed, unknown, wrong-secret and revoked keys and disabled merchants', async () => {
      const { merchantId, apiKey, apiKeyId } = await createMerchant(database.knex, { name: 'Refused' });
      const reason = async (key: string) => {
        const result = await authenticateApiKey(database.knex, key);
        return result.ok ? 'ok' : result.reason;
      };
      expect(await reason('Bearer nonsense')).to.equal('malformed');
      expect(await reason(apiKey.replace(/^psk_live_[0-9a-f]{4}/, 'psk_live_ffff'))).to.equal('unknown-key');
      expect(await reason(`${apiKey.slice(0, -4)}0000`)).to.equal('wrong-secret');

      await setMerchantStatus(database.knex, merchantId, 'disabled');
      expect(await reason(apiKey)).to.equal('merchant-disabled');
      await setMerchantStatus(database.knex, merchantId, 'active');
      expect(await reason(apiKey)).to.equal('ok');

      const second = await issueApiKey(database.knex, merchantId, { label: 'rotation' });
      await revokeApiKey(database.knex, apiKeyId, new Date(Date.now() + 3_600_000));
      expect(await reason(apiKey), 'a scheduled revocation keeps the key working until then').to.equal('ok');
      await revokeApiKey(database.knex, apiKeyId);
      expect(await reason(apiKey)).to.equal('revoked');
      expect(await reason(second.apiKey), 'the new key works').to.equal('ok');
    });

    it('issues Standard Webhooks secrets that stock verifiers accept, and rotates them with an overlap', async () => {
      const { merchantId, webhookSecret } = await createMerchant(database.knex, { name: 'Hooks' });
      expect(await activeWebhookSecrets(database.knex, merchantId)).to.deep.equal([webhookSecret]);
      const body = JSON.stringify({ type: 'transaction.status_changed' });
      const headers = signWebhook({ id: 'msg_1', timestamp: new Date(), body, secrets: [webhookSecret] });
      expect(new Webhook(webhookSecret).verify(body, { ...headers })).to.deep.equal(JSON.parse(body));

      const rotated = await rotateWebhookSecret(database.knex, merchantId, { overlapSeconds: 3600 });
      expect(rotated)
        .to.match(/^whsec_/)
        .and.not.equal(webhookSecret);
      expect(await activeWebhookSecrets(database.knex, merchantId)).to.deep.equal([rotated, webhookSecret]);
      await rotateWebhookSecret(database.knex, merchantId, { overlapSeconds: 0 });
      expect(await activeWebhookSecrets(database.knex, merchantId)).to.have.length(1);
    });
  });
}
