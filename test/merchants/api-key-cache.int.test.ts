import { expect } from 'chai';
import type { Database } from '../../adapters/db/index.js';
import {
  ApiKeyCache,
  authenticateApiKey,
  createMerchant,
  revokeApiKey,
  setMerchantStatus,
} from '../../core/merchants/index.js';
import { createTestDatabase } from '../support/database.js';

const TTL_MS = 5_000;

for (const driver of ['pglite', 'postgres'] as const) {
  describe(`API key cache (${driver})`, function () {
    this.timeout(30_000);
    let database: Database;
    let release: () => Promise<void>;
    let clock: number;
    let lookups: number;

    const cache = (ttlMs = TTL_MS) =>
      new ApiKeyCache(
        (presented) => {
          lookups++;
          return authenticateApiKey(database.knex, presented);
        },
        { ttlMs, now: () => clock },
      );

    before(async function () {
      ({ database, release } = await createTestDatabase(driver, this));
    });
    after(async () => release?.());
    beforeEach(() => {
      clock = 1_000_000;
      lookups = 0;
    });

    it('stops accepting a revoked key once the accepted answer is older than the TTL', async () => {
      const shop = await createMerchant(database.knex, { name: 'Shop' });
      const keys = cache();
      expect((await keys.authenticate(shop.apiKey)).ok).to.equal(true);
      await revokeApiKey(database.knex, shop.apiKeyId);

      clock += TTL_MS - 1;
      expect((await keys.authenticate(shop.apiKey)).ok, 'still trusted within the TTL').to.equal(true);
      clock += 1;
      expect(await keys.authenticate(shop.apiKey)).to.include({ ok: false, reason: 'revoked' });
      expect(lookups).to.equal(2);
    });

    it('never remembers a refusal: a merchant enabled again is accepted at once', async () => {
      const shop = await createMerchant(database.knex, { name: 'Paused' });
      await setMerchantStatus(database.knex, shop.merchantId, 'disabled');
      const keys = cache();
      expect(await keys.authenticate(shop.apiKey)).to.include({ ok: false, reason: 'merchant-disabled' });
      await setMerchantStatus(database.knex, shop.merchantId, 'active');
      expect((await keys.authenticate(shop.apiKey)).ok).to.equal(true);
    });

    it('does not accept a wrong secret for a key id it trusts', async () => {
      const shop = await createMerchant(database.knex, { name: 'Shop' });
      const keys = cache();
      expect((await keys.authenticate(shop.apiKey)).ok).to.equal(true);
      const forged = `${shop.apiKey.slice(0, -6)}abcdef`;
      expect(await keys.authenticate(forged)).to.include({ ok: false, reason: 'wrong-secret' });
    });

    it('asks the database once for many concurrent checks of the same key', async () => {
      const shop = await createMerchant(database.knex, { name: 'Busy' });
      const keys = cache();
      const results = await Promise.all(Array.from({ length: 20 }, () => keys.authenticate(shop.apiKey)));
      expect(results.every((result) => result.ok)).to.equal(true);
      expect(lookups).to.equal(1);
    });

    it('with a TTL of 0 asks the database every time (a revocation is immediate)', async () => {
      const shop = await createMerchant(database.knex, { name: 'Strict' });
      const keys = cache(0);
      expect((await keys.authenticate(shop.apiKey)).ok).to.equal(true);
      await revokeApiKey(database.knex, shop.apiKeyId);
      expect(await keys.authenticate(shop.apiKey)).to.include({ ok: false, reason: 'revoked' });
    });
  });
}
