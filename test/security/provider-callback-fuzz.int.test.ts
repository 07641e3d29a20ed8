/**
 * Provider callbacks (`POST /callbacks/:provider`) of the whole running platform under hostile input,
 * over real HTTP. Forged signatures, mangled signature headers, captured callbacks replayed with an
 * altered body or timestamp, unknown providers, odd content types and malformed bodies are refused
 * with a 4xx problem, and nothing reaches the broker: the callbacks topic gets no message and no table
 * moves. Callbacks signed with the real secret but carrying hostile content (a provider bug, or a
 * leaked secret) are taken or refused cleanly, and the processor copes with whatever it was given.
 * Signatures are made with the providers' own libraries (`stripe`, `@adyen/api-library`).
 */
import { randomBytes } from 'node:crypto';
import { hmacValidator as HmacValidator } from '@adyen/api-library';
import { expect } from 'chai';
import fc from 'fast-check';
import Stripe from 'stripe';
import { DEV_ADYENSIM_HMAC_KEY, DEV_STRIPESIM_WEBHOOK_SECRET } from '../../core/config/load-config.js';
import { PROVIDER_CALLBACKS_TOPIC } from '../../gateway/provider/index.js';
import { eventually } from '../support/eventually.js';
import {
  contentTypes,
  hostileJsonValue,
  hostilePathSegment,
  hostileString,
  malformedJsonText,
} from './support/hostile.js';
import { everyGroupCaughtUp, messagesOn } from './support/broker-log.js';
import { probe, type ProbeAnswer } from './support/http-probe.js';
import {
  describeRequest,
  expectAlive,
  expectHandled,
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

type AdyenItem = Parameters<HmacValidator['validateHMAC']>[0];
const adyen = new HmacValidator();

function stripeEvent(paymentIntent: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: `evt_${randomBytes(6).toString('hex')}`,
    object: 'event',
    type: 'payment_intent.succeeded',
    data: {
      object: { id: paymentIntent, object: 'payment_intent', amount: 1000, currency: 'eur', ...extra },
    },
  };
}

function stripeHeader(payload: string, options: { secret?: string; timestamp?: number } = {}): string {
  return Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: options.secret ?? DEV_STRIPESIM_WEBHOOK_SECRET,
    ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
  });
}

function adyenItem(pspReference: string): Record<string, unknown> {
  return {
    pspReference,
    merchantAccountCode: 'SimMerchant',
    merchantReference: `att_${randomBytes(4).toString('hex')}`,
    amount: { value: 1000, currency: 'EUR' },
    eventCode: 'AUTHORISATION',
    success: 'true',
    additionalData: {},
  };
}

function signAdyen(item: Record<string, unknown>, key = DEV_ADYENSIM_HMAC_KEY): Record<string, unknown> {
  const hmacSignature = adyen.calculateHmac(item as unknown as AdyenItem, key);
  return { ...item, additionalData: { ...(item.additionalData as object), hmacSignature } };
}

const adyenBody = (items: Array<Record<string, unknown>>) =>
  JSON.stringify({
    live: 'false',
    notificationItems: items.map((item) => ({ NotificationRequestItem: item })),
  });

