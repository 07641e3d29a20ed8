/**
 * The rest of the platform around the webhook dispatcher, for the webhook-delivery benchmark: the code
 * that records status changes (as the processor does: status + MerchantWebhookRequested in one database
 * transaction) and the outbox relay publishing them to the embedded broker. It runs in a worker thread
 * with its own database pool and broker client, as the relay and the processor run in processes of
 * their own in production, so the benchmark's main thread holds the dispatcher alone and a pause of the
 * dispatcher (say, handling a burst of timeouts) shows as the dispatcher's latency, not the relay's.
 */
import type { Worker } from 'node:worker_threads';
import { nextMessage, startTsWorker } from './ts-worker.js';

export interface Endpoint {
  merchantId: string;
  url: string;
}

export type RequestsCommand =
  /** `count` webhooks round-robin over `endpoints`, `perTransaction` status changes per transaction. */
  | { type: 'request'; endpoints: Endpoint[]; count: number; perTransaction: number }
  /** Waits until the relay has published every outbox row. */
  | { type: 'drain' }
  /**
   * `rate` webhooks/s for `seconds`, one transaction each; every fifth one (in proportion to their
   * share) to the `hanging` endpoints when there are any.
   */
  | { type: 'rate'; healthy: Endpoint[]; hanging: Endpoint[]; share: number; rate: number; seconds: number }
  | { type: 'close' };

export type RequestsMessage =
  | { type: 'ready' }
  | { type: 'requested' }
  | { type: 'drained' }
  | { type: 'rated'; healthySent: number }
  | { type: 'closed' };

export class WebhookRequests {
  private constructor(private readonly worker: Worker) {}

  static async start(databaseUrl: string, partitions: number): Promise<WebhookRequests> {
    const worker = startTsWorker(new URL('./webhook-requests-worker.ts', import.meta.url), {
      databaseUrl,
      partitions,
    });
    await next(worker, 'ready');
    return new WebhookRequests(worker);
  }

  async request(endpoints: Endpoint[], count: number, perTransaction: number): Promise<void> {
    await this.call({ type: 'request', endpoints, count, perTransaction }, 'requested');
  }

  async drain(): Promise<void> {
    await this.call({ type: 'drain' }, 'drained');
  }

  /** Returns how many webhooks went to healthy endpoints. */
  async atRate(command: Omit<Extract<RequestsCommand, { type: 'rate' }>, 'type'>): Promise<number> {
    return (await this.call({ type: 'rate', ...command }, 'rated')).healthySent;
  }

  async close(): Promise<void> {
    await this.call({ type: 'close' }, 'closed');
    await this.worker.terminate();
  }

  private async call<T extends RequestsMessage['type']>(command: RequestsCommand, reply: T) {
    const answer = next(this.worker, reply);
    this.worker.postMessage(command);
    return answer;
  }
}

const next = <T extends RequestsMessage['type']>(worker: Worker, type: T) =>
  nextMessage<RequestsMessage, T>(worker, type);
