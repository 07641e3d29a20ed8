/**
 * The hosted payment page (`/pay/:token`, `/pay/:token/state`, `/pay/:token/customer-data`) of the whole
 * running platform under hostile input, over real HTTP. The token in the path is the customer's only
 * credential: forged, mangled or guessed tokens get nothing and change nothing (and guessing is rate
 * limited per client address, which spoofed forwarding headers do not reset). A real session waiting
 * for customer details gets hostile values, wrong types, malformed and oversized bodies, odd content
 * types and cross-origin headers: never a 5xx, every error an RFC 9457 problem, the process alive.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { sampleFieldValue } from '../../platform/demo/sample-values.js';
import { eventually } from '../support/eventually.js';
import {
  contentTypes,
  hostileJsonValue,
  hostileKey,
  hostilePathSegment,
  hostileString,
  INVALID_UTF8,
  jsonWithInvalidUtf8,
  malformedJsonText,
} from './support/hostile.js';
import { probe, type ProbeAnswer } from './support/http-probe.js';
import {
  describeRequest,
  expectAlive,
  expectHandled,
  expectProblem,
  expectUnchanged,
  settle,
  stateFingerprint,
} from './support/invariants.js';
import {
  DRIVERS,
  runsFor,
  startSecurityPlatform,
  type SecurityPlatform,
} from './support/security-platform.js';

interface Session {
  transactionId: string;
  path: string;
  token: string;
  fields: Array<{ name: string; kind: string }>;
}

/** Sessions waiting for customer details: each takes 10 submissions a minute, so the fuzz spreads over several. */
const FORM_SESSIONS = 12;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