for (const driver of DRIVERS) {
  describe(`provider callbacks under hostile input (${driver})`, function () {
    this.timeout(180_000);
    let t: SecurityPlatform;

    before(async function () {
      t = await startSecurityPlatform(this, driver);
    });
    after(async () => t?.stop());

    const knex = () => t.platform.database.knex;
    const callbackMessages = () => messagesOn(knex(), PROVIDER_CALLBACKS_TOPIC);
    const post = (provider: string, body: string | Buffer, headers: Record<string, string | string[]> = {}) =>
      probe(t.url, {
        method: 'POST',
        path: `/callbacks/${provider}`,
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    /** Sends, then checks: a 4xx problem, no broker message, no table moved. */
    const refused = async (what: string, send: () => Promise<ProbeAnswer>, statuses: number[]) => {
      const before = await stateFingerprint(knex());
      const messages = await callbackMessages();
      const answer = await send();
      expectHandled(answer, what);
      expect(answer.status, `${what}: ${answer.text.slice(0, 200)}`).to.be.oneOf(statuses);
      expect(await callbackMessages(), `${what}: reached the callbacks topic`).to.equal(messages);
      expectUnchanged(before, await stateFingerprint(knex()), what);
    };

    it('refuses forged and mangled stripe-sim signatures, and nothing reaches the broker', async () => {
      await settle(knex());
      const body = JSON.stringify(stripeEvent('pi_forged'));
      const genuine = stripeHeader(body);
      const now = Math.floor(Date.now() / 1000);
      const signatureHeader = fc.oneof(
        fc.constantFrom(
          '',
          't=',
          'v1=',
          `t=${now}`,
          `t=${now},v1=`,
          `t=${now},v1=${'0'.repeat(64)}`,
          `t=${now},v0=${genuine.split('v1=')[1]}`,
          `t=${now},v1=${genuine.split('v1=')[1]!.toUpperCase()}x`,
          `t=-1,v1=${'a'.repeat(64)}`,
          `t=99999999999999999999,v1=${'a'.repeat(64)}`,
          `t=${now},t=${now},v1=${'a'.repeat(64)}`,
          `${genuine},${genuine}`.replace(/t=\d+/, 't=1'),
          `t=${now},v1=${'a'.repeat(64)},`.repeat(60), // 4.6 KiB: longer than any real header
          `t=${now},v1=${'a'.repeat(64)},`.repeat(300), // 25 KiB: beyond Node's header limit (431)
        ),
        fc
          .string({ unit: 'binary-ascii', maxLength: 120 })
          .map((s) => s.replace(/[^\t\x20-\x7e\x80-\xff]/g, '')),
        // A real signature made with the wrong secret.
        fc.constant(stripeHeader(body, { secret: `whsec_${randomBytes(24).toString('base64')}` })),
      );
      await fc.assert(
        fc.asyncProperty(signatureHeader, async (header) => {
          // 431: a header beyond Node's limit, refused by the HTTP layer.
          await refused(
            describeRequest('POST', '/callbacks/stripe-sim', header),
            () => post('stripe-sim', body, { 'stripe-signature': header }),
            [400, 401, 431],
          );
        }),
        { numRuns: runsFor(driver, 100) },
      );
      // Two signature headers: the gateway reads the first; a genuine second one does not help a forged first.
      await refused(
        'duplicate Stripe-Signature',
        () => post('stripe-sim', body, { 'stripe-signature': [`t=${now},v1=${'0'.repeat(64)}`, genuine] }),
        [401],
      );
      await expectAlive(t.url);
    });

    it('refuses a captured stripe-sim callback replayed with an altered body or timestamp', async () => {
      await settle(knex());
      const original = JSON.stringify(stripeEvent('pi_captured', { metadata: { note: 'original' } }));
      const header = stripeHeader(original);
      const [, signedAt, v1] = /t=(\d+),v1=([0-9a-f]+)/.exec(header)!;
      await fc.assert(
        fc.asyncProperty(mutation, async (m) => {
          const { document, path } = applyMutation(JSON.parse(original), m);
          const altered = JSON.stringify(document) ?? 'null';
          fc.pre(altered !== original);
          await refused(
            describeRequest('POST', '/callbacks/stripe-sim', path),
            () => post('stripe-sim', altered, { 'stripe-signature': header }),
            [401],
          );
        }),
        { numRuns: runsFor(driver, 80) },
      );
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: -10_000_000, max: 10_000_000 }).filter((d) => d !== 0),
          async (shift) => {
            const moved = `t=${Number(signedAt) + shift},v1=${v1}`;
            await refused(
              describeRequest('POST', '/callbacks/stripe-sim', moved),
              () => post('stripe-sim', original, { 'stripe-signature': moved }),
              [401],
            );
          },
        ),
        { numRuns: runsFor(driver, 40) },
      );
      // Properly signed, but long ago: a replay from outside the tolerance window.
      for (const ageSeconds of [301, 3600, 86_400 * 30]) {
        const old = stripeHeader(original, { timestamp: Math.floor(Date.now() / 1000) - ageSeconds });
        await refused(
          `signed ${ageSeconds} s ago`,
          () => post('stripe-sim', original, { 'stripe-signature': old }),
          [401],
        );
      }
      // A trailing byte (whitespace, BOM) changes the signed bytes too.
      for (const suffix of ['\n', ' ', '\ufeff', '\u0000']) {
        await refused(
          `body + ${JSON.stringify(suffix)}`,
          () => post('stripe-sim', `${original}${suffix}`, { 'stripe-signature': header }),
          [401],
        );
      }
    });

    it('refuses forged adyen-sim items and genuine items with an altered signed field', async () => {
      await settle(knex());
      const genuine = signAdyen(adyenItem('PSP_GENUINE_1'));
      const signedFields = [
        'pspReference',
        'originalReference',
        'merchantAccountCode',
        'merchantReference',
        'amount',
        'eventCode',
        'success',
      ];
      const alteration = fc.record({
        field: fc.constantFrom(...signedFields),
        value: fc.oneof(
          hostileString(20),
          hostileJsonValue,
          fc.constantFrom('false', 'CANCELLATION', 'REFUND', 'PSP_OTHER', { value: 1, currency: 'EUR' }),
        ),
      });
      await fc.assert(
        fc.asyncProperty(alteration, fc.boolean(), async ({ field, value }, alongsideGenuine) => {
          const altered = { ...genuine, [field]: value };
          fc.pre(JSON.stringify(altered[field]) !== JSON.stringify(genuine[field]));
          // An empty text where the field was absent is the same document to the signer and to the processor.
          fc.pre(!(genuine[field] === undefined && value === ''));
          // Batching a forged item with a genuine one must not carry it through.
          const body = adyenBody(alongsideGenuine ? [genuine, altered] : [altered]);
          await refused(
            describeRequest('POST', '/callbacks/adyen-sim', `${field}=${JSON.stringify(value)}`),
            () => post('adyen-sim', body),
            [400, 401],
          );
        }),
        { numRuns: runsFor(driver, 80) },
      );
      const forgedSignature = fc.oneof(
        hostileString(60),
        fc.constantFrom('', 'AAAA', '=', randomBytes(32).toString('base64'), randomBytes(32).toString('hex')),
        fc.constant(
          adyen.calculateHmac(
            adyenItem('PSP_GENUINE_1') as unknown as AdyenItem,
            randomBytes(32).toString('hex'),
          ),
        ),
        hostileJsonValue,
      );
      await fc.assert(
        fc.asyncProperty(forgedSignature, async (signature) => {
          const item = { ...adyenItem('PSP_FORGED'), additionalData: { hmacSignature: signature } };
          await refused(
            describeRequest('POST', '/callbacks/adyen-sim', signature),
            () => post('adyen-sim', adyenBody([item])),
            [400, 401],
          );
        }),
        { numRuns: runsFor(driver, 60) },
      );
    });

    it('refuses unknown providers, odd content types and malformed bodies without touching the broker', async () => {
      await settle(knex());
      const provider = fc.oneof(
        fc.constantFrom(
          'stripe-sim',
          'adyen-sim',
          'STRIPE-SIM',
          'stripe',
          'stripe-sim ',
          '__proto__',
          'constructor',
        ),
        hostilePathSegment,
      );
      const body = fc.oneof(
        malformedJsonText,
        hostileJsonValue.map((v) => JSON.stringify(v) ?? 'null'),
      );
      await fc.assert(
        fc.asyncProperty(provider, body, contentTypes, async (p, payload, contentType) => {
          const what = describeRequest('POST', `/callbacks/${p}`, `${contentType} ${payload.slice(0, 80)}`);
          // A genuine signature, but of another body.
          const signature = stripeHeader('{"another":"body"}');
          await refused(
            what,
            () => post(p, payload, { 'content-type': contentType, 'stripe-signature': signature }),
            [400, 401, 404, 405, 413, 415],
          );
        }),
        { numRuns: runsFor(driver, 150) },
      );
      await refused('declared 10 MiB', () => post('stripe-sim', Buffer.alloc(300 * 1024, 0x20)), [413]);
      await refused('gzip claimed', () => post('stripe-sim', '{}', { 'content-encoding': 'gzip' }), [415]);
      await expectAlive(t.url);
    });

    it('takes or refuses genuinely signed callbacks with hostile content, and the processor keeps going', async () => {
      await settle(knex());
      const reference = fc.oneof(
        hostileString(30),
        fc.constantFrom('pi_\u0000', 'pi_\ud800', '', 'x'.repeat(2_000)),
      );
      const extra = fc.dictionary(fc.string({ maxLength: 10 }), hostileJsonValue, { maxKeys: 3 });
      await fc.assert(
        fc.asyncProperty(reference, extra, fc.boolean(), async (ref, more, viaAdyen) => {
          const body = viaAdyen
            ? adyenBody([signAdyen({ ...adyenItem(ref), ...more })])
            : JSON.stringify(stripeEvent(ref, more));
          const headers: Record<string, string> = viaAdyen ? {} : { 'stripe-signature': stripeHeader(body) };
          const answer = await post(viaAdyen ? 'adyen-sim' : 'stripe-sim', body, headers);
          const what = describeRequest('POST', viaAdyen ? 'adyen-sim' : 'stripe-sim', JSON.stringify(ref));
          expectHandled(answer, what);
          expect(answer.status, what).to.be.oneOf([200, 400]);
        }),
        {
          numRuns: runsFor(driver, 60),
          examples: [
            ['pi_\u0000', {}, false],
            ['PSP\u0000', {}, true],
          ],
        },
      );
      // Every accepted callback is consumed: stored (parked: no such payment) or dead-lettered, none stuck.
      await eventually(
        () => everyGroupCaughtUp(knex(), PROVIDER_CALLBACKS_TOPIC),
        60_000,
        'the processor consumed every accepted callback',
      );
      await expectAlive(t.url);
    });
  });
}
