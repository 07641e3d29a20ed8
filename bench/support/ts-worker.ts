/**
 * Starts a TypeScript module in a worker thread. Node 20 does not carry the main thread's `--import tsx`
 * hooks into workers, so the worker registers tsx itself before importing the module.
 */
import { Worker } from 'node:worker_threads';

export function startTsWorker(module: URL, workerData: unknown): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(module.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/** The worker's next message of `type` (messages are `{ type }` objects); rejects if the worker fails. */
export function nextMessage<M extends { type: string }, T extends M['type']>(
  worker: Worker,
  type: T,
): Promise<Extract<M, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: M) => {
      if (message.type !== type) return;
      worker.off('message', onMessage);
      worker.off('error', reject);
      resolve(message as Extract<M, { type: T }>);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
  });
}
