/**
 * HTTP load for benchmarks, generated in a worker thread so the client's event loop never shares a
 * thread with the server it measures (both still share this machine's cores).
 *
 * - `rate`: an open loop. Request i is due at start + i/rate and sent then, whether or not earlier
 *   ones have answered; its latency counts from that due time, so a server that falls behind shows
 *   the queueing its clients would see (no coordinated omission).
 * - `max`: a closed loop of `connections` clients, each sending its next request when the previous one
 *   answered: the most the server completes. Latency counts from the send.
 *
 * What is sent comes from a request factory module (a path the worker imports), because functions
 * cannot cross into a worker: `export function create(options) { return (index) => request }`.
 */
import { summarize, type LatencySummary } from './stats.js';
import { startTsWorker } from './ts-worker.js';

export interface BenchRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export type RequestFactory = (index: number) => BenchRequest;

export interface RequestFactorySpec {
  /** Module URL (e.g. `new URL('./deposit-requests.ts', import.meta.url).href`). */
  module: string;
  /** Its export `(options) => RequestFactory`. */
  exportName: string;
  options: unknown;
}

export type LoadShape =
  | { kind: 'rate'; perSecond: number; durationMs: number; maxSockets?: number }
  | { kind: 'max'; connections: number; durationMs: number };

export interface LoadSpec {
  baseUrl: string;
  shape: LoadShape;
  factory: RequestFactorySpec;
  /** Index of the first request (so several runs never reuse an index). Default 0. */
  firstIndex?: number;
  /** Return every completion (index, status, epoch ms): for benchmarks that follow each request further. */
  recordCompletions?: boolean;
  /** How long to wait for answers after the last send. Default 20 s. */
  drainTimeoutMs?: number;
}

export interface Completion {
  index: number;
  status: number;
  /** Epoch milliseconds (fractional) when the answer was complete. */
  atMs: number;
}

export interface LoadResult {
  sent: number;
  /** Answers with a 2xx status. */
  ok: number;
  /** Answers by status ('error' = connection error or 30 s client timeout; 'unfinished' = no answer by the drain timeout). */
  statuses: Record<string, number>;
  /** From the first send to the last answer. */
  elapsedMs: number;
  /** 2xx answers per second over `elapsedMs`. */
  okPerSecond: number;
  /** Share of the run the load generator's own thread was busy (near 1: the client may be the limit). */
  clientLoopBusy: number;
  /** Share of the run the calling (server's) thread was busy. */
  serverLoopBusy: number;
  /** Latency of the 2xx answers (see the module comment for where it counts from). */
  latency: LatencySummary;
  nextIndex: number;
  completions?: Completion[];
}

/** What the worker posts back (latencies raw; summarised here). */
export interface WorkerOutput extends Omit<LoadResult, 'latency' | 'serverLoopBusy'> {
  latenciesMs: number[];
}

export function runHttpLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = startTsWorker(new URL('./http-load-worker.ts', import.meta.url), spec);
    let loopAtStart = performance.eventLoopUtilization();
    let settled = false;
    worker.on('message', (message: { type: 'started' } | { type: 'result'; output: WorkerOutput }) => {
      if (message.type === 'started') {
        loopAtStart = performance.eventLoopUtilization();
        return;
      }
      settled = true;
      const { output } = message;
      const serverLoopBusy = performance.eventLoopUtilization(loopAtStart).utilization;
      const { latenciesMs, ...rest } = output;
      resolve({ ...rest, serverLoopBusy, latency: summarize(latenciesMs) });
    });
    worker.once('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`load worker exited with code ${code} before reporting`));
    });
  });
}

/** "server thread 95% busy, load thread 40% busy": whether the server (or the client) was the limit. */
export function describeThreads(result: LoadResult): string {
  const pct = (share: number) => `${Math.round(share * 100)}%`;
  return `server thread ${pct(result.serverLoopBusy)} busy, load thread ${pct(result.clientLoopBusy)} busy`;
}
