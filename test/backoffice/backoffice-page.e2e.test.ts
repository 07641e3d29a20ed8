/**
 * The back-office page in a real browser (Chromium via playwright-core) against the real routes and a
 * real database: a merchant user looks a transaction up by their own order id and sees its merchant-safe
 * timeline (nothing internal on the page); a support agent sees the provider attempts and can resend the
 * webhook. No CSP violation or script error is allowed. Skips without Chromium (fails under
 * REQUIRE_REAL_BACKENDS=1).
 */
import { existsSync } from 'node:fs';
import { expect } from 'chai';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Knex } from 'knex';
import type { IssuedToken } from '../../backoffice/index.js';
import { requireBackend } from '../support/backends.js';
import { createTestDatabase } from '../support/database.js';
import { insertMerchant } from '../support/fixtures.js';
import {
  createUsers,
  SECRETS,
  seedFallbackTransaction,
  startBackofficeServer,
  type BackofficeServer,
  type Users,
} from './backoffice-support.js';

const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

describe('back-office page in Chromium', function () {
  this.timeout(120_000);
  let knex: Knex;
  let release: () => Promise<void>;
  let server: BackofficeServer;
  let browser: Browser;
  let users: Users;
  let seeded: Awaited<ReturnType<typeof seedFallbackTransaction>>;

  before(async function () {
    requireBackend(
      this,
      `Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`,
      existsSync(CHROMIUM_PATH),
    );
    const db = await createTestDatabase('pglite', this);
    knex = db.database.knex;
    release = db.release;
    const merchantA = await insertMerchant(knex);
    users = await createUsers(knex, merchantA, await insertMerchant(knex));
    seeded = await seedFallbackTransaction(knex, merchantA);
    server = await startBackofficeServer(knex);
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await release?.();
  });

  async function signedIn(user: IssuedToken): Promise<{ page: Page; problems: string[] }> {
    const page = await (await browser.newContext()).newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
        problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    const response = await page.goto(`${server.url}/backoffice`);
    expect(response?.headers()['content-security-policy']).to.match(/default-src 'none'.*script-src 'self'/);
    await page.locator('#token').fill(user.token);
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.locator('#lookup').waitFor({ state: 'visible' });
    return { page, problems };
  }

  async function lookUp(page: Page, reference: string): Promise<void> {
    await page.locator('#reference').fill(reference);
    await page.getByRole('button', { name: 'Look up' }).click();
    await page.locator('#transaction').waitFor({ state: 'visible' });
  }

  it('shows a merchant user their transaction and merchant-safe timeline, nothing internal', async () => {
    const { page, problems } = await signedIn(users.merchantA);
    expect(await page.locator('#who').textContent()).to.include('merchant_user');
    await lookUp(page, seeded.merchantTransactionId);
    expect(await page.locator('#detail').textContent()).to.include(seeded.transactionId);
    expect(await page.locator('#timeline-view').textContent()).to.equal('merchant');
    const timeline = (await page.locator('#timeline').textContent()) ?? '';
    expect(timeline).to.include('ProviderRequestStarted').and.to.include('TransactionStatusChanged');
    expect(await page.locator('#internal').isHidden()).to.equal(true);
    expect(await page.getByRole('button', { name: 'Resend' }).count()).to.equal(0);
    const text = (await page.locator('body').textContent()) ?? '';
    for (const [name, secret] of Object.entries(SECRETS)) expect(text, name).not.to.include(secret);
    expect(problems).to.deep.equal([]);
  });

  it('shows support the attempts and internal timeline, and queues a resend', async () => {
    const { page, problems } = await signedIn(users.support);
    await lookUp(page, seeded.transactionId);
    expect(await page.locator('#timeline-view').textContent()).to.equal('internal');
    expect(await page.locator('#attempts').textContent())
      .to.include(SECRETS.firstProvider)
      .and.to.include(SECRETS.secondSubMid);
    await page.getByRole('button', { name: 'Resend' }).click();
    await page.getByRole('button', { name: /Resend queued \(attempt \d+\)/ }).waitFor();
    expect(problems).to.deep.equal([]);
  });

  it('says so when a token is not valid', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${server.url}/backoffice`);
    await page.locator('#token').fill('pbo_nope');
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByText('This token is not valid.').waitFor();
    expect(await page.locator('#lookup').isHidden()).to.equal(true);
  });
});
