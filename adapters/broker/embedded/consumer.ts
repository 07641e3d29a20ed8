import { randomUUID } from 'node:crypto';
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
import { NOTIFY_CHANNEL, type LogStore, type StoredMessage } from './log-store.js';

const FETCH_LIMIT = 200;
const MAX_IN_FLIGHT_PER_PARTITION = 400;
const COMMIT_INTERVAL_MS = 100;

interface PartitionState {
  partition: number;
  /** Next offset to fetch. */
  position: bigint;
  tracker: OffsetTracker;
  lastCommitted: bigint;
  inFlight: number;
  /** Set when a handler rejected: fetching pauses until in-flight work drains, then restarts here. */
  rewindTo: bigint | null;
  releasing: boolean;
}

export interface EmbeddedConsumerOptions {
  database: Database;
  store: LogStore;
  partitions: number;
  logger: Logger;
  leaseMs: number;
  pollIntervalMs: number;
}

/**
 * One member of a consumer group on the embedded log. Members split a topic's partitions through
 * leases; a member handles its partitions' messages per key in order (different keys concurrently),
 * commits contiguous completed offsets, and wakes on NOTIFY instead of waiting for the poll.
 */
export class EmbeddedConsumer implements TransportConsumer {
  private readonly member = randomUUID();
  private readonly states = new Map<number, PartitionState>();
  private readonly executor: KeyedExecutor;
  private readonly leases: PartitionLeases;
  private readonly timers: NodeJS.Timeout[] = [];
  private unlisten: (() => Promise<void>) | undefined;
  private stopping = false;
  private pumping = false;
  private pumpAgain = false;
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly spec: ConsumeSpec,
    private readonly handler: DeliveryHandler,
    private readonly options: EmbeddedConsumerOptions,
  ) {
    this.executor = new KeyedExecutor(spec.concurrency);
    this.leases = new PartitionLeases(options.database.knex, spec.group, spec.topic, options.partitions);
  }

  async start(): Promise<void> {
    this.unlisten = await this.options.database.listen(NOTIFY_CHANNEL, (topic) => {
      if (topic === this.spec.topic) this.pump();
    });
    await this.rebalance();
    this.timers.push(
      setInterval(
        () => void this.rebalance().catch((e) => this.warn('lease renewal failed', e)),
        Math.max(100, this.options.leaseMs / 3),
      ),
    );
    this.timers.push(setInterval(() => this.pump(), this.options.pollIntervalMs));
    this.timers.push(
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
      await this.unlisten?.().catch(() => undefined);
      await Promise.race([this.executor.idle(), new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
      await this.commitAll().catch((e) => this.warn('final commit failed', e));
      await this.leases.release(this.member).catch((e) => this.warn('lease release failed', e));
      this.states.clear();
    })();
    return this.stopped;
  }

  /** Fetches and dispatches what owned partitions have; coalesces concurrent calls. */
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
          for (const state of [...this.states.values()]) {
            if (this.stopping) return;
            if (state.rewindTo !== null || state.releasing || state.inFlight >= MAX_IN_FLIGHT_PER_PARTITION)
              continue;
            const messages = await this.options.store.read(
              this.spec.topic,
              state.partition,
              state.position,
              FETCH_LIMIT,
            );
            if (this.states.get(state.partition) !== state || state.rewindTo !== null) continue;
            for (const message of messages) this.dispatch(state, message);
            if (messages.length === FETCH_LIMIT) this.pumpAgain = true;
          }
        } while (this.pumpAgain && !this.stopping);
      } catch (error) {
        this.warn('fetch failed', error);
      } finally {
        this.pumping = false;
      }
    })();
  }

  private dispatch(state: PartitionState, message: StoredMessage): void {
    state.position = message.offset + 1n;
    state.tracker.track(message.offset);
    state.inFlight++;
    void this.executor
      .submit(message.key, async () => {
        const current = this.states.get(state.partition) === state;
        const superseded = state.rewindTo !== null && message.offset > state.rewindTo;
        if (!current || superseded || this.stopping) return; // left unacknowledged: fetched again later
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
          state.rewindTo =
            state.rewindTo === null || message.offset < state.rewindTo ? message.offset : state.rewindTo;
        }
      })
      .finally(() => {
        state.inFlight--;
        if (state.inFlight === 0) void this.settle(state);
        else if (state.inFlight === MAX_IN_FLIGHT_PER_PARTITION / 2) this.pump();
      });
  }

  /** Called when a partition has nothing in flight: finish a rewind or a release. */
  private async settle(state: PartitionState): Promise<void> {
    if (this.stopping) return;
    if (state.rewindTo !== null) {
      await this.commit(state).catch((e) => this.warn('commit failed', e));
      state.position = state.rewindTo;
      state.tracker = new OffsetTracker();
      state.rewindTo = null;
      setTimeout(() => this.pump(), 50);
    } else if (state.releasing) {
      await this.commit(state).catch((e) => this.warn('commit failed', e));
      this.states.delete(state.partition);
      await this.leases.release(this.member, [state.partition]);
    } else {
      this.pump();
    }
  }

  private async rebalance(): Promise<void> {
    if (this.stopping) return;
    const { store } = this.options;
    const { group, topic } = this.spec;
    const members = await this.leases.heartbeat(this.member, this.options.leaseMs);
    const target = this.leases.fairShare(members);
    const owned = await this.leases.balance(this.member, target, this.options.leaseMs);
    if (this.stopping) return;
    for (const [partition, state] of this.states) {
      if (!owned.includes(partition))
        this.states.delete(partition); // lease lost: another member owns it now
      else if (state.releasing && state.inFlight === 0) await this.settle(state);
    }
    let added = false;
    for (const partition of owned) {
      if (this.states.has(partition)) continue;
      const committed = await store.committed(group, topic, partition);
      this.states.set(partition, {
        partition,
        position: committed,
        tracker: new OffsetTracker(),
        lastCommitted: committed,
        inFlight: 0,
        rewindTo: null,
        releasing: false,
      });
      added = true;
    }
    const active = [...this.states.values()].filter((s) => !s.releasing);
    for (const state of active.slice(target).reverse()) {
      state.releasing = true;
      if (state.inFlight === 0) await this.settle(state);
    }
    if (added) this.pump();
  }

  private async commitAll(): Promise<void> {
    for (const state of [...this.states.values()]) await this.commit(state);
  }

  private async commit(state: PartitionState): Promise<void> {
    const next = state.tracker.committable();
    if (next === null || next <= state.lastCommitted) return;
    const ok = await this.options.store.commit(
      this.spec.group,
      this.spec.topic,
      state.partition,
      next,
      this.member,
    );
    if (ok) state.lastCommitted = next;
  }

  private warn(message: string, error: unknown): void {
    this.options.logger.warn(`embedded consumer: ${message}`, {
      topic: this.spec.topic,
      group: this.spec.group,
      error: (error as Error)?.message,
    });
  }
}
