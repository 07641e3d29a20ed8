import {
  KeyedExecutor,
  OffsetTracker,
  type ConsumeSpec,
  type DeliveryHandler,
  type TransportConsumer,
} from '../../../core/broker/index.js';
import { PartitionLeases } from '../../../core/db/partition-leases.js';
import type { Logger } from '../../../core/logger.js';
import type { Database } from '../../db/index.js';
import { GROUP_CHANNEL, NOTIFY_CHANNEL, type LogStore, type StoredMessage } from './log-store.js';

/** Messages fetched per partition per poll. */
const FETCH_LIMIT = 200;
/** A partition with this many messages handed out and unfinished is not fetched further. */
const MAX_IN_FLIGHT_PER_PARTITION = 400;
/** Completed offsets are committed this often (and on rewind, release and stop). */
const COMMIT_INTERVAL_MS = 100;
/** Pause before a rejected message is fetched again (the EventBus above does the real backoff). */
const REDELIVERY_DELAY_MS = 50;

interface PartitionState {
  partition: number;
  /** Next offset to fetch. */
  position: bigint;
  /** Bumped on every rewind: a fetch started in an older epoch is stale and dropped. */
  epoch: number;
  tracker: OffsetTracker;
  lastCommitted: bigint;
  /** Messages handed to the executor and not settled yet. */
  inFlight: number;
  /** Set when a handler rejected: fetching pauses until in-flight work drains, then restarts here. */
  rewindTo: bigint | null;
  /** Over the fair share: drained, committed, then its lease is given back. */
  releasing: boolean;
  /** A rewind or release is being applied (async); nothing else touches the partition meanwhile. */
  settling: boolean;
}

export interface EmbeddedConsumerOptions {
  database: Database;
  store: LogStore;
  partitions: number;
  logger: Logger;
  /** Lease owner id; unique among the live members of the group. */
  memberId: string;
  leaseMs: number;
  pollIntervalMs: number;
}

/**
 * One member of a consumer group on the embedded log.
 *
 * - Members split the topic's partitions through leases (`PartitionLeases`): each aims for
 *   ceil(partitions / live members), renews every leaseMs/3, takes over expired leases, drains a
 *   partition before giving it back, and NOTIFYs the group when it joins or gives partitions back.
 * - It fetches past the committed offset of every owned partition in one query, when NOTIFY says the
 *   topic got messages and every `pollIntervalMs` as a fallback.
 * - Messages go to a `KeyedExecutor` (same key one at a time in offset order, different keys
 *   concurrently up to `concurrency`); an `OffsetTracker` per partition gives the committable position:
 *   the first offset not yet handled, so commits never pass an unfinished or failed message.
 * - A rejected message pauses its partition; once its in-flight work has drained the partition is
 *   rewound to the lowest failed offset and fetched again. Later messages of that partition still
 *   queued are skipped (not handled, not committed), so no later message of the failed key is handled
 *   or acknowledged before it; messages of other keys that did complete may be delivered again
 *   (at-least-once, as on Kafka).
 * - No transaction is ever held, and never while a handler runs: every DB call is one short statement,
 *   which PGlite's single connection needs.
 */
