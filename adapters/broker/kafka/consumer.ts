import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import {
  KeyedExecutor,
  type ConsumeSpec,
  type DeliveryHandler,
  type TransportConsumer,
} from '../../../core/broker/index.js';
import { BrokerUnavailableError } from '../../../core/errors.js';
import type { Logger } from '../../../core/logger.js';
import { errorMessage, noop } from './deadline.js';
import { toDeliveredMessage } from './messages.js';
import type { ResolvedKafkaOptions } from './options.js';
import { PartitionState, type BlockedKey, type PendingMessage } from './partition-state.js';

/** Backoff before a rejected message is handed to the handler again (doubling, capped). */
const REDELIVERY_INITIAL_MS = 500;
const REDELIVERY_MAX_MS = 30_000;

/**
 * One member of a Kafka consumer group for one topic.
 *
 * `eachBatch` never waits for handlers: it hands each fetched message to a KeyedExecutor (same key in
 * order, different keys of a partition concurrently, at most `concurrency` at once) and returns, so
 * kafkajs keeps heartbeating and fetching even while handlers sleep for minutes (delay tiers), and a
 * slow key never holds back the other keys of its partition. Backpressure: a partition with
 * `maxOutstandingPerPartition` unfinished messages is paused until half of them are done.
 *
 * Commits: an OffsetTracker per partition gives the first unfinished offset; it is committed every
 * `commitIntervalMs`, when a rebalance starts and on stop, so a commit never passes a message whose
 * handler has not resolved.
 *
 * A rejected message blocks its key: later messages of that key are parked behind it (not handed to
 * the handler, not committable) and the key is handed over again, in offset order, after a backoff
 * (0.5 s doubling to 30 s). Other keys go on. A stop, crash or rebalance leaves the blocked messages
 * uncommitted, so the next owner of the partition delivers them again.
 */
