/**
 * `startProviderSimulator`: one HTTP server hosting both simulated PSPs (`/stripe-sim/…`, `/adyen-sim/…`),
 * their checkout pages and the `/_sim` control API. Callbacks are signed with the same secrets the
 * Provider Gateway verifies with (configuration), so what the simulator sends is what a PSP would send.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa from 'koa';
import { problemResponses, writeProblem } from '../core/http/problem.js';
import type { Logger } from '../core/logger.js';
import { adyenSimFrontEnd } from './adyen-sim/api.js';
import { CallbackDispatcher } from './callbacks/dispatcher.js';
import { mountCheckout } from './checkout.js';
import { controlRoutes } from './control.js';
import type { FrontEndDeps, ProviderFrontEnd } from './front-end.js';
import type { SimPayment, SimProviderId } from './model.js';
import { PaymentFlow } from './payment-flow.js';
import { SimulatorState } from './state.js';
import { stripeSimFrontEnd } from './stripe-sim/api.js';

export const DEFAULT_CALLBACK_RETRY_DELAYS_MS: readonly number[] = [1_000, 5_000, 30_000];
const DEFAULT_CALLBACK_TIMEOUT_MS = 10_000;

export interface ProviderSimulatorOptions {
  port: number;
  host: string;
  /** Base URL customers and connectors reach the simulator at; default: the bound address. */
  publicUrl?: string;
  /** Provider id -> secrets to sign callbacks with, newest first (Stripe signs with all, Adyen the first). */
  secrets: Readonly<Partial<Record<SimProviderId, readonly string[]>>>;
  logger: Logger;
  /** When set, redirect payments complete by themselves after this long (no customer needed). */
  autoCompleteAfterMs?: number;
  /** Pauses before retrying a callback that was not answered 2xx (default 1 s, 5 s, 30 s). */
  callbackRetryDelaysMs?: readonly number[];
  /** A callback request taking longer counts as failed (default 10 s). */
  callbackTimeoutMs?: number;
}

export interface RunningSimulator {
  /** The bound address. */
  url: string;
  /** Where customers and connectors reach it (`publicUrl`, else `url`). */
  publicUrl: string;
  /** The API base URL of each simulated provider, for SUB MID accounts (`apiBaseUrl`). */
  apiBaseUrls: Record<SimProviderId, string>;
  /** Resolves once no callback is scheduled or in flight. */
  callbacksIdle(): Promise<void>;
  /** Stops: drops held answers and scheduled callbacks, closes connections. Idempotent. */
  close(): Promise<void>;
}

export async function startProviderSimulator(options: ProviderSimulatorOptions): Promise<RunningSimulator> {
  const logger = options.logger;
  const state = new SimulatorState();
  const closing = new AbortController();
  let baseUrl = '';
  const checkoutUrl = (payment: SimPayment) => `${baseUrl}/${payment.input.provider}/checkout/${payment.id}`;

  const stripeSecrets = options.secrets['stripe-sim'] ?? [];
  const adyenKeys = options.secrets['adyen-sim'] ?? [];
  if (stripeSecrets.length === 0)
    logger.warn('stripe-sim callbacks will be unsigned: no webhook secret configured');
  if (adyenKeys.length === 0) logger.warn('adyen-sim callbacks will be unsigned: no HMAC key configured');
  const frontEnds: ProviderFrontEnd[] = [
    stripeSimFrontEnd({ secrets: stripeSecrets, checkoutUrl }),
    adyenSimFrontEnd({ hmacKeys: adyenKeys, logger }),
  ];

  const dispatcher = new CallbackDispatcher({
    formats: Object.fromEntries(frontEnds.map((f) => [f.id, f.notifications])) as Record<
      SimProviderId,
      ProviderFrontEnd['notifications']
    >,
    retryDelaysMs: options.callbackRetryDelaysMs ?? DEFAULT_CALLBACK_RETRY_DELAYS_MS,
    requestTimeoutMs: options.callbackTimeoutMs ?? DEFAULT_CALLBACK_TIMEOUT_MS,
    logger: logger.child({ component: 'simulator-callbacks' }),
    record: (entry) => state.logCallback(entry),
  });
  const flow = new PaymentFlow({
    state,
    dispatcher,
    defaults:
      options.autoCompleteAfterMs === undefined ? {} : { autoCompleteAfterMs: options.autoCompleteAfterMs },
    logger,
  });
  const deps: FrontEndDeps = { state, closing: closing.signal, flow, logger, checkoutUrl };

  const app = new Koa();
  app.use(problemResponses(logger));
  const control = controlRoutes({
    state,
    logger,
    cancelScheduled: () => {
      dispatcher.cancelAll();
      flow.cancelTimers();
    },
  });
  app.use(control.routes()).use(control.allowedMethods());
  const router = new Router();
  for (const frontEnd of frontEnds) {
    frontEnd.mount(router, deps);
    mountCheckout(router, frontEnd, deps);
  }
  app.use(router.routes()).use(router.allowedMethods());
  app.use((ctx) => {
    writeProblem(ctx, {
      status: 404,
      code: 'NOT_FOUND',
      title: 'Not found',
      detail: 'no such simulator endpoint',
    });
  });

  const server = createServer(app.callback());
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  baseUrl = (options.publicUrl ?? url).replace(/\/+$/, '');
  logger.info('provider simulator listening', { url, publicUrl: baseUrl });

  let closed: Promise<void> | undefined;
  return {
    url,
    publicUrl: baseUrl,
    apiBaseUrls: { 'stripe-sim': `${baseUrl}/stripe-sim`, 'adyen-sim': `${baseUrl}/adyen-sim` },
    callbacksIdle: () => dispatcher.idle(),
    close: () =>
      (closed ??= (async () => {
        closing.abort();
        flow.cancelTimers();
        await dispatcher.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })()),
  };
}
