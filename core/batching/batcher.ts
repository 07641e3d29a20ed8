/**
 * Natural batching of database work (docs/decisions/0025-webhook-batched-writes-and-host-queues.md,
 * 0028-deposit-group-commit.md).
 *
 * On this platform a statement costs a round trip (a socket write that wakes a database backend), not
 * rows. Here concurrent `submit` calls queue while the batches in flight run; when one finishes,
 * everything that accumulated meanwhile (up to `maxBatch`) goes as the next batch, in ONE call of
 * `run`. There is no linger timer: a submit while a lane is free runs after the current microtask wave
 * (so calls made in the same tick share a batch), so a lone caller is no slower than before, and a busy
 * service pays one round trip for many callers.
 *
 * - At most `maxInFlight` batches run at once (default 1). Items are taken in submission order; with one
 *   lane, batches also finish in that order.
 * - Items with the same `exclusiveKey` (e.g. two attempts of one delivery) never share a batch: a batch
 *   decides every item on the same snapshot, so the later one waits for a later batch. (With several
 *   lanes, that later batch may run concurrently: the store must serialise such items itself.)
 * - When a batch of several items fails in a way one item can cause (`isolate`, default: any failure),
 *   each item is run again alone, so one bad item (a constraint violation, a deadlock victim) fails only
 *   its own caller. Otherwise (e.g. the database is unreachable) every caller gets the batch's error.
 * - `run` sees the log context of its item when alone, and none for several items.
 */
import { currentLogContext, withLogContext, withoutLogContext, type LogContext } from '../log-context.js';

export interface BatcherOptions<I, O> {
  /** Runs one batch; returns one output per item, in the items' order. */
  run(items: readonly I[]): Promise<O[]>;
  /** Most items in one batch. */
  maxBatch: number;
  /** Most batches running at once (default 1). */
  maxInFlight?: number;
  /** Items with the same key are never in the same batch. */
  exclusiveKey?: (item: I) => string;
  /** Whether a failed batch's items are retried one by one (default: always). */
  isolate?: (error: unknown) => boolean;
}

interface Pending<I, O> {
  item: I;
  resolve(output: O): void;
  reject(error: unknown): void;
  /** The submitter's log context (core/log-context.ts). */
  context: LogContext;
}

export class Batcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly maxInFlight: number;

  constructor(private readonly options: BatcherOptions<I, O>) {
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1) throw new Error('maxBatch must be >= 1');
    this.maxInFlight = options.maxInFlight ?? 1;
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1)
      throw new Error('maxInFlight must be >= 1');
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject, context: currentLogContext() });
      if (this.inFlight >= this.maxInFlight || this.scheduled) return;
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        this.fill();
      });
    });
  }

  /** Starts batches from the queue while lanes are free. */
  private fill(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.takeBatch();
      this.inFlight++;
      void this.runBatch(batch).finally(() => {
        this.inFlight--;
        this.fill();
      });
    }
  }

  /** The next batch from the head of the queue, skipping (not reordering) items whose key is taken. */
  private takeBatch(): Pending<I, O>[] {
    const { exclusiveKey, maxBatch } = this.options;
    if (!exclusiveKey) return this.queue.splice(0, maxBatch);
    const batch: Pending<I, O>[] = [];
    const rest: Pending<I, O>[] = [];
    const keys = new Set<string>();
    for (const pending of this.queue) {
      const key = exclusiveKey(pending.item);
      if (batch.length < maxBatch && !keys.has(key)) {
        keys.add(key);
        batch.push(pending);
      } else {
        rest.push(pending);
      }
    }
    this.queue = rest;
    return batch;
  }

  /**
   * Runs a batch in the log context of its one item, or, for several items (of several flows), in
   * none: a line logged by `run` never carries the ids of whichever request happened to open the lane.
   */
  private runInContext(batch: Pending<I, O>[]): Promise<O[]> {
    const items = batch.map((p) => p.item);
    return batch.length === 1
      ? withoutLogContext(() => withLogContext(batch[0]!.context, () => this.options.run(items)))
      : withoutLogContext(() => this.options.run(items));
  }

  private async runBatch(batch: Pending<I, O>[]): Promise<void> {
    try {
      const outputs = await this.runInContext(batch);
      if (outputs.length !== batch.length) throw new Error('batch returned the wrong number of outputs');
      batch.forEach((pending, index) => pending.resolve(outputs[index]!));
      return;
    } catch (error) {
      if (batch.length === 1 || !(this.options.isolate?.(error) ?? true)) {
        for (const pending of batch) pending.reject(error);
        return;
      }
    }
    // Isolate the item that broke the batch: everyone else still gets their answer.
    for (const pending of batch) {
      try {
        const [output] = await this.runInContext([pending]);
        pending.resolve(output!);
      } catch (error) {
        pending.reject(error);
      }
    }
  }
}