export class KafkaGroupConsumer implements TransportConsumer {
  private readonly consumer: Consumer;
  private readonly executor: KeyedExecutor;
  private readonly states = new Map<number, PartitionState>();
  private readonly log: Logger;
  private memberId: string | null = null;
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> | undefined;
  private stopping = false;
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly spec: ConsumeSpec,
    private readonly handler: DeliveryHandler,
    kafka: Kafka,
    private readonly options: ResolvedKafkaOptions,
  ) {
    this.executor = new KeyedExecutor(spec.concurrency);
    this.log = options.logger.child({ topic: spec.topic, group: spec.group });
    this.consumer = kafka.consumer({
      groupId: spec.group,
      sessionTimeout: options.sessionTimeoutMs,
      rebalanceTimeout: options.rebalanceTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      maxWaitTimeInMs: options.maxWaitTimeMs,
      metadataMaxAge: options.metadataMaxAgeMs,
      allowAutoTopicCreation: false,
      // Join/fetch/commit retries; when exhausted kafkajs restarts the member (CRASH with restart).
      retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 5_000 },
    });
    const { GROUP_JOIN, REBALANCING, CRASH } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, ({ payload }) =>
      this.onJoin(payload.memberId, payload.memberAssignment[spec.topic] ?? []),
    );
    // Last chance to commit finished work of partitions this member may lose.
    this.consumer.on(REBALANCING, () => void this.commit());
    this.consumer.on(CRASH, ({ payload }) => this.onCrash(payload.error, payload.restart));
  }

  /** Connects, joins the group and starts fetching; resolves once the member has its partitions. */
  async start(): Promise<void> {
    try {
      await this.consumer.connect();
      await this.consumer.subscribe({ topics: [this.spec.topic], fromBeginning: true });
      await this.consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        // eachBatch only dispatches; one worker is enough and keeps partitions' batches in order.
        partitionsConsumedConcurrently: 1,
        eachBatch: async (payload) => this.onBatch(payload),
      });
    } catch (error) {
      await this.consumer.disconnect().catch(noop);
      throw new BrokerUnavailableError(
        `kafka consumer for ${this.spec.topic} (${this.spec.group}) could not start: ${errorMessage(error)}`,
        { cause: error },
      );
    }
    this.commitTimer = setInterval(() => void this.commit(), this.options.commitIntervalMs);
  }

  stop(timeoutMs: number): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      clearInterval(this.commitTimer);
      for (const state of this.states.values()) state.clearTimers();
      try {
        this.consumer.pause([{ topic: this.spec.topic }]);
      } catch {
        // Not running (crashed): nothing is fetched anyway.
      }
      // Handlers not started yet are skipped (stopping); wait for the running ones.
      const drained = await settlesWithin(this.executor.idle(), timeoutMs);
      // Bounded even when the broker is gone (kafkajs retries commits for several seconds).
      const bound = Math.min(this.options.requestTimeoutMs, 5_000);
      await settlesWithin(
        this.commit().then(() => this.commit()), // the second picks up what finished meanwhile
        bound,
      );
      if (!drained) {
        this.log.warn(
          'kafka consumer stopped with handlers still running; their messages will be delivered again',
          { running: this.executor.size, timeoutMs },
        );
      }
      const left = await settlesWithin(
        this.consumer
          .disconnect()
          .catch((error: unknown) =>
            this.log.warn('kafka consumer disconnect failed', { error: errorMessage(error) }),
          ),
        bound,
      );
      if (!left) this.log.warn('kafka consumer did not leave its group in time', { timeoutMs: bound });
    })();
    return this.stopped;
  }

  private onBatch({ batch, resolveOffset, isRunning }: EachBatchPayload): Promise<void> {
    if (this.stopping) return Promise.resolve();
    const state = this.stateOf(batch.partition);
    for (const raw of batch.messages) {
      if (this.stopping || !isRunning() || state.revoked) break;
      const offset = BigInt(raw.offset);
      if (state.isNew(offset)) {
        if (state.outstanding >= this.options.maxOutstandingPerPartition) {
          // The rest of the batch is not resolved: it is fetched again after the resume.
          this.pause(state);
          break;
        }
        state.accept(offset);
        this.dispatch(state, { offset, message: toDeliveredMessage(batch.topic, batch.partition, raw) });
      }
      // "Resolved" tells kafkajs where to fetch next; what we commit comes from the tracker.
      resolveOffset(raw.offset);
    }
    return Promise.resolve();
  }

  private stateOf(partition: number): PartitionState {
    let state = this.states.get(partition);
    if (!state) {
      state = new PartitionState(partition);
      this.states.set(partition, state);
    }
    return state;
  }

  private dispatch(state: PartitionState, pending: PendingMessage): void {
    const key = pending.message.key;
    if (state.park(key, pending)) return;
    void this.executor.submit(key, () => this.deliver(state, pending)).then(() => this.afterTask(state));
  }

  private async deliver(state: PartitionState, pending: PendingMessage): Promise<void> {
    // Left unfinished, so never committed: the next owner (or the next process) delivers it again.
    if (this.stopping || state.revoked) return;
    // An earlier message of the key failed after this one was queued: wait behind it.
    if (state.park(pending.message.key, pending)) return;
    if (await this.handle(state, pending)) return;
    if (this.stopping || state.revoked) return;
    this.scheduleRedelivery(state, pending.message.key, state.block(pending.message.key, pending));
  }

  /** Runs the handler; true when it resolved (the offset is then finished). */
  private async handle(state: PartitionState, pending: PendingMessage): Promise<boolean> {
    try {
      await this.handler(pending.message);
      state.tracker.done(pending.offset);
      return true;
    } catch (error) {
      if (!this.stopping && !state.revoked) {
        this.log.warn('handler rejected a kafka message; it will be delivered again', {
          partition: state.partition,
          offset: pending.message.offset,
          key: pending.message.key,
          error: errorMessage(error),
        });
      }
      return false;
    }
  }

  private scheduleRedelivery(state: PartitionState, key: string, entry: BlockedKey): void {
    const delay = Math.min(REDELIVERY_INITIAL_MS * 2 ** (entry.failures - 1), REDELIVERY_MAX_MS);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      void this.executor
        .submit(key, () => this.redeliver(state, key, entry))
        .then(() => this.afterTask(state));
    }, delay);
  }

  /**
   * Runs in the key's executor chain, so every task of the key queued before it has parked itself by
   * now; hands the parked messages over in offset order until one fails again or none is left.
   */
  private async redeliver(state: PartitionState, key: string, entry: BlockedKey): Promise<void> {
    for (;;) {
      if (this.stopping || state.revoked || state.blocked.get(key) !== entry) return;
      const head = entry.queue[0];
      if (!head) {
        state.blocked.delete(key);
        return;
      }
      if (!(await this.handle(state, head))) {
        if (this.stopping || state.revoked) return;
        entry.failures++;
        this.scheduleRedelivery(state, key, entry);
        return;
      }
      entry.queue.splice(entry.queue.indexOf(head), 1);
    }
  }

  private afterTask(state: PartitionState): void {
    if (!state.paused || state.revoked || this.stopping) return;
    if (state.outstanding > this.options.maxOutstandingPerPartition / 2) return;
    state.paused = false;
    this.resumePartition(state.partition);
  }

  private pause(state: PartitionState): void {
    state.paused = true;
    try {
      this.consumer.pause([{ topic: this.spec.topic, partitions: [state.partition] }]);
    } catch {
      // Member restarting: its new group state starts unpaused and this state is revoked.
    }
  }

  private resumePartition(partition: number): void {
    try {
      this.consumer.resume([{ topic: this.spec.topic, partitions: [partition] }]);
    } catch {
      // Member restarting: nothing is paused in its new group state.
    }
  }

  /** After every (re)join: forget partitions that went elsewhere; keep the others as they are. */
  private onJoin(memberId: string, partitions: number[]): void {
    // A new member id means the coordinator dropped us meanwhile: others may have owned anything.
    if (this.memberId !== null && memberId !== this.memberId) this.revokeAll();
    this.memberId = memberId;
    const assigned = new Set(partitions);
    for (const state of [...this.states.values()]) if (!assigned.has(state.partition)) this.revoke(state);
  }

  private onCrash(error: Error, restart: boolean): void {
    // kafkajs rebuilds the member from scratch (new member id, fetch from the last commit).
    this.revokeAll();
    this.memberId = null;
    if (!restart && !this.stopping) {
      this.log.error('kafka consumer stopped on an error it does not retry; restart the process', {
        error: errorMessage(error),
      });
    }
  }

  private revokeAll(): void {
    for (const state of [...this.states.values()]) this.revoke(state);
  }

  private revoke(state: PartitionState): void {
    state.revoked = true;
    state.clearTimers();
    this.states.delete(state.partition);
    // kafkajs keeps pauses across rebalances: a partition assigned to us again later must not stay paused.
    if (state.paused) this.resumePartition(state.partition);
  }

  private commit(): Promise<void> {
    this.committing ??= this.commitOnce().finally(() => {
      this.committing = undefined;
    });
    return this.committing;
  }

  private async commitOnce(): Promise<void> {
    const entries: Array<{ state: PartitionState; offset: bigint }> = [];
    for (const state of this.states.values()) {
      const offset = state.commitCandidate();
      if (offset !== null) entries.push({ state, offset });
    }
    if (entries.length === 0) return;
    try {
      await this.consumer.commitOffsets(
        entries.map(({ state, offset }) => ({
          topic: this.spec.topic,
          partition: state.partition,
          offset: offset.toString(),
        })),
      );
      for (const { state, offset } of entries) state.committed(offset);
    } catch (error) {
      // Typically a rebalance: the partitions' next owner starts from the previous commit.
      this.log.warn('kafka offset commit failed', {
        partitions: entries.map(({ state }) => state.partition),
        error: errorMessage(error),
      });
    }
  }
}

/** True if `promise` settled within `ms`; the timer does not outlive the wait. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.max(0, ms));
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
