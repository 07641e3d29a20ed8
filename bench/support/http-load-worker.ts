/** The worker side of http-load.ts: sends the requests and measures the answers. */
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import type { Completion, LoadSpec, RequestFactory, WorkerOutput } from './http-load.js';

const CLIENT_TIMEOUT_MS = 30_000;
const spec = workerData as LoadSpec;
const factoryModule = (await import(spec.factory.module)) as Record<
  string,
  (options: unknown) => RequestFactory
>;
const createFactory = factoryModule[spec.factory.exportName];
if (!createFactory) throw new Error(`${spec.factory.module} has no export ${spec.factory.exportName}`);
const requestFor = createFactory(spec.factory.options);
const base = new URL(spec.baseUrl);
const sockets = spec.shape.kind === 'rate' ? (spec.shape.maxSockets ?? 256) : spec.shape.connections;
const agent = new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });

const latenciesMs: number[] = [];
const statuses: Record<string, number> = {};
const completions: Completion[] = [];
let sent = 0;
let ok = 0;
let inFlight = 0;
let lastAnswer = 0;
const epochNow = () => performance.timeOrigin + performance.now();

/** Sends request `index`; resolves when it is answered. Latency counts from `from` (performance.now()). */
function send(index: number, from: number): Promise<void> {
  const request = requestFor(index);
  sent++;
  inFlight++;
  return new Promise((resolve) => {
    let done = false;
    const finish = (status: number | 'error') => {
      if (done) return;
      done = true;
      inFlight--;
      const now = performance.now();
      lastAnswer = now;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (typeof status === 'number' && status >= 200 && status < 300) {
        ok++;
        latenciesMs.push(now - from);
      }
      if (spec.recordCompletions)
        completions.push({ index, status: typeof status === 'number' ? status : 0, atMs: epochNow() });
      resolve();
    };
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        method: request.method,
        path: request.path,
        headers:
          request.body === undefined
            ? request.headers
            : { ...request.headers, 'content-length': Buffer.byteLength(request.body) },
        agent,
        timeout: CLIENT_TIMEOUT_MS,
      },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => finish(res.statusCode ?? 0));
        res.on('error', () => finish('error'));
      },
    );
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', () => finish('error'));
    req.end(request.body);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const firstIndex = spec.firstIndex ?? 0;
let next = firstIndex;
parentPort!.postMessage({ type: 'started' });
const start = performance.now();
const loopAtStart = performance.eventLoopUtilization();

if (spec.shape.kind === 'rate') {
  const { perSecond, durationMs } = spec.shape;
  const interval = 1000 / perSecond;
  const total = Math.floor((durationMs / 1000) * perSecond);
  while (next - firstIndex < total) {
    const elapsed = performance.now() - start;
    while (next - firstIndex < total && (next - firstIndex) * interval <= elapsed) {
      void send(next, start + (next - firstIndex) * interval);
      next++;
    }
    await sleep(1);
  }
} else {
  const { connections, durationMs } = spec.shape;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() - start < durationMs) {
        const index = next++;
        await send(index, performance.now());
      }
    }),
  );
}

const drainUntil = performance.now() + (spec.drainTimeoutMs ?? 20_000);
while (inFlight > 0 && performance.now() < drainUntil) await sleep(5);
if (inFlight > 0) statuses.unfinished = inFlight;
agent.destroy();
const elapsedMs = Math.max(1, (lastAnswer || performance.now()) - start);
const output: WorkerOutput = {
  sent,
  ok,
  statuses,
  elapsedMs,
  okPerSecond: (ok / elapsedMs) * 1000,
  clientLoopBusy: performance.eventLoopUtilization(loopAtStart).utilization,
  latenciesMs,
  nextIndex: next,
  ...(spec.recordCompletions ? { completions } : {}),
};
parentPort!.postMessage({ type: 'result', output });
