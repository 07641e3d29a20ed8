/** A merchant API on a real HTTP server for tests: requests are checked against the OpenAPI document. */
import Koa from 'koa';
import type { Knex } from 'knex';
import { Registry } from 'prom-client';
import type { Logger } from '../../core/logger.js';
import {
  merchantApi,
  merchantApiMetrics,
  MERCHANT_API_PREFIX,
  type MerchantApi,
  type MerchantApiOptions,
} from '../../gateway/merchant/index.js';
import { openApiDocument } from '../../gateway/merchant/openapi.js';
import { listen } from '../../platform/http-server.js';
import { openApiChecker } from './openapi.js';
import { RecordingLogger } from './recording-logger.js';

export const TEST_SESSION_SECRET = 'test-session-token-secret-0123456789abcdef';

/** A deposit body that passes validation; `overrides` replace top-level members. */
export function validDeposit(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    merchantTransactionId: 'order-1001',
    amount: { value: 1999, currency: 'EUR' },
    paymentMethod: 'card',
    customer: { email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', country: 'GB' },
    returnUrls: { success: 'https://shop.example/ok', failure: 'https://shop.example/failed' },
    ...overrides,
  };
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read whatever came back
}

export interface RunningMerchantApi {
  url: string;
  api: MerchantApi;
  registry: Registry;
  /** Sends a request; unless `undocumented`, fails when the answer is not what the OpenAPI document says. */
  call(
    method: string,
    path: string,
    options?: {
      key?: string;
      json?: unknown;
      body?: string;
      headers?: Record<string, string>;
      undocumented?: boolean;
    },
  ): Promise<ApiResponse>;
  close(): Promise<void>;
}

export async function startMerchantApi(
  knex: Knex,
  logger: Logger,
  overrides: Partial<MerchantApiOptions> = {},
): Promise<RunningMerchantApi> {
  const registry = new Registry();
  const app = new Koa();
  const api = merchantApi({
    knex,
    logger,
    publicBaseUrl: 'https://pay.example.test',
    sessionTokenSecrets: [TEST_SESSION_SECRET],
    observer: merchantApiMetrics(registry),
    ...overrides,
  });
  app.use(api.middleware);
  const server = await listen(app, '127.0.0.1', 0);
  const checker = openApiChecker(openApiDocument({ serverUrl: 'https://pay.example.test/api/v2' }) as never, {
    basePath: MERCHANT_API_PREFIX,
  });
  return {
    url: server.url,
    api,
    registry,
    async call(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
      let body = options.body;
      if (options.json !== undefined) {
        body = JSON.stringify(options.json);
        headers['content-type'] ??= 'application/json';
      }
      const response = await fetch(`${server.url}${path}`, { method, headers, body });
      const text = await response.text();
      const contentType = response.headers.get('content-type') ?? '';
      const parsed = /json/.test(contentType) ? (JSON.parse(text) as unknown) : text;
      if (!options.undocumented)
        checker.check({ method, path }, { status: response.status, contentType, body: parsed });
      return { status: response.status, headers: response.headers, body: parsed };
    },
    close: server.close,
  };
}

/** A logger that keeps every line (message and metadata) as JSON, to assert what is never logged. */
export function capturingLogger(lines: string[]): Logger {
  return new RecordingLogger(lines);
}
