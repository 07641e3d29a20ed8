import { OffsetTracker, type DeliveredMessage } from '../../../core/broker/index.js';

export interface PendingMessage {
  offset: bigint;
  message: DeliveredMessage;
}

/**
 * A key whose handler rejected: its failed message and every later message of the key wait here (in
 * offset order) and are handed to the handler again, in order, after a backoff. Other keys go on.
 */
export interface BlockedKey {
  queue: PendingMessage[];
  failures: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * What one member knows about one assigned partition: which fetched offsets are finished (commits
 * never pass an unfinished one), which keys are blocked after a failure, and how far it has fetched,
 * so a re-fetch after a rebalance does not hand the same message over twice.
 */
export class PartitionState {
  readonly tracker = new OffsetTracker();
  readonly blocked = new Map<string, BlockedKey>();
  /** First offset not handed over yet. */
  private next: bigint | null = null;
  private lastCommitted: bigint | null = null;
  /** Set when the partition went to another member (or the member restarted): results are void. */
  revoked = false;
  /** Paused by us because too many of its messages are unfinished. */
  paused = false;

  constructor(readonly partition: number) {}

  /** False for offsets already handed over (kafkajs re-fetches from the last commit after a rejoin). */
  isNew(offset: bigint): boolean {
    return this.next === null || offset >= this.next;
  }

  accept(offset: bigint): void {
    this.tracker.track(offset);
    this.next = offset + 1n;
  }

  /** Fetched messages not finished yet, blocked ones included. */
  get outstanding(): number {
    return this.tracker.inFlightCount;
  }

  /** The offset to commit, if it moved since the last commit. */
  commitCandidate(): bigint | null {
    const next = this.tracker.committable();
    if (next === null || (this.lastCommitted !== null && next <= this.lastCommitted)) return null;
    return next;
  }

  committed(offset: bigint): void {
    if (this.lastCommitted === null || offset > this.lastCommitted) this.lastCommitted = offset;
  }

  block(key: string, first: PendingMessage): BlockedKey {
    const entry: BlockedKey = { queue: [first], failures: 1, timer: undefined };
    this.blocked.set(key, entry);
    return entry;
  }

  /** Parks `pending` behind the failed message of its key; false when the key is not blocked. */
  park(key: string, pending: PendingMessage): boolean {
    const entry = this.blocked.get(key);
    if (!entry) return false;
    let index = entry.queue.length;
    while (index > 0 && entry.queue[index - 1]!.offset > pending.offset) index--;
    entry.queue.splice(index, 0, pending);
    return true;
  }

  clearTimers(): void {
    for (const entry of this.blocked.values()) clearTimeout(entry.timer);
  }
}
