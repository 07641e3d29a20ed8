#!/usr/bin/env node
/**
 * `npm run demo`: drives one complete payment against the running `npm start` platform and prints
 * what happened — deposit, hosted page asking for a missing field, the customer filling it in,
 * the provider checkout, the provider's callback, the signed webhook the demo merchant received,
 * and the transaction's timeline (merchant view, then the internal view support sees).
 *
 * Reads the demo credentials `npm start` keeps in its data directory (DATA_DIR, default .data).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { sampleFieldValue } from '../platform/demo/sample-values.js';

interface DemoCredentials {
  merchantId: string;
  apiKey: string;
  supportToken?: string;
  platformUrl?: string;
  webhookReceiverUrl?: string;
}

const say = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const dataDir = process.env.DATA_DIR ?? '.data';
  const file = path.join(dataDir, 'demo-credentials.json');
  const credentials = JSON.parse(
    await readFile(file, 'utf8').catch(() => fail(`no ${file}: start the platform first with npm start`)),
  ) as DemoCredentials;
  const base = process.env.PLATFORM_URL ?? credentials.platformUrl ?? 'http://127.0.0.1:8080';
  const merchant = { authorization: `Bearer ${credentials.apiKey}`, 'content-type': 'application/json' };

  const amount = { value: 2504, currency: 'EUR' }; // …04: the simulated provider asks for extra customer fields
  say(`1. Merchant creates a deposit of 25.04 EUR (POST ${base}/api/v2/deposit)`);
  const created = await json(
    await fetch(`${base}/api/v2/deposit`, {
      method: 'POST',
      headers: merchant,
      body: JSON.stringify({
        merchantTransactionId: `demo-${Date.now()}`,
        amount,
        paymentMethod: 'card',
        customer: { email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', country: 'DE' },
        returnUrls: { success: 'https://shop.example/thanks', failure: 'https://shop.example/sorry' },
      }),
    }),
  );
  const { transactionId, hostedPaymentUrl } = created as { transactionId: string; hostedPaymentUrl: string };
  say(`   accepted at once: ${transactionId}, hosted page ${hostedPaymentUrl}`);

  say('2. Customer opens the hosted page; it polls until the provider says what it needs');
  let state = await until(hostedPaymentUrl, (s) => s.state === 'form' || s.state === 'redirect');
  if (state.state === 'form') {
    const fields = state.fields as Array<{ name: string; kind: string }>;
    say(`   the page asks for: ${fields.map((f) => f.name).join(', ')}`);
    const values = Object.fromEntries(fields.map((f) => [f.name, sampleFieldValue(f.name, f.kind)]));
    const submitted = await fetch(`${hostedPaymentUrl}/customer-data`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: new URL(base).origin },
      body: JSON.stringify({ values }),
    });
    say(`   customer submits them: HTTP ${submitted.status}`);
    state = await until(hostedPaymentUrl, (s) => s.state === 'redirect');
  }
  say(`3. The page redirects the customer to the provider: ${state.redirectUrl as string}`);
  const paid = await fetch(state.redirectUrl as string, {
    method: 'POST',
    body: new URLSearchParams({ action: 'pay' }),
    redirect: 'manual',
  });
  say(`   customer pays; the provider sends them back (HTTP ${paid.status}) and calls our callback endpoint`);

  say('4. Waiting for the final status and the merchant webhook');
  let status = '';
  for (let i = 0; i < 100 && status !== 'approved'; i++) {
    status = (
      (await json(await fetch(`${base}/api/v2/transactions/${transactionId}`, { headers: merchant }))) as {
        status: string;
      }
    ).status;
    if (status !== 'approved') await sleep(200);
  }
  say(`   merchant API says: ${status}`);
  if (credentials.webhookReceiverUrl) {
    for (let i = 0; i < 50; i++) {
      const received = (await json(await fetch(credentials.webhookReceiverUrl))) as Array<{
        verified: boolean;
        webhookId: string;
        payload: { transactionId?: string; status?: string };
      }>;
      const mine = received.filter((w) => w.payload.transactionId === transactionId);
      if (mine.length > 0) {
        for (const w of mine)
          say(
            `   demo merchant got webhook ${w.webhookId}: ${w.payload.status} (signature ${w.verified ? 'verified' : 'INVALID'})`,
          );
        break;
      }
      await sleep(200);
    }
  }

  if (credentials.supportToken) {
    const timeline = (await json(
      await fetch(`${base}/backoffice/api/v1/transactions/${transactionId}/timeline`, {
        headers: { authorization: `Bearer ${credentials.supportToken}` },
      }),
    )) as { entries?: Array<Record<string, unknown>> };
    say('5. The timeline as support sees it (internal view):');
    for (const entry of timeline.entries ?? []) {
      const visible = entry.merchantVisible ? 'merchant+internal' : 'internal only   ';
      say(`   ${String(entry.occurredAt)}  ${visible}  ${String(entry.type)}`);
    }
  }
  say();
  say(
    status === 'approved' ? 'Done: the payment went all the way through.' : `Finished with status ${status}.`,
  );
  if (status !== 'approved') process.exitCode = 1;
}

async function until(
  hostedUrl: string,
  done: (state: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  for (let i = 0; i < 150; i++) {
    const state = (await json(await fetch(`${hostedUrl}/state`))) as Record<string, unknown>;
    if (done(state)) return state;
    if (state.state === 'failed' || state.state === 'expired')
      fail(`the payment ended: ${String(state.state)}`);
    await sleep(200);
  }
  return fail('the hosted page did not move on in 30 s');
}

async function json(response: Response): Promise<unknown> {
  const body = await response.text();
  if (!response.ok) fail(`${response.url} answered ${response.status}: ${body}`);
  return JSON.parse(body);
}

function fail(message: string): never {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(1);
}

main().catch((error: unknown) => fail((error as Error).message));
