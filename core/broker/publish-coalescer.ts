/**
 * Natural batching of concurrent publishes (docs/decisions/0024-coalesced-broker-publishes.md).
 *
 * A broker round trip costs about the same for one message as for sixty: the Provider Gateway, which
 * publishes one callback per HTTP request, was bound by requests, not bytes. Here concurrent `submit`
 * calls queue while one batch is being written; when it is acknowledged, everything that accumulated
 * meanwhile (up to the limits) goes out as the next batch. There is no linger timer: a publish on an
 * idle coalescer is sent at once (after the current microtask wave, so publishes made in the same
 * tick share a batch), so a lone publish is no slower than before.
 *
 * Guarantees the adapters build on:
 * - one batch in flight at a time, batches in submission order, and within a batch every submission's
 *   messages in submission order: messages of one key keep publish-call order;
 * - a submission is never split over two batches (a caller's promise is one broker acknowledgement);
 * - every caller of a batch is resolved only after the whole batch was acknowledged, and every caller
 *   of a failed batch is rejected with its error: no caller hears "durable" for an unwritten message;
 * - optionally (`isolateFailure`), a batch that failed in a way one bad message can cause, and that
 *   wrote nothing, is retried one publish at a time, so that message fails its own caller only;
 * - a withdrawn submission (its caller gave up while it waited) is never sent late.
 */
import type { OutgoingMessage } from './types.js';

/** Upper bounds of one batch; a single submission larger than them still goes, alone. */
export interface BatchLimits {
  maxMessages: number;
  /** Estimated payload bytes (keys, values, headers, plus a per-message allowance for framing). */
  maxBytes: number;
}

export interface CoalescerOptions extends BatchLimits {
  /**
   * For a failed batch of several publishes: true when the error may be the fault of one message
   * (e.g. a value the store refuses) AND the failed batch is known to have written nothing. Each
   * publish of the batch is then sent again alone, in order, and settles with its own outcome.
   * Default: never (every caller of a failed batch is rejected).
   */
  isolateFailure?: (error: unknown) => boolean;
}

/** One caller's publish as the batch sender sees it. */
export interface QueuedPublish {
  readonly topic: string;
  readonly messages: readonly OutgoingMessage[];
  /** `Date.now()` when the caller submitted it (a sender may bound the batch by its oldest caller). */
  readonly submittedAt: number;
}

export interface Submission {
  /** Settles with the outcome of the batch that carried this submission. */
  readonly done: Promise<void>;
  /** Takes the submission out of the queue if it was not sent yet; false once it is (or was) in flight. */
  withdraw(): boolean;
}

/** Framing, offsets, lengths and attributes per record: a generous allowance on top of its bytes. */
const PER_MESSAGE_OVERHEAD_BYTES = 64;

export function estimateBytes(messages: readonly OutgoingMessage[]): number {
  let bytes = 0;
  for (const message of messages) {
    bytes += PER_MESSAGE_OVERHEAD_BYTES + message.key.length * 3 + message.value.length;
    if (message.headers) {
      for (const name in message.headers) bytes += (name.length + message.headers[name]!.length) * 3;
    }
  }
  return bytes;
}

/**
 * How many submissions from the head of the queue make the next batch: as many as fit the limits, and
 * always at least one.
 */
export function batchLength(
  queue: ReadonlyArray<{ count: number; bytes: number }>,
  limits: BatchLimits,
): number {
  let count = 0;
  let bytes = 0;
  let taken = 0;
  for (const entry of queue) {
    if (taken > 0 && (count + entry.count > limits.maxMessages || bytes + entry.bytes > limits.maxBytes))
      break;
    count += entry.count;
    bytes += entry.bytes;
    taken++;
  }
  return taken;
}

/** One caller's publish: what the sender sees, and the caller's handle on it (no closures per call). */
class Entry implements QueuedPublish, Submission {
  readonly submittedAt = Date.now();
  readonly count: number;
  readonly bytes: number;
  readonly done: Promise<void>;
  state: 'queued' | 'withdrawn' | 'sent' = 'queued';
  resolve!: () => void;
  reject!: (error: unknown) => void;

  constructor(
    readonly topic: string,
    readonly messages: readonly OutgoingMessage[],
  ) {
    this.count = messages.length;
    this.bytes = estimateBytes(messages);
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  withdraw(): boolean {
    if (this.state !== 'queued') return false;
    this.state = 'withdrawn';
    return true;
  }
}

export class PublishCoalescer {
  private queue: Entry[] = [];
  private running = false;
  private scheduled = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly send: (batch: readonly QueuedPublish[]) => Promise<void>,
    private readonly options: CoalescerOptions,
  ) {
    if (!(options.maxMessages >= 1 && options.maxBytes >= 1))
      throw new Error('publish batch limits must be at least 1');
  }

  submit(topic: string, messages: readonly OutgoingMessage[]): Submission {
    const entry = new Entry(topic, messages);
    this.queue.push(entry);
    this.schedule();
    return entry;
  }

  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void> {
    if (!this.running && !this.scheduled && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    this.running = true;
    try {
      for (;;) {
        this.queue = this.queue.filter((entry) => entry.state === 'queued');
        if (this.queue.length === 0) break;
        const batch = this.queue.splice(0, batchLength(this.queue, this.options));
        for (const entry of batch) entry.state = 'sent';
        try {
          await this.send(batch);
        } catch (error) {
          if (batch.length > 1 && this.options.isolateFailure?.(error)) await this.sendOneByOne(batch);
          else for (const entry of batch) entry.reject(error);
          continue;
        }
        for (const entry of batch) entry.resolve();
      }
    } finally {
      this.running = false;
      for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  private async sendOneByOne(batch: readonly Entry[]): Promise<void> {
    for (const entry of batch) {
      try {
        await this.send([entry]);
        entry.resolve();
      } catch (error) {
        entry.reject(error);
      }
    }
  }
}
