/** What each simulated provider plugs into the simulator: its API routes, callbacks and return URL format. */
import type Router from '@koa/router';
import type { Logger } from '../core/logger.js';
import type { NotificationFormat } from './callbacks/format.js';
import type { CallEnvironment } from './idempotent-call.js';
import type { SimPayment, SimProviderId } from './model.js';
import type { PaymentFlow } from './payment-flow.js';

export interface FrontEndDeps extends CallEnvironment {
  flow: PaymentFlow;
  logger: Logger;
  /** The simulator-hosted "provider page" of a payment. */
  checkoutUrl(payment: SimPayment): string;
}

export interface ProviderFrontEnd {
  readonly id: SimProviderId;
  readonly notifications: NotificationFormat;
  /** Query parameters the provider appends to the return URL after its checkout page. */
  returnParams(payment: SimPayment): Record<string, string>;
  /** Mounts the provider API under `/<id>/…`. */
  mount(router: Router, deps: FrontEndDeps): void;
}
