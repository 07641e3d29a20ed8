/**
 * Merchant webhook endpoints for benchmarks: `count` HTTP servers on loopback (one host:port each, so
 * the dispatcher's per-host limit sees `count` merchants), run in a worker thread so receiving never
 * competes with the dispatcher's event loop. Each endpoint answers 204 at once, or, while marked
 * hanging, never answers (the dispatcher's timeout ends the attempt). Receipts are timestamped in the
 * worker; signatures are not checked here (the dispatcher's tests do that with `standardwebhooks`).
 */
import type { Worker } from 'node:worker_threads';
import { nextMessage, startTsWorker } from './ts-worker.js';

export interface Receipt {
  webhookId: string;
  endpoint: number;
  /** Epoch milliseconds (fractional) when the request body was complete. */
  atMs: number;
  hanging: boolean;
}

export type ReceiverCommand = { type: 'hang'; endpoints: number[] } | { type: 'collect' } | { type: 'close' };
export type ReceiverMessage =
  { type: 'ready'; ports: number[] } | { type: 'receipts'; receipts: Receipt[] } | { type: 'closed' };

export class WebhookReceivers {
  private constructor(
    private readonly worker: Worker,
    readonly urls: string[],
  ) {}

  static async start(count: number): Promise<WebhookReceivers> {
    const worker = startTsWorker(new URL('./webhook-receivers-worker.ts', import.meta.url), { count });
    const ready = await next(worker, 'ready');
    return new WebhookReceivers(
      worker,
      ready.ports.map((port) => `http://127.0.0.1:${port}/webhooks`),
    );
  }

  /** Endpoints (by index) that stop answering from now on; all others answer 204. */
  async hang(endpoints: number[]): Promise<void> {
    this.worker.postMessage({ type: 'hang', endpoints } satisfies ReceiverCommand);
  }

  /** Receipts since the last collect. */
  async collect(): Promise<Receipt[]> {
    const reply = next(this.worker, 'receipts');
    this.worker.postMessage({ type: 'collect' } satisfies ReceiverCommand);
    return (await reply).receipts;
  }

  async close(): Promise<void> {
    const closed = next(this.worker, 'closed');
    this.worker.postMessage({ type: 'close' } satisfies ReceiverCommand);
    await closed;
    await this.worker.terminate();
  }
}

const next = <T extends ReceiverMessage['type']>(worker: Worker, type: T) =>
  nextMessage<ReceiverMessage, T>(worker, type);
