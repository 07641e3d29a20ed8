/**
 * The hosted payment page in a real browser: Chromium (Debian's `chromium`, found via CHROMIUM_PATH or
 * /usr/bin/chromium) driven by playwright-core, against the real routes on a real HTTP server and a
 * real database. The test plays the orchestrator by changing the session row, and a tiny local HTTP
 * server plays the provider's checkout and the merchant's return pages. Skips without Chromium, fails
 * without it under REQUIRE_REAL_BACKENDS=1.
 */
import { existsSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Database } from '../../adapters/db/index.js';
import { newSessionToken } from '../../core/transactions/session-token.js';
import { decodeEvent } from '../../schemas/index.js';
import { requireBackend } from '../support/backends.js';
import { createTestDatabase } from '../support/database.js';
import { insertMerchant } from '../support/fixtures.js';
import {
  insertHostedSession,
  REQUESTED_FIELDS,
  startHostedServer,
  updateSession,
  type RecordingLogger,
} from './hosted-support.js';

const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** Poll backoff tops out at 8 s; leave room for one full interval and a slow machine. */
const STATE_CHANGE_MS = 20_000;

/** Stands in for the provider's checkout and the merchant's return pages; remembers each request. */
async function startOtherSite(): Promise<{
  url: string;
  requests: { path: string; headers: IncomingHttpHeaders }[];
  close: () => Promise<void>;
}> {
  const requests: { path: string; headers: IncomingHttpHeaders }[] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ path: req.url ?? '', headers: req.headers });
    const title = req.url?.startsWith('/psp/') ? 'Provider checkout' : 'Back at the shop';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>${title}</title><h1>${title}</h1>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('hosted payment page in Chromium', function () {
  this.timeout(120_000);
  let database: Database;
  let release: () => Promise<void>;
  let hosted: { url: string; close: () => Promise<void>; logs: RecordingLogger };
  let otherSite: Awaited<ReturnType<typeof startOtherSite>>;
  let browser: Browser;
  let merchantId: string;

  before(async function () {
    requireBackend(
      this,
      `Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`,
      existsSync(CHROMIUM_PATH),
    );
    ({ database, release } = await createTestDatabase('pglite', this));
    merchantId = await insertMerchant(database.knex);
    await database.knex('merchants').where({ id: merchantId }).update({ name: 'Nordic Gear' });
    hosted = await startHostedServer({ knex: database.knex });
    otherSite = await startOtherSite();
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH });
  });
  after(async () => {
    await browser?.close();
    await otherSite?.close();
    await hosted?.close();
    await release?.();
  });

  /** A fresh page that records CSP violations and console errors. */
  async function openPage(): Promise<{ page: Page; problems: string[] }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      // Answers the test provokes (422) and the favicon (not ours) are logged as failed loads; CSP
      // violations and script errors are what count.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        problems.push(message.text());
      }
    });
    page.on('pageerror', (error) => problems.push(error.message));
    return { page, problems };
  }

  it('shows loading, then the requested form; refuses bad values; stores good ones; lands on the provider', async () => {
    const session = await insertHostedSession(database.knex, {
      merchantId,
      transaction: { amount_minor: 4990, currency: 'EUR' },
    });
    const { page, problems } = await openPage();
    const submissions: string[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/customer-data')) submissions.push(request.method());
    });

    await page.goto(`${hosted.url}/pay/${session.token}`);
    await page.getByRole('heading', { name: 'Preparing your payment' }).waitFor();
    expect(await page.locator('.merchant').textContent()).to.equal('Nordic Gear');
    expect(await page.locator('.amount').textContent()).to.equal('€49.90');

    // The orchestrator learns the provider needs more from the customer.
    await updateSession(database.knex, session.sessionId, {
      state: 'customer_data_required',
      required_fields: REQUESTED_FIELDS,
    });
    await page.locator('#customer-form').waitFor({ state: 'visible', timeout: STATE_CHANGE_MS });
    expect(await page.locator('#field-email').getAttribute('type')).to.equal('email');
    expect(await page.locator('#field-phone').getAttribute('type')).to.equal('tel');
    expect(await page.locator('#field-birth_date').getAttribute('type')).to.equal('date');
    expect(await page.getByLabel('Tax number').getAttribute('required')).to.equal(null);

    // A value the browser itself refuses: nothing is sent.
    await page.getByLabel('Email address').fill('ann@');
    await page.getByLabel('Mobile phone').fill('+49 30 5550123');
    await page.getByLabel('Date of birth').fill('1988-07-14');
    await page.getByLabel('Country').fill('de');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('#field-email-error').waitFor({ state: 'visible' });
    expect(await page.locator('#field-email-error').textContent()).to.equal(
      'Please enter a valid email address.',
    );
    expect(await page.locator('#field-email').getAttribute('aria-invalid')).to.equal('true');
    expect(submissions).to.deep.equal([]);

    // A value only the server refuses (a year the date input accepts): shown next to the field.
    await page.getByLabel('Email address').fill('ann.customer@example.com');
    await page.getByLabel('Date of birth').fill('1850-07-14');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('#field-birth_date-error').waitFor({ state: 'visible' });
    expect(submissions).to.deep.equal(['POST']);
    expect(await page.locator('#field-email-error').isVisible()).to.equal(false);

    await page.getByLabel('Date of birth').fill('1988-07-14');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Preparing your payment' }).waitFor();

    const transaction = await database.knex('transactions').where({ id: session.transactionId }).first();
    expect(transaction.customer_data).to.deep.equal({
      email: 'ann.customer@example.com',
      phone: '+49 30 5550123',
      birth_date: '1988-07-14',
      country: 'DE',
    });
    const outbox = await database.knex('outbox').where({ key: session.transactionId }).orderBy('id');
    expect(outbox.map((row) => decodeEvent(row.payload).envelope.type)).to.deep.equal([
      'CustomerDataSubmitted',
    ]);
    expect({ ...decodeEvent(outbox[0].payload).payload }).to.deep.equal({
      sessionId: session.sessionId,
      fieldNames: ['email', 'phone', 'birth_date', 'country'],
    });

    // The provider is ready: the browser goes there, without telling it where it came from.
    await updateSession(database.knex, session.sessionId, {
      state: 'redirect_ready',
      redirect_url: `${otherSite.url}/psp/checkout?ref=pi_42`,
    });
    await page.waitForURL(`${otherSite.url}/psp/checkout?ref=pi_42`, { timeout: STATE_CHANGE_MS });
    await page.getByRole('heading', { name: 'Provider checkout' }).waitFor();
    const landing = otherSite.requests.find((r) => r.path === '/psp/checkout?ref=pi_42')!;
    expect(landing.headers.referer, 'the payment link must not leak to the provider').to.equal(undefined);

    expect(problems, 'no CSP violations or script errors').to.deep.equal([]);
    expect(hosted.logs.lines.join('\n')).not.to.contain('ann.customer@example.com');
    await page.context().close();
  });

  it('shows a failed payment generically, with a link back to the merchant', async () => {
    const session = await insertHostedSession(database.knex, {
      merchantId,
      transaction: {
        status: 'AWAITING_PROVIDER',
        return_urls: JSON.stringify({
          success: `${otherSite.url}/return/success`,
          failure: `${otherSite.url}/return/failure?order=7`,
        }),
      },
    });
    const { page, problems } = await openPage();
    await page.goto(`${hosted.url}/pay/${session.token}`);
    await page.getByRole('heading', { name: 'Preparing your payment' }).waitFor();

    await database
      .knex('transactions')
      .where({ id: session.transactionId })
      .update({ status: 'DECLINED', status_reason: 'stripe-sim insufficient_funds sm_eu_1' });
    await page.getByRole('heading', { name: 'Payment not completed' }).waitFor({ timeout: STATE_CHANGE_MS });
    const text = await page.locator('body').innerText();
    expect(text).not.to.match(/DECLINED|stripe|insufficient|sm_eu_1/i);

    await page.getByRole('link', { name: 'Return to Nordic Gear' }).click();
    await page.waitForURL(`${otherSite.url}/return/failure?order=7`);
    await page.getByRole('heading', { name: 'Back at the shop' }).waitFor();
    expect(problems).to.deep.equal([]);
    await page.context().close();
  });

  it('shows a generic "not valid" page for an unknown link', async () => {
    const { page } = await openPage();
    const response = await page.goto(`${hosted.url}/pay/${newSessionToken()}`);
    expect(response!.status()).to.equal(404);
    await page.getByRole('heading', { name: 'This payment link is not valid' }).waitFor();
    await page.context().close();
  });
});
