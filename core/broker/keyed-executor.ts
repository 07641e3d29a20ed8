/**
 * Runs tasks so that tasks with the same key run one after another in submission order, tasks with
 * different keys run concurrently, and at most `concurrency` run at once. Adapters use it to give every
 * broker the same "ordered per key, parallel across keys" behaviour.
 */
export class KeyedExecutor {
  private readonly tails = new Map<string, Promise<void>>();
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private pending = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('concurrency must be >= 1');
  }

  /** Number of submitted tasks not finished yet. */
  get size(): number {
    return this.pending;
  }

  /** Schedules `task`; the returned promise settles with the task's outcome. */
  submit(key: string, task: () => Promise<void>): Promise<void> {
    this.pending++;
    const previous = this.tails.get(key) ?? Promise.resolve();
    const run = previous.then(async () => {
      await this.acquire();
      try {
        await task();
      } finally {
        this.release();
      }
    });
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
      this.pending--;
      if (this.pending === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    });
    return run;
  }

  /** Resolves when every submitted task has settled. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private acquire(): Promise<void> {
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}
