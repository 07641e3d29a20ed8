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