for (const driver of DRIVERS) {
  describe(`hosted payment page under hostile input (${driver})`, function () {
    this.timeout(180_000);
    let t: SecurityPlatform;
    const sessions: Session[] = [];
    let next = 0;

    before(async function () {
      t = await startSecurityPlatform(this, driver);
      for (let i = 0; i < FORM_SESSIONS; i++) {
        // Amounts ending in 04: the simulated provider asks for the customer fields the merchant did not send.
        const { status, body } = await t.deposit({
          merchantTransactionId: `hosted-fuzz-${Date.now()}-${i}`,
          amount: { value: 1004 + i * 100, currency: 'EUR' },
          paymentMethod: 'card',
          returnUrls: { success: 'https://shop.example/ok', failure: 'https://shop.example/failed' },
        });
        expect(status, JSON.stringify(body)).to.equal(201);
        const url = new URL(body.hostedPaymentUrl as string);
        sessions.push({
          transactionId: body.transactionId,
          path: url.pathname,
          token: url.pathname.split('/')[2]!,
          fields: [],
        });
      }
      for (const session of sessions) {
        let state: { state?: string; fields?: Session['fields'] } = {};
        await eventually(
          async () =>
            (state = (await (await fetch(`${t.url}${session.path}/state`)).json()) as typeof state).state ===
            'form',
          30_000,
          `session ${session.transactionId} asks for customer fields`,
        );
        session.fields = state.fields!;
      }
    });
    after(async () => t?.stop());

    const knex = () => t.platform.database.knex;
    const sameOrigin = () => ({ origin: new URL(t.url).origin });
    const session = () => sessions[next++ % sessions.length]!;

    it('gives forged, mangled and guessed tokens nothing on any route, and changes nothing', async () => {
      await settle(knex());
      const real = sessions[0]!.token;
      const token = fc.oneof(
        fc.stringMatching(TOKEN),
        fc
          .integer({ min: 0, max: 42 })
          .map((i) => `${real.slice(0, i)}${real[i] === 'A' ? 'B' : 'A'}${real.slice(i + 1)}`),
        fc.constantFrom(
          real.slice(1),
          `${real}A`,
          real.toLowerCase() === real ? real.toUpperCase() : real.toLowerCase(),
        ),
        hostilePathSegment,
      );
      const route = fc.constantFrom('page', 'state', 'customer-data');
      await fc.assert(
        fc.asyncProperty(token, route, hostileJsonValue, async (candidate, kind, values) => {
          fc.pre(candidate !== real);
          const path = kind === 'page' ? `/pay/${candidate}` : `/pay/${candidate}/${kind}`;
          const what = describeRequest(kind === 'customer-data' ? 'POST' : 'GET', path);
          const before = await stateFingerprint(knex());
          const answer =
            kind === 'customer-data'
              ? await probe(t.url, {
                  method: 'POST',
                  path,
                  headers: { 'content-type': 'application/json', ...sameOrigin() },
                  body: JSON.stringify({ values }),
                })
              : await probe(t.url, { method: 'GET', path });
          expectUnchanged(before, await stateFingerprint(knex()), what);
          // Dot segments ("/pay/./state") normalise to the page route ("/pay/state"): judge by what the server routes.
          const routedToPage = /^\/pay\/[^/]+$/.test(new URL(path, 'http://platform.test').pathname);
          if (
            (kind === 'page' || routedToPage) &&
            /^text\/html/.test(String(answer.headers['content-type']))
          ) {
            // The page itself answers HTML: "not valid" (404) or "please wait" (429).
            expect(answer.status, what).to.be.oneOf([404, 429]);
          } else {
            expectHandled(answer, what);
            expect(answer.status, what).to.be.oneOf([400, 404, 405, 429]);
          }
        }),
        { numRuns: runsFor(driver, 150) },
      );
      await expectAlive(t.url);
    });

    it('does not let spoofed forwarding headers reset the limit on guessing links, nor lock out real links', async () => {
      for (let i = 0; i < 40; i++) {
        const answer = await probe(t.url, {
          method: 'GET',
          path: `/pay/${'x'.repeat(40)}${String(i).padStart(3, '0')}/state`,
          headers: {
            'x-forwarded-for': `203.0.113.${i}`,
            'x-real-ip': `198.51.100.${i}`,
            forwarded: `for=192.0.2.${i}`,
          },
        });
        expectHandled(answer, `guess ${i}`);
      }
      const guessed = await probe(t.url, {
        method: 'GET',
        path: `/pay/${'y'.repeat(43)}/state`,
        headers: { 'x-forwarded-for': '192.0.2.99' },
      });
      expect(guessed.status).to.equal(429);
      const real = await probe(t.url, { method: 'GET', path: `${sessions[1]!.path}/state` });
      expect(real.status).to.equal(200);
    });

    it('answers hostile customer values for the requested fields with 200 or a 4xx problem, never a 5xx', async () => {
      const hostileValue = fc.oneof(
        hostileString(60),
        fc
          .tuple(fc.constantFrom('ada@example.com', '+4915112345678', '1990-01-01'), hostileString(8))
          .map(([plain, hostile]) => `${plain}${hostile}`),
        fc
          .tuple(hostileString(8), fc.constantFrom('ada@example.com', '+4915112345678'))
          .map(([hostile, plain]) => `${hostile}${plain}`),
        hostileJsonValue,
        fc.integer({ min: 300, max: 5000 }).map((n) => 'a'.repeat(n)),
      );
      // Every field valid but one: a hostile value that passes its field's check reaches the database.
      const submission = fc.record({
        field: fc.nat(),
        value: hostileValue,
        extra: fc.dictionary(hostileKey, hostileJsonValue, { maxKeys: 2 }),
      });
      await fc.assert(
        fc.asyncProperty(submission, async ({ field, value, extra }) => {
          const s = session();
          const values: Record<string, unknown> = Object.fromEntries(
            s.fields.map((f) => [f.name, sampleFieldValue(f.name, f.kind)]),
          );
          values[s.fields[field % s.fields.length]!.name] = value;
          for (const [key, item] of Object.entries(extra))
            Object.defineProperty(values, key, {
              value: item,
              enumerable: true,
              configurable: true,
              writable: true,
            });
          const what = describeRequest('POST', `${s.path.slice(0, 12)}…/customer-data`, values);
          const answer = await probe(t.url, {
            method: 'POST',
            path: `${s.path}/customer-data`,
            headers: { 'content-type': 'application/json', ...sameOrigin() },
            body: JSON.stringify({ values }),
          });
          expectHandled(answer, what);
          expect(answer.status, what).to.be.oneOf([200, 409, 422, 429]);
          const state = await probe(t.url, { method: 'GET', path: `${s.path}/state` });
          expectHandled(state, `${what}: state afterwards`);
        }),
        {
          numRuns: runsFor(driver, 80),
          // NUL and a lone surrogate pass an email pattern like [^\s@]+ and used to reach jsonb: 500.
          examples: [
            [{ field: 0, value: 'ada\u0000@example.com', extra: {} }],
            [{ field: 0, value: 'ada\ud800@example.com', extra: {} }],
            [{ field: 1, value: '+49151\u0000', extra: {} }],
          ],
        },
      );
      await expectAlive(t.url);
    });

    it('answers malformed bodies, odd content types and cross-origin submissions with a 4xx problem and changes nothing', async () => {
      await settle(knex());
      const body = fc.oneof(
        malformedJsonText,
        hostileJsonValue.map((v) => JSON.stringify(v) ?? 'null'),
        hostileJsonValue.map((v) => JSON.stringify({ values: v }) ?? 'null'),
        fc
          .constantFrom(...INVALID_UTF8)
          .map((bytes) => jsonWithInvalidUtf8('{"values":{"email":"', bytes, '"}}')),
        fc.constant(Buffer.alloc(20 * 1024, 0x20)),
      );
      const origin = fc.constantFrom<Record<string, string>>(
        {},
        { origin: 'null' },
        { origin: 'https://evil.example' },
        { origin: 'http://127.0.0.1.evil.example' },
        { origin: '' },
        { 'sec-fetch-site': 'cross-site' },
        { origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' },
      );
      await fc.assert(
        fc.asyncProperty(body, contentTypes, origin, async (payload, contentType, originHeaders) => {
          // A valid values object for a waiting session would be a legitimate change: bodies here never are.
          const s = sessions[sessions.length - 1]!;
          const what = describeRequest(
            'POST',
            'customer-data',
            `${contentType} ${JSON.stringify(originHeaders)} ${String(payload).slice(0, 80)}`,
          );
          const before = await stateFingerprint(knex());
          const answer = await probe(t.url, {
            method: 'POST',
            path: `${s.path}/customer-data`,
            headers: { 'content-type': contentType, ...originHeaders },
            body: payload,
          });
          expectHandled(answer, what, { mayReset: Buffer.byteLength(payload) > 16 * 1024 });
          if (!answer.reset) expect(answer.status, what).to.be.oneOf([400, 403, 409, 413, 415, 422, 429]);
          expectUnchanged(before, await stateFingerprint(knex()), what);
        }),
        { numRuns: runsFor(driver, 150) },
      );
      await expectAlive(t.url);
    });

    it('serves the page and its state to any headers, and answers unknown methods and sub-paths with a problem', async () => {
      const s = sessions[2]!;
      const paths = [
        s.path,
        `${s.path}/state`,
        `${s.path}/customer-data`,
        `${s.path}/other`,
        '/pay/assets/../../package.json',
        '/pay/assets/%2e%2e%2fpackage.json',
        '/pay/',
      ];
      for (const path of paths) {
        for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND', 'TRACE']) {
          const answer: ProbeAnswer = await probe(t.url, {
            method,
            path,
            headers: {
              accept: '*/*',
              host: 'evil.example',
              'x-forwarded-host': 'evil.example',
              'x-forwarded-proto': 'javascript',
            },
          });
          const what = describeRequest(method, path);
          expectNoLeakOfPackageJson(answer, what);
          if (
            /^text\/html/.test(String(answer.headers['content-type'])) ||
            (answer.status < 400 && method === 'GET')
          ) {
            expect(answer.status, what).to.be.below(500);
            continue;
          }
          expectHandled(answer, what);
          if (answer.status >= 400) expectProblem(answer, what);
        }
      }
      await expectAlive(t.url);
    });
  });
}

function expectNoLeakOfPackageJson(answer: ProbeAnswer, what: string): void {
  expect(answer.text, `${what}: serves files outside the page's assets`).not.to.contain('"devDependencies"');
}
