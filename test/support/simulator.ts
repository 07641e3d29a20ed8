/**
 * Test helpers around the provider simulator: start it with fresh secrets and fast callback retries,
 * script it through its control API over HTTP, and receive its callbacks on a plain HTTP server that
 * checks them with the Provider Gateway's own verifiers (the registry `POST /callbacks/:provider` uses).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../core/logger.js';
import { PROVIDERS } from '../../gateway/provider/providers.js';
import {
  startProviderSimulator,
  type ProviderSimulatorOptions,
  type RunningSimulator,
} from '../../provider-simulator/index.js';

export interface SimSecrets {
  'stripe-sim': string[];
  'adyen-sim': string[];
}

export function freshSecrets(): SimSecrets {
  return {
    'stripe-sim': [`whsec_${randomBytes(24).toString('base64url')}`],
    'adyen-sim': [randomBytes(32).toString('hex').toUpperCase()],
  };
}

export async function startTestSimulator(
  overrides: Partial<ProviderSimulatorOptions> = {},
): Promise<{ sim: RunningSimulator; secrets: SimSecrets; control: SimControl }> {
  const secrets = freshSecrets();
  const sim = await startProviderSimulator({
    port: 0,
    host: '127.0.0.1',
    secrets,
    logger: silentLogger,
    callbackRetryDelaysMs: [20, 40],
    callbackTimeoutMs: 2_000,
    ...overrides,
  });
  return { sim, secrets, control: new SimControl(sim.url) };
}

/** The `/_sim` control API over HTTP. */
export class SimControl {
  constructor(readonly url: string) {}

  async addScenario(scenario: unknown): Promise<{ id: string }> {
    const response = await fetch(`${this.url}/_sim/scenarios`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(scenario),
    });
    if (response.status !== 201)
      throw new Error(`scenario refused: ${response.status} ${await response.text()}`);
    return (await response.json()) as { id: string };
  }

  async get<T>(path: string, filter: Record<string, string> = {}): Promise<T> {
    const query = new URLSearchParams(filter).toString();
    const response = await fetch(`${this.url}/_sim/${path}${query ? `?${query}` : ''}`);
    if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
    return (await response.json()) as T;
  }

  async paymentCount(filter: Record<string, string>): Promise<number> {
    return (await this.get<{ count: number }>('payments', filter)).count;
  }

  async reset(): Promise<void> {
    const response = await fetch(`${this.url}/_sim/reset`, { method: 'POST' });
    if (response.status !== 204) throw new Error(`reset: ${response.status}`);
  }
}

export interface ReceivedCallback {
  provider: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** What the Provider Gateway's verifier said. */
  verified: boolean;
  answeredStatus: number;
}

export interface CallbackReceiver {
  url: string;
  callbackUrl(provider: string): string;
  received: ReceivedCallback[];
  /** Answer 503 to the next `n` callbacks (to see the simulator retry). */
  failNext(n: number): void;
  close(): Promise<void>;
}

/** A merchant-side stand-in for `POST /callbacks/:provider`: verifies and answers like the gateway. */
export async function startCallbackReceiver(secrets: SimSecrets): Promise<CallbackReceiver> {
  const received: ReceivedCallback[] = [];
  let failures = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const provider = /^\/callbacks\/([\w-]+)$/.exec(req.url ?? '')?.[1] ?? '';
      const verifier = PROVIDERS.get(provider);
      const verified =
        verifier?.verify(body, req.headers, secrets[provider as keyof SimSecrets] ?? [], new Date()).ok ===
        true;
      let status: number;
      if (failures > 0) {
        failures--;
        status = 503;
        res.writeHead(503).end();
      } else if (verifier && verified) {
        status = verifier.successResponse.status;
        res
          .writeHead(status, { 'content-type': verifier.successResponse.contentType })
          .end(verifier.successResponse.body);
      } else {
        status = 401;
        res.writeHead(401).end();
      }
      received.push({ provider, headers: req.headers, body, verified, answeredStatus: status });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    callbackUrl: (provider) => `${url}/callbacks/${provider}`,
    received,
    failNext: (n) => (failures = n),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