export class EmbeddedConsumer implements TransportConsumer {
  private readonly states = new Map<number, PartitionState>();
  private readonly executor: KeyedExecutor;
  private readonly leases: PartitionLeases;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unlisteners: Array<() => Promise<void>> = [];
  private stopping = false;
  private pumping = false;
  private pumpAgain = false;
  private rebalancing: Promise<void> | undefined;
  private rebalanceAgain = false;
  private joined = false;
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly spec: ConsumeSpec,
    private readonly handler: DeliveryHandler,
    private readonly options: EmbeddedConsumerOptions,
  ) {
    this.executor = new KeyedExecutor(spec.concurrency);
    this.leases = new PartitionLeases(options.database.knex, spec.group, spec.topic, options.partitions);
  }

  get memberId(): string {
    return this.options.memberId;
  }

  get group(): string {
    return this.spec.group;
  }

  get topic(): string {
    return this.spec.topic;
  }

  /** Partitions this member currently works on (tests, diagnostics). */
  get ownedPartitions(): number[] {
    return [...this.states.keys()].sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    const { database } = this.options;
    const groupPayload = JSON.stringify([this.spec.group, this.spec.topic]);
    this.unlisteners.push(
      await database.listen(NOTIFY_CHANNEL, (topic) => {
        if (topic === this.spec.topic) this.pump();
      }),
      await database.listen(GROUP_CHANNEL, (payload) => {
        if (payload === groupPayload) void this.rebalance();
      }),
    );
    await this.rebalance();
    this.timers.push(
      setInterval(() => void this.rebalance(), Math.max(100, Math.floor(this.options.leaseMs / 3))),
      setInterval(() => this.pump(), this.options.pollIntervalMs),
      setInterval(
        () => void this.commitAll().catch((e) => this.warn('commit failed', e)),
        COMMIT_INTERVAL_MS,
      ),
    );
    this.pump();
  }

  stop(timeoutMs: number): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      for (const timer of this.timers) clearInterval(timer);
      await Promise.all(this.unlisteners.map((unlisten) => unlisten().catch(() => undefined)));
      await this.rebalancing?.catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.executor.idle(),
        new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, timeoutMs)))),
      ]);
      clearTimeout(timer);
      // Handlers still running past the timeout are abandoned: their messages stay uncommitted and
      // the next owner of the partition delivers them again.
      await this.commitAll().catch((e) => this.warn('final commit failed', e));
      await this.leases.release(this.memberId).catch((e) => this.warn('lease release failed', e));
      await this.options.store
        .notifyGroup(this.spec.group, this.spec.topic)
        .catch((e) => this.warn('group notify failed', e));
      this.states.clear();
    })();
    return this.stopped;
  }

  /** Fetches what the owned partitions have and dispatches it; coalesces concurrent calls. */
  private pump(): void {
    if (this.stopping) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void (async () => {
      try {
        do {
          this.pumpAgain = false;
          const fetches = [...this.states.values()]
            .filter((s) => this.fetchable(s))
            .map((state) => ({ state, epoch: state.epoch, from: state.position }));
          if (fetches.length === 0) break;
          const messages = await this.options.store.readMany(
            this.spec.topic,
            fetches.map((f) => ({ partition: f.state.partition, from: f.from })),
            FETCH_LIMIT,
          );
          if (this.stopping) return;
          const byPartition = new Map<number, StoredMessage[]>();
          for (const message of messages) {
            const list = byPartition.get(message.partition);
            if (list) list.push(message);
            else byPartition.set(message.partition, [message]);
          }
          for (const { state, epoch, from } of fetches) {
            const batch = byPartition.get(state.partition) ?? [];
            // Dropped if the partition was rewound, paused, lost or released while the fetch ran.
            if (!this.fetchable(state) || state.epoch !== epoch || state.position !== from) continue;
            for (const message of batch) this.dispatch(state, message);
            if (batch.length === FETCH_LIMIT) this.pumpAgain = true;
          }
        } while (this.pumpAgain && !this.stopping);
      } catch (error) {
        this.warn('fetch failed', error);
      } finally {
        this.pumping = false;
      }
    })();
  }

  private fetchable(state: PartitionState): boolean {
    return (
      this.states.get(state.partition) === state &&
      state.rewindTo === null &&
      !state.releasing &&
      !state.settling &&
      state.inFlight < MAX_IN_FLIGHT_PER_PARTITION
    );
  }

  private dispatch(state: PartitionState, message: StoredMessage): void {
    state.position = message.offset + 1n;
    state.tracker.track(message.offset);
    state.inFlight++;
    void this.executor
      .submit(message.key, async () => {
        const current = this.states.get(state.partition) === state;
        const superseded = state.rewindTo !== null && message.offset > state.rewindTo;
        // Not handled and not marked done: fetched and delivered again (after the rewind, by the new
        // owner of the partition, or after a restart).
        if (!current || superseded || this.stopping) return;
        try {
          await this.handler({
            topic: this.spec.topic,
            key: message.key,
            value: message.value,
            headers: message.headers,
            messageId: `${message.partition}:${message.offset}`,
            partition: message.partition,
            offset: message.offset.toString(),
            publishedAt: message.publishedAt,
          });
          state.tracker.done(message.offset);
        } catch {
          if (state.rewindTo === null || message.offset < state.rewindTo) state.rewindTo = message.offset;
        }
      })
      .finally(() => {
        state.inFlight--;
        if (state.inFlight === 0) void this.settle(state);
        else if (state.inFlight === MAX_IN_FLIGHT_PER_PARTITION / 2) this.pump();
      });
  }

  /** Called when a partition has nothing in flight: apply a pending rewind or release. */
  private async settle(state: PartitionState): Promise<void> {
    if (this.stopping || state.settling || this.states.get(state.partition) !== state) return;
    if (state.rewindTo !== null) {
      state.settling = true;
      try {
        await this.commit(state).catch((e) => this.warn('commit failed', e));
        state.position = state.rewindTo;
        state.epoch++;
        state.tracker = new OffsetTracker();
        state.rewindTo = null;
      } finally {
        state.settling = false;
      }
      if (state.releasing) void this.settle(state);
      else setTimeout(() => this.pump(), REDELIVERY_DELAY_MS);
    } else if (state.releasing) {
      state.settling = true;
      try {
        await this.commit(state);
        await this.leases.release(this.memberId, [state.partition]);
        if (this.states.get(state.partition) === state) this.states.delete(state.partition);
        await this.options.store.notifyGroup(this.spec.group, this.spec.topic);
      } catch (error) {
        this.warn('partition release failed; retried at the next heartbeat', error);
      } finally {
        state.settling = false;
      }
    } else {
      this.pump();
    }
  }

  /** Runs a heartbeat + rebalance now, or right after the one in progress. Never rejects. */
  private rebalance(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (this.rebalancing) {
      this.rebalanceAgain = true;
      return this.rebalancing;
    }
    this.rebalancing = (async () => {
      try {
        do {
          this.rebalanceAgain = false;
          await this.rebalanceOnce().catch((e) => this.warn('lease renewal failed', e));
        } while (this.rebalanceAgain && !this.stopping);
      } finally {
        this.rebalancing = undefined;
      }
    })();
    return this.rebalancing;
  }

  private async rebalanceOnce(): Promise<void> {
    if (this.stopping) return;
    const { store, leaseMs, logger } = this.options;
    const { group, topic } = this.spec;
    const members = await this.leases.heartbeat(this.memberId, leaseMs);
    if (!this.joined) {
      this.joined = true;
      await store.notifyGroup(group, topic);
    }
    const target = this.leases.fairShare(members);
    const owned = await this.leases.balance(this.memberId, target, leaseMs);
    if (this.stopping) return;
    for (const partition of [...this.states.keys()]) {
      if (!owned.includes(partition)) {
        // Our lease expired and another member took the partition: stop working on it. Handlers still
        // running finish, but nothing of theirs is committed (commits require the lease).
        this.states.delete(partition);
        logger.warn('embedded consumer: lost a partition lease', { topic, group, partition });
      }
    }
    const fresh = owned.filter((p) => !this.states.has(p));
    if (fresh.length > 0) {
      const committed = await store.committedMany(group, topic, fresh);
      if (this.stopping) return;
      for (const partition of fresh) {
        if (this.states.has(partition)) continue;
        const position = committed.get(partition) ?? 0n;
        this.states.set(partition, {
          partition,
          position,
          epoch: 0,
          tracker: new OffsetTracker(),
          lastCommitted: position,
          inFlight: 0,
          rewindTo: null,
          releasing: false,
          settling: false,
        });
      }
    }
    // Over the fair share (a member joined): give back the highest partitions once they drain.
    const active = [...this.states.values()].filter((s) => !s.releasing);
    for (const state of active.slice(target).reverse()) state.releasing = true;
    for (const state of this.states.values()) {
      if (state.releasing && state.inFlight === 0) await this.settle(state);
    }
    if (fresh.length > 0) this.pump();
  }

  /** Commits every partition with progress, in one statement. */
  private commitAll(): Promise<void> {
    return this.commit(...this.states.values());
  }

  /** Commits the partitions' contiguous completed prefixes, each only while this member holds its lease. */
  private async commit(...states: PartitionState[]): Promise<void> {
    const due = states
      .map((state) => ({ state, next: state.tracker.committable() }))
      .filter(
        (d): d is { state: PartitionState; next: bigint } =>
          d.next !== null && d.next > d.state.lastCommitted,
      );
    if (due.length === 0) return;
    const committed = await this.options.store.commitMany(
      this.spec.group,
      this.spec.topic,
      due.map(({ state, next }) => ({ partition: state.partition, offset: next })),
      this.memberId,
    );
    for (const { state, next } of due) {
      if (committed.has(state.partition) && next > state.lastCommitted) state.lastCommitted = next;
    }
  }

  private warn(message: string, error: unknown): void {
    this.options.logger.warn(`embedded consumer: ${message}`, {
      topic: this.spec.topic,
      group: this.spec.group,
      member: this.memberId,
      error: (error as Error)?.message,
    });
  }
}
