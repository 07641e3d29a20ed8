/**
 * Natural batching of the dispatcher's database work (docs/decisions/0025-webhook-batched-writes-and-host-queues.md).
 *
 * On this platform a statement costs a round trip (a socket write that wakes a database backend), not
 * rows: a delivery used to cost ~20 statements, each paid alone by its handler. Here concurrent
 * `submit` calls queue while one batch runs; when it finishes, everything that accumulated meanwhile
 * (up to `maxBatch`) goes as the next batch, in ONE call of `run`. There is no linger timer: a submit
 * on an idle batcher runs after the current microtask wave (so calls made in the same tick share a
 * batch), so a lone handler is no slower than before, and a busy dispatcher pays one round trip for
 * many deliveries.
 *
 * - One batch in flight at a time; items keep submission order within and across batches.
 * - Items with the same `exclusiveKey` (e.g. two attempts of one delivery) never share a batch: a
 *   batch decides every item on the same snapshot, so the later one waits for the next batch.
 * - When a batch of several items fails, each item is run again alone, so one bad item (a constraint
 *   violation, a deadlock victim) fails only its own caller.
 */
export interface BatcherOptions<I, O> {
  /** Runs one batch; returns one output per item, in the items' order. */
  run(items: readonly I[]): Promise<O[]>;
  /** Most items in one batch. */
  maxBatch: number;
  /** Items with the same key are never in the same batch. */
  exclusiveKey?: (item: I) => string;
}

interface Pending<I, O> {
  item: I;
  resolve(output: O): void;
  reject(error: unknown): void;
}

export class Batcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private running = false;
  private scheduled = false;

  constructor(private readonly options: BatcherOptions<I, O>) {
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1) throw new Error('maxBatch must be >= 1');
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.running || this.scheduled) return;
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        void this.pump();
      });
    });
  }

  private async pump(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) await this.runBatch(this.takeBatch());
    } finally {
      this.running = false;
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

  private async runBatch(batch: Pending<I, O>[]): Promise<void> {
    try {
      const outputs = await this.options.run(batch.map((p) => p.item));
      if (outputs.length !== batch.length) throw new Error('batch returned the wrong number of outputs');
      batch.forEach((pending, index) => pending.resolve(outputs[index]!));
      return;
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
    }
    // Isolate the item that broke the batch: everyone else still gets their answer.
    for (const pending of batch) {
      try {
        const [output] = await this.options.run([pending.item]);
        pending.resolve(output!);
      } catch (error) {
        pending.reject(error);
      }
    }
  }
}
