/**
 * The hosted payment page's HTTP API on a real server and a real database (PGlite and PostgreSQL):
 * the page and its security headers, the polled state, and customer-data submission — validation,
 * unknown and expired links, conflicts, idempotent resubmits, CSRF, size and rate limits — with the
 * database, the outbox and the logs checked after each.
 */
import { expect } from 'chai';
import type { Database } from '../../adapters/db/index.js';
import { newSessionToken } from '../../core/transactions/session-token.js';
import { decodeEvent } from '../../schemas/index.js';
import { createTestDatabase } from '../support/database.js';
import { insertMerchant } from '../support/fixtures.js';
import {
  insertHostedSession,
  REQUESTED_FIELDS,
  RETURN_URLS,
  startHostedServer,
  updateSession,
  type HostedSession,
  type RecordingLogger,
} from './hosted-support.js';

const VALUES = {
  email: 'ann.customer@example.com',
  phone: '+49 30 5550123',
  birth_date: '1988-07-14',
  country: 'de',
  tax_id: '',
};

for (const driver of ['pglite', 'postgres'] as const) {
  describe(`hosted payment page API (${driver})`, function () {
    this.timeout(30_000);
    let database: Database;
    let release: () => Promise<void>;
    let server: { url: string; close: () => Promise<void>; logs: RecordingLogger };
    let merchantId: string;

    before(async function () {
      ({ database, release } = await createTestDatabase(driver, this));
      merchantId = await insertMerchant(database.knex);
      await database.knex('merchants').where({ id: merchantId }).update({ name: 'Café <Zürich>' });
      server = await startHostedServer({
        knex: database.knex,
        publicBaseUrl: 'https://pay.example',
        limits: { submissionsPerMinute: 1000, unknownTokensPerMinute: 1000 },
      });
    });
    after(async () => {
      await server?.close();
      await release?.();
    });

    const newSession = (options: Parameters<typeof insertHostedSession>[1] = {}) =>
      insertHostedSession(database.knex, { merchantId, ...options });

    /** A session waiting for the customer, as the orchestrator leaves it. */
    async function awaitingSession(options: Parameters<typeof insertHostedSession>[1] = {}) {
      const session = await newSession({
        ...options,
        transaction: {
          status: 'AWAITING_CUSTOMER_DATA',
          customer_data: JSON.stringify({ first_name: 'Ann' }),
          ...options.transaction,
        },
      });
      await updateSession(database.knex, session.sessionId, {
        state: 'customer_data_required',
        required_fields: REQUESTED_FIELDS,
      });
      return session;
    }

    /** Posts customer data for `session` to `baseUrl` (default: the suite's server), from its origin. */
    function submit(
      session: Pick<HostedSession, 'token'>,
      values: unknown,
      headers: Record<string, string> = {},
      baseUrl = server.url,
    ): Promise<Response> {
      return fetch(`${baseUrl}/pay/${session.token}/customer-data`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: baseUrl, ...headers },
        body: typeof values === 'string' ? values : JSON.stringify({ values }),
      });
    }

    async function state(session: Pick<HostedSession, 'token'>): Promise<Record<string, unknown>> {
      const response = await fetch(`${server.url}/pay/${session.token}/state`);
      expect(response.status).to.equal(200);
      expect(response.headers.get('cache-control')).to.equal('no-store');
      return (await response.json()) as Record<string, unknown>;
    }

    const events = async (transactionId: string) =>
      (await database.knex('outbox').where({ key: transactionId }).orderBy('id')).map((row) =>
        decodeEvent(row.payload),
      );

    it('serves the page with a strict CSP, no referrer, no framing, no caching', async () => {
      const session = await newSession();
      const response = await fetch(`${server.url}/pay/${session.token}`);
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.match(/^text\/html/);
      const csp = response.headers.get('content-security-policy')!;
      expect(csp).to.contain("default-src 'none'");
      expect(csp).to.contain("script-src 'self'");
      expect(csp).to.contain("frame-ancestors 'none'");
      expect(csp).not.to.contain('unsafe-inline');
      expect(response.headers.get('referrer-policy')).to.equal('no-referrer');
      expect(response.headers.get('x-frame-options')).to.equal('DENY');
      expect(response.headers.get('cache-control')).to.equal('no-store');
      const html = await response.text();
      expect(html).to.contain('Café &lt;Zürich&gt;');
      expect(html).to.contain('€10.00');
      expect(html).not.to.match(/<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
      expect(html).not.to.match(/<style|style=/, 'no inline style');

      const scriptPath = /<script src="([^"]+)"/.exec(html)![1]!;
      const script = await fetch(`${server.url}${scriptPath}`);
      expect(script.status).to.equal(200);
      expect(script.headers.get('content-type')).to.match(/^text\/javascript/);
      expect(script.headers.get('cache-control')).to.contain('immutable');
      expect(await script.text()).to.contain('customer-data');
      expect((await fetch(`${server.url}/pay/assets/nope.js`)).status).to.equal(404);
    });

    it('answers a generic "not valid" page (404) for unknown and malformed links, without touching anything', async () => {
      for (const token of [newSessionToken(), 'short', 'x'.repeat(43) + '!']) {
        const response = await fetch(`${server.url}/pay/${encodeURIComponent(token)}`);
        expect(response.status, token).to.equal(404);
        const html = await response.text();
        expect(html).to.contain('This payment link is not valid');
        expect(html).not.to.contain('<script');
        const stateResponse = await fetch(`${server.url}/pay/${encodeURIComponent(token)}/state`);
        expect(stateResponse.status).to.equal(404);
        expect(stateResponse.headers.get('content-type')).to.equal('application/problem+json');
        expect(await stateResponse.json()).to.include({ code: 'PAYMENT_LINK_NOT_FOUND' });
        const submitted = await submit({ token }, { email: 'a@b.example' });
        expect(submitted.status).to.equal(404);
      }
    });

    it('shows an expired link as expired (410) with the way back to the merchant', async () => {
      const session = await awaitingSession({ session: { expires_at: new Date(Date.now() - 1000) } });
      const response = await fetch(`${server.url}/pay/${session.token}`);
      expect(response.status).to.equal(410);
      const html = await response.text();
      expect(html).to.contain('This payment session has expired');
      expect(html).to.contain(`href="${RETURN_URLS.failure.replace('&', '&amp;')}"`);
      expect(await state(session)).to.deep.equal({
        state: 'expired',
        returnUrl: RETURN_URLS.failure,
        pollAfterMs: 0,
      });
      const submitted = await submit(session, VALUES);
      expect(submitted.status).to.equal(410);
      expect(await submitted.json()).to.include({ code: 'SESSION_EXPIRED' });
    });

    it('follows the session through loading, form, redirect and the final outcome, customer-safe only', async () => {
      const session = await newSession({
        transaction: { status_reason: 'stripe-sim velocity_limit sm_123' },
      });
      expect(await state(session)).to.deep.equal({ state: 'loading', pollAfterMs: 1000 });

      await updateSession(database.knex, session.sessionId, {
        state: 'customer_data_required',
        required_fields: REQUESTED_FIELDS,
      });
      const form = await state(session);
      expect(form.state).to.equal('form');
      expect(
        (form.fields as { name: string; type: string }[]).map((f) => `${f.name}:${f.type}`),
      ).to.deep.equal(['email:email', 'phone:tel', 'birth_date:date', 'country:text', 'tax_id:text']);

      await updateSession(database.knex, session.sessionId, {
        state: 'redirect_ready',
        redirect_url: 'https://psp.example/checkout/abc',
      });
      expect(await state(session)).to.deep.equal({
        state: 'redirect',
        redirectUrl: 'https://psp.example/checkout/abc',
        pollAfterMs: 0,
      });

      await database.knex('transactions').where({ id: session.transactionId }).update({ status: 'DECLINED' });
      const failed = await state(session);
      expect(failed).to.deep.equal({ state: 'failed', returnUrl: RETURN_URLS.failure, pollAfterMs: 0 });
      expect(JSON.stringify(failed)).not.to.match(/DECLINED|stripe|velocity|sm_123/);

      await database.knex('transactions').where({ id: session.transactionId }).update({ status: 'APPROVED' });
      expect(await state(session)).to.deep.include({ state: 'completed', returnUrl: RETURN_URLS.success });
    });

    it('refuses invalid values with per-field errors that never echo a value, and changes nothing', async () => {
      const session = await awaitingSession();
      const response = await submit(session, {
        email: 'not-an-email',
        phone: '12',
        birth_date: '1988-02-30',
        country: 'Germany',
        tax_id: 'SECRET-123',
        card_number: '4111111111111111',
      });
      expect(response.status).to.equal(422);
      expect(response.headers.get('content-type')).to.equal('application/problem+json');
      const problem = (await response.json()) as { code: string; errors: { field: string; code: string }[] };
      expect(problem.code).to.equal('VALIDATION_FAILED');
      expect(problem.errors).to.deep.equal([
        { field: 'card_number', code: 'unknown_field' },
        { field: 'email', code: 'invalid_format' },
        { field: 'phone', code: 'invalid_format' },
        { field: 'birth_date', code: 'invalid_format' },
        { field: 'country', code: 'too_long' },
        { field: 'tax_id', code: 'pattern_mismatch' },
      ]);
      expect(JSON.stringify(problem)).not.to.match(/not-an-email|SECRET-123|4111/);

      const missing = await submit(session, { email: VALUES.email });
      expect(missing.status).to.equal(422);
      expect(((await missing.json()) as { errors: unknown[] }).errors).to.deep.include({
        field: 'phone',
        code: 'required',
      });

      const row = await database.knex('transactions').where({ id: session.transactionId }).first();
      expect(row.customer_data).to.deep.equal({ first_name: 'Ann' });
      expect(await events(session.transactionId)).to.have.length(0);
      expect(server.logs.lines.join('\n')).not.to.match(/not-an-email|SECRET-123|4111/);
    });

    it('stores valid values, moves the session back to loading and records CustomerDataSubmitted, in one go', async () => {
      const session = await awaitingSession();
      const response = await submit(session, VALUES);
      expect(response.status).to.equal(200);
      expect(await response.json()).to.deep.equal({ state: 'loading', pollAfterMs: 1000 });

      const transaction = await database.knex('transactions').where({ id: session.transactionId }).first();
      expect(transaction.customer_data).to.deep.equal({
        first_name: 'Ann',
        email: VALUES.email,
        phone: VALUES.phone,
        birth_date: VALUES.birth_date,
        country: 'DE',
      });
      const row = await database.knex('payment_sessions').where({ id: session.sessionId }).first();
      expect(row.state).to.equal('loading');
      expect(row.customer_data_submitted_at).to.be.instanceOf(Date);

      const recorded = await events(session.transactionId);
      expect(recorded.map((e) => e.envelope.type)).to.deep.equal(['CustomerDataSubmitted']);
      expect({ ...recorded[0]!.payload }).to.deep.equal({
        sessionId: session.sessionId,
        fieldNames: ['email', 'phone', 'birth_date', 'country'],
      });
      const raw = await database.knex('outbox').where({ key: session.transactionId }).first();
      expect(Buffer.from(raw.payload).toString('latin1')).not.to.contain(VALUES.email);
      const timeline = await database
        .knex('transaction_timeline')
        .where({ transaction_id: session.transactionId })
        .first();
      expect(timeline.entry_type).to.equal('CustomerDataSubmitted');
      expect(JSON.stringify(timeline)).not.to.contain(VALUES.email);

      const logged = server.logs.lines.filter((line) => line.includes(session.transactionId));
      expect(logged.join('\n')).to.contain('customer data submitted');
      // The line carries the request's id and the ids the route learned, from the log context.
      const submitted = JSON.parse(logged.find((line) => line.includes('customer data submitted'))!);
      expect(submitted).to.include({ transactionId: session.transactionId });
      expect(submitted.requestId).to.match(/^[0-9a-f-]{36}$/);
      expect(submitted.sessionId).to.be.a('string');
      expect(server.logs.lines.join('\n')).not.to.contain(VALUES.email);
      expect(server.logs.lines.join('\n')).not.to.contain(VALUES.phone);
      expect(server.logs.lines.join('\n')).not.to.contain(session.token);
    });

    it('answers a repeated submit of the same values with 200 and records nothing new; other values get 409', async () => {
      const session = await awaitingSession();
      expect((await submit(session, VALUES)).status).to.equal(200);
      const again = await submit(session, { ...VALUES, email: ` ${VALUES.email} `, country: 'DE' });
      expect(again.status).to.equal(200);
      expect(await again.json()).to.deep.equal({ state: 'loading', pollAfterMs: 1000 });
      expect(await events(session.transactionId)).to.have.length(1);

      const different = await submit(session, { ...VALUES, email: 'someone.else@example.com' });
      expect(different.status).to.equal(409);
      expect(await different.json()).to.include({ code: 'NOT_AWAITING_CUSTOMER_DATA' });
      expect(await events(session.transactionId)).to.have.length(1);
      const transaction = await database.knex('transactions').where({ id: session.transactionId }).first();
      expect(transaction.customer_data.email).to.equal(VALUES.email);
    });

    it('records exactly one submission when the same form is sent twice at once', async () => {
      const session = await awaitingSession();
      const answers = await Promise.all([submit(session, VALUES), submit(session, VALUES)]);
      expect(answers.map((a) => a.status)).to.deep.equal([200, 200]);
      expect(await events(session.transactionId)).to.have.length(1);
    });

    it('refuses customer data the session is not waiting for (409) and submissions to a finished payment', async () => {
      const loading = await newSession();
      const response = await submit(loading, { email: VALUES.email });
      expect(response.status).to.equal(409);
      expect(await response.json()).to.include({ code: 'NOT_AWAITING_CUSTOMER_DATA' });

      const paid = await awaitingSession({ transaction: { status: 'APPROVED' } });
      const closed = await submit(paid, VALUES);
      expect(closed.status).to.equal(409);
      expect(await closed.json()).to.include({ code: 'PAYMENT_FINISHED' });
      expect(await events(loading.transactionId)).to.have.length(0);
      expect(await events(paid.transactionId)).to.have.length(0);
    });

    it('accepts submissions only from the page itself, as JSON, within the size limit', async () => {
      const session = await awaitingSession();
      const crossSite = await submit(session, VALUES, { origin: 'https://evil.example' });
      expect(crossSite.status).to.equal(403);
      expect(await crossSite.json()).to.include({ code: 'CROSS_ORIGIN_REQUEST' });
      expect((await submit(session, VALUES, { origin: 'null' })).status).to.equal(403);
      expect((await submit(session, VALUES, { origin: '' })).status, 'no Origin').to.equal(403);
      expect((await submit(session, VALUES, { origin: 'https://pay.example' })).status).to.equal(200);

      const other = await awaitingSession();
      const form = await fetch(`${server.url}/pay/${other.token}/customer-data`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url },
        body: 'email=a%40b.example',
      });
      expect(form.status).to.equal(415);
      expect((await submit(other, '{"values":')).status).to.equal(400);
      expect((await submit(other, '{"values":["a"]}')).status).to.equal(400);
      const huge = await submit(other, { email: 'x'.repeat(20_000) });
      expect(huge.status).to.equal(413);
      expect(await events(other.transactionId)).to.have.length(0);
    });

    it('does not count submissions the platform failed to process against the link (no 429 after an outage)', async () => {
      const limited = await startHostedServer({ knex: database.knex, limits: { submissionsPerMinute: 2 } });
      try {
        const session = await awaitingSession();
        const post = () => submit(session, { email: 'bad' }, {}, limited.url);
        // The sessions table is unreachable for a moment (like a database outage): every submission fails.
        await database.knex.raw('alter table payment_sessions rename to payment_sessions_away');
        try {
          for (let i = 0; i < 3; i++) expect((await post()).status).to.be.at.least(500);
        } finally {
          await database.knex.raw('alter table payment_sessions_away rename to payment_sessions');
        }
        expect((await post()).status, 'the failed submissions used up nothing').to.equal(422);
      } finally {
        await limited.close();
      }
    });

    it('rate-limits one link and clients guessing links (429 with Retry-After)', async () => {
      const limited = await startHostedServer({
        knex: database.knex,
        limits: { submissionsPerMinute: 2, statePollsPerMinute: 3, unknownTokensPerMinute: 2 },
      });
      try {
        const session = await awaitingSession();
        const post = () => submit(session, { email: 'bad' }, {}, limited.url);
        expect((await post()).status).to.equal(422);
        expect((await post()).status).to.equal(422);
        const refused = await post();
        expect(refused.status).to.equal(429);
        expect(Number(refused.headers.get('retry-after'))).to.be.greaterThan(0);

        for (let i = 0; i < 3; i++) {
          expect((await fetch(`${limited.url}/pay/${session.token}/state`)).status).to.equal(200);
        }
        expect((await fetch(`${limited.url}/pay/${session.token}/state`)).status).to.equal(429);

        const guesses = [];
        for (let i = 0; i < 4; i++)
          guesses.push((await fetch(`${limited.url}/pay/${newSessionToken()}`)).status);
        expect(guesses).to.deep.equal([404, 404, 429, 429]);
        const customer = await newSession();
        expect(
          (await fetch(`${limited.url}/pay/${customer.token}`)).status,
          'guessing from the same address never locks a customer out of a valid link',
        ).to.equal(200);
      } finally {
        await limited.close();
      }
    });
  });
}
