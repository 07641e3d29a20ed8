/**
 * The merchant API (`/api/v2`) of the whole running platform under hostile input, over real HTTP:
 * property-based (fast-check) requests with bad credentials, malformed and mistyped JSON, deep nesting,
 * invalid UTF-8, hostile unicode, odd content types, duplicate and oversized headers, huge bodies and
 * mangled paths and queries. Whatever arrives, the API answers a 4xx RFC 9457 problem (never a 5xx),
 * the process stays alive, an unauthenticated request changes nothing, and whatever a deposit was
 * accepted with can be read back.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { validDeposit } from '../support/merchant-api.js';
import {
  badAuthorization,
  contentTypes,
  hostileJsonValue,
  hostilePathSegment,
  hostileString,
  INVALID_UTF8,
  jsonWithInvalidUtf8,
  malformedJsonText,
  mangledKey,
} from './support/hostile.js';
import { probe, rawExchange, type ProbeAnswer } from './support/http-probe.js';
import {
  describeRequest,
  expectAlive,
  expectHandled,
  expectProblem,
  expectUnchanged,
  settle,
  stateFingerprint,
} from './support/invariants.js';
import { applyMutation, mutation } from './support/mutations.js';
import {
  DRIVERS,
  runsFor,
  startSecurityPlatform,
  type SecurityPlatform,
} from './support/security-platform.js';

const RUNS = 150;
const AUTHENTICATED_ROUTES = [
  { method: 'POST', path: '/api/v2/deposit' },
  { method: 'GET', path: '/api/v2/transactions/tx_00000000-0000-0000-0000-000000000000' },
  { method: 'GET', path: '/api/v2/transactions?merchantTransactionId=order-1' },
] as const;

for (const driver of DRIVERS) {
  describe(`merchant API under hostile input (${driver})`, function () {
    this.timeout(180_000);
    let t: SecurityPlatform;
    let order = 0;

    before(async function () {
      t = await startSecurityPlatform(this, driver);
    });
    after(async () => t?.stop());

    const knex = () => t.platform.database.knex;
    const bearer = () => `Bearer ${t.merchant.apiKey}`;
    const deposit = (body: string | Buffer, headers: Record<string, string | string[]> = {}) =>
      probe(t.url, {
        method: 'POST',
        path: '/api/v2/deposit',
        headers: { authorization: bearer(), 'content-type': 'application/json', ...headers },
        body,
      });
    /** Runs `request` and checks the invariants, including "nothing changed" when `unchanged`. */
    const checked = async (what: string, request: () => Promise<ProbeAnswer>, unchanged: boolean) => {
      const before = unchanged ? await stateFingerprint(knex()) : undefined;
      const answer = await request();
      expectHandled(answer, what);
      if (before) expectUnchanged(before, await stateFingerprint(knex()), what);
      return answer;
    };

    it('lets no request in without a valid API key, on any route, and changes nothing', async () => {
      await settle(knex());
      const authorization = fc.oneof(
        badAuthorization,
        mangledKey(t.merchant.apiKey).map((key) => `Bearer ${key}`),
        fc.constant(undefined),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...AUTHENTICATED_ROUTES),
          authorization,
          fc.oneof(
            fc.constant(JSON.stringify(validDeposit({ merchantTransactionId: 'never-stored' }))),
            malformedJsonText,
          ),
          async (route, auth, body) => {
            const what = describeRequest(route.method, route.path, auth);
            const answer = await checked(
              what,
              () =>
                probe(t.url, {
                  method: route.method,
                  path: route.path,
                  headers: {
                    'content-type': 'application/json',
                    ...(auth === undefined ? {} : { authorization: auth }),
                  },
                  ...(route.method === 'POST' ? { body } : {}),
                }),
              true,
            );
            expect(answer.status, what).to.equal(401);
            expect(answer.headers['www-authenticate'], what).to.match(/^Bearer realm="merchant-api"/);
          },
        ),
        { numRuns: runsFor(driver, RUNS) },
      );
      await expectAlive(t.url);
    });

    it('keeps the first of duplicate Authorization and Content-Type headers (no smuggled credentials)', async () => {
      await settle(knex());
      const before = await stateFingerprint(knex());
      const body = JSON.stringify(validDeposit({ merchantTransactionId: `dup-${order++}` }));
      const first = await checked(
        'forged then valid Authorization',
        () =>
          probe(t.url, {
            method: 'POST',
            path: '/api/v2/deposit',
            headers: { authorization: ['Bearer forged', bearer()], 'content-type': 'application/json' },
            body,
          }),
        true,
      );
      expect(first.status).to.equal(401);
      const typed = await checked(
        'text/plain then application/json',
        () => deposit(body, { 'content-type': ['text/plain', 'application/json'] }),
        true,
      );
      expect(typed.status).to.equal(415);
      const raw = await rawExchange(
        t.url,
        `POST /api/v2/deposit HTTP/1.1\r\nHost: x\r\nAuthorization: Basic x\r\nAuthorization: ${bearer()}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      expect(raw.status).to.equal(401);
      expectUnchanged(before, await stateFingerprint(knex()), 'duplicate headers');
      await expectAlive(t.url);
    });

    it('answers malformed JSON, wrong types, deep nesting and odd content types with a 4xx problem', async () => {
      await settle(knex());
      const body = fc.oneof(
        malformedJsonText,
        hostileJsonValue.map((value) => JSON.stringify(value) ?? 'null'),
        fc
          .tuple(fc.constantFrom(...INVALID_UTF8), fc.boolean())
          .map(([bytes, inKey]) =>
            inKey
              ? jsonWithInvalidUtf8('{"', bytes, '":1}')
              : jsonWithInvalidUtf8('{"merchantTransactionId":"a', bytes, '"}'),
          ),
      );
      await fc.assert(
        fc.asyncProperty(body, contentTypes, async (payload, contentType) => {
          const what = describeRequest(
            'POST',
            '/api/v2/deposit',
            `${contentType} ${String(payload).slice(0, 120)}`,
          );
          const answer = await checked(what, () => deposit(payload, { 'content-type': contentType }), true);
          expect(answer.status, what).to.be.oneOf([400, 413, 415]);
        }),
        { numRuns: runsFor(driver, RUNS) },
      );
      await expectAlive(t.url);
    });

    it('refuses oversized bodies (declared or streamed) with 413 and oversized headers at the HTTP layer', async () => {
      await settle(knex());
      const before = await stateFingerprint(knex());
      const huge = Buffer.alloc(70 * 1024, 'a');
      const declared = await deposit(huge);
      expectHandled(declared, 'declared 70 KiB', { mayReset: true });
      if (!declared.reset) expect(declared.status).to.equal(413);
      // Chunked (no Content-Length): the limit is enforced while streaming.
      const chunked = await rawExchange(
        t.url,
        Buffer.concat([
          Buffer.from(
            `POST /api/v2/deposit HTTP/1.1\r\nHost: x\r\nAuthorization: ${bearer()}\r\n` +
              'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
          ),
          ...Array.from({ length: 20 }, () => Buffer.from(`1000\r\n${'['.repeat(0x1000)}\r\n`)),
          Buffer.from('0\r\n\r\n'),
        ]),
      );
      expect(chunked.status).to.equal(413);
      expect(chunked.head).to.match(/content-type: application\/problem\+json/i);
      // Headers beyond Node's limit never reach the application: the HTTP layer answers 431.
      const bigHeader = await rawExchange(
        t.url,
        `GET /api/v2/transactions?merchantTransactionId=a HTTP/1.1\r\nHost: x\r\nAuthorization: ${bearer()}\r\n` +
          `X-Padding: ${'p'.repeat(64 * 1024)}\r\nConnection: close\r\n\r\n`,
      );
      expect(bigHeader.status).to.equal(431);
      const manyHeaders = await probe(t.url, {
        method: 'GET',
        path: '/api/v2/transactions?merchantTransactionId=a',
        headers: {
          authorization: bearer(),
          ...Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`x-h${i}`, 'v'])),
        },
      });
      expectHandled(manyHeaders, '300 headers');
      // Request smuggling shapes: both Content-Length and Transfer-Encoding, or two lengths.
      for (const smuggle of [
        'Content-Length: 4\r\nTransfer-Encoding: chunked\r\n',
        'Content-Length: 4\r\nContent-Length: 5\r\n',
        'Transfer-Encoding: chunked, identity\r\n',
      ]) {
        const answer = await rawExchange(
          t.url,
          `POST /api/v2/deposit HTTP/1.1\r\nHost: x\r\nAuthorization: ${bearer()}\r\nContent-Type: application/json\r\n` +
            `${smuggle}Connection: close\r\n\r\n0\r\n\r\n`,
        );
        expect(answer.status, smuggle).to.be.within(400, 499);
      }
      expectUnchanged(before, await stateFingerprint(knex()), 'oversized and smuggling requests');
      await expectAlive(t.url);
    });

    it('answers mangled transaction ids and query strings with a 4xx problem', async () => {
      await settle(knex());
      const query = fc.oneof(
        fc.constantFrom(
          '',
          '?',
          '?merchantTransactionId',
          '?merchantTransactionId=',
          '?merchantTransactionId=a&merchantTransactionId=b',
          '?merchantTransactionId[]=a',
          '?merchantTransactionId[a]=b',
          '?__proto__=x&merchantTransactionId=a',
          '?constructor=x',
          '?merchantTransactionId=%',
          '?merchantTransactionId=%00',
          '?merchantTransactionId=%ED%A0%80',
          `?merchantTransactionId=${'a'.repeat(5000)}`,
          `?${'&'.repeat(3000)}`,
          `?${Array.from({ length: 1500 }, (_, i) => `p${i}=1`).join('&')}`,
        ),
        hostileString(30).map(
          (s) => `?merchantTransactionId=${encodeURIComponent(s.replace(/[\ud800-\udfff]/g, 'x'))}`,
        ),
      );
      const path = fc.oneof(
        query.map((q) => `/api/v2/transactions${q}`),
        hostilePathSegment.map((segment) => `/api/v2/transactions/${segment}`),
        hostilePathSegment.map((segment) => `/api/v2/${segment}`),
      );
      await fc.assert(
        fc.asyncProperty(
          path,
          fc.constantFrom('GET', 'HEAD', 'DELETE', 'PUT', 'OPTIONS', 'PATCH'),
          async (p, method) => {
            const what = describeRequest(method, p);
            await checked(
              what,
              () => probe(t.url, { method, path: p, headers: { authorization: bearer() } }),
              true,
            );
          },
        ),
        { numRuns: runsFor(driver, RUNS) },
      );
      await expectAlive(t.url);
    });

    it('serves the OpenAPI document to any caller whatever headers come with it, and nothing else there', async () => {
      await fc.assert(
        fc.asyncProperty(badAuthorization, contentTypes, async (auth, contentType) => {
          const answer = await probe(t.url, {
            method: 'GET',
            path: '/api/v2/openapi.json',
            headers: { authorization: auth, 'content-type': contentType, accept: 'text/html;q=0.1, */*' },
          });
          expect(answer.status).to.equal(200);
          expect((answer.json as { openapi?: string }).openapi).to.match(/^3\./);
        }),
        { numRuns: runsFor(driver, 40) },
      );
      const post = await probe(t.url, { method: 'POST', path: '/api/v2/openapi.json', body: '{}' });
      expect(post.status).to.equal(405);
      expectProblem(post, 'POST openapi.json');
    });

    // Last: accepted deposits go on being processed (some amounts answer only after a provider timeout),
    // which would move the state the "changes nothing" checks above compare.
    it('accepts or refuses (400 naming the member) a valid deposit with one member mutated, and reads back what it accepted', async () => {
      await fc.assert(
        fc.asyncProperty(mutation, async (m) => {
          const base = validDeposit({
            merchantTransactionId: `fuzz-${Date.now().toString(36)}-${order++}`,
            metadata: { note: 'x' },
            customer: { email: 'ada@example.com', firstName: 'Ada', country: 'DE' },
            returnUrls: {
              success: 'https://shop.example/ok',
              failure: 'https://shop.example/failed',
              cancel: 'https://shop.example/cancel',
            },
            webhookUrl: 'https://hooks.shop.example/payments',
          });
          const { document, path } = applyMutation(base, m);
          const what = describeRequest('POST', '/api/v2/deposit', path);
          const answer = await checked(what, () => deposit(JSON.stringify(document) ?? 'null'), false);
          if (answer.status === 400) {
            expect((answer.json as { errors?: unknown[] }).errors, what)
              .to.be.an('array')
              .with.length.above(0);
            return;
          }
          expect(answer.status, what).to.equal(201);
          const { transactionId } = answer.json as { transactionId: string };
          const read = await probe(t.url, {
            method: 'GET',
            path: `/api/v2/transactions/${transactionId}`,
            headers: { authorization: bearer() },
          });
          expect(read.status, `${what}: read back`).to.equal(200);
        }),
        { numRuns: runsFor(driver, RUNS * 2) },
      );
      await expectAlive(t.url);
    });
  });
}
