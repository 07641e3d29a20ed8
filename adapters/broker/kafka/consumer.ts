import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import {
  KeyedExecutor,
  OffsetTracker,
  type ConsumeSpec,
  type DeliveryHandler,
  type Headers,
  type TransportConsumer,
} from '../../../core/broker/index.js';
import type { Logger } from '../../../core/logger.js';

const MAX_IN_FLIGHT_PER_PARTITION = 1_000;
const COMMIT_INTERVAL_MS = 200;

interface PartitionState {
  partition: number;
  tracker: OffsetTracker;
  lastCommitted: bigint | null;
  inFlight: number;
  /** Lowest offset whose handler rejected: later offsets are skipped until the partition is rewound. */
  rewindTo: bigint | null;
}

export interface KafkaConsumerOptions {
  kafka: Kafka;
  logger: Logger;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
}

/**
 * A kafkajs group member that pipelines: each fetched batch is handed to a KeyedExecutor at once
 * (same key in order, different keys of the same partition concurrently), and offsets are committed
 * from an OffsetTracker, so a slow or poisoned key does not hold back other keys of its partition.
 */
export class KafkaGroupConsumer implements TransportConsumer {
  private readonly consumer: Consumer;
  private readonly executor: KeyedExecutor;
  private readonly states = new Map<number, PartitionState>();
  private commitTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly spec: ConsumeSpec,
    private readonly handler: DeliveryHandler,
    private readonly options: KafkaConsumerOptions,
  ) {
    this.executor = new KeyedExecutor(spec.concurrency);
    this.consumer = options.kafka.consumer({
      groupId: spec.group,
      sessionTimeout: options.sessionTimeoutMs,
      rebalanceTimeout: options.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      maxWaitTimeInMs: 100,
      retry: { retries: 10 },
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      // Partitions not assigned to us any more: forget them so their late results are not committed.
      const assigned = new Set(payload.memberAssignment[spec.topic] ?? []);
      for (const partition of this.states.keys()) if (!assigned.has(partition)) this.states.delete(partition);
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.spec.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: (payload) => this.onBatch(payload),
    });
    this.commitTimer = setInterval(() => void this.commitAll(), COMMIT_INTERVAL_MS);
  }

  stop(timeoutMs: number): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      this.consumer.pause([{ topic: this.spec.topic }]);
      await Promise.race([this.executor.idle(), new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
      clearInterval(this.commitTimer);
      await this.commitAll();
      await this.consumer
        .disconnect()
        .catch((error: Error) =>
          this.options.logger.warn('kafka consumer disconnect failed', { error: error.message }),
        );
    })();
    return this.stopped;
  }

  private stateOf(partition: number): PartitionState {
    let state = this.states.get(partition);
    if (!state) {
      state = { partition, tracker: new OffsetTracker(), lastCommitted: null, inFlight: 0, rewindTo: null };
      this.states.set(partition, state);
    }
    return state;
  }

  private async onBatch({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    const state = this.stateOf(batch.partition);
    if (state.rewindTo !== null) {
      // This batch was fetched past a failed message: the rewind will re-fetch it.
      return;
    }
    for (const message of batch.messages) {
      if (!isRunning() || isStale() || this.stopping || state.rewindTo !== null) return;
      while (state.inFlight >= MAX_IN_FLIGHT_PER_PARTITION) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        await heartbeat();
        if (!isRunning() || isStale() || this.stopping) return;
      }
      this.dispatch(state, {
        offset: BigInt(message.offset),
        key: message.key?.toString('utf8') ?? '',
        value: message.value ?? Buffer.alloc(0),
        headers: decodeHeaders(message.headers),
        timestamp: new Date(Number(message.timestamp)),
      });
      // "Resolved" here means handed over, so the fetcher moves on; commits come from the tracker.
      resolveOffset(message.offset);
    }
    await heartbeat();
  }

  private dispatch(
    state: PartitionState,
    message: { offset: bigint; key: string; value: Buffer; headers: Headers; timestamp: Date },
  ): void {
    state.tracker.track(message.offset);
    state.inFlight++;
    void this.executor
      .submit(message.key, async () => {
        const current = this.states.get(state.partition) === state;
        const superseded = state.rewindTo !== null && message.offset > state.rewindTo;
        if (!current || superseded || this.stopping) return;
        try {
          await this.handler({
            topic: this.spec.topic,
            key: message.key,
            value: message.value,
            headers: message.headers,
            messageId: `${state.partition}:${message.offset}`,
            partition: state.partition,
            offset: message.offset.toString(),
            publishedAt: message.timestamp,
          });
          state.tracker.done(message.offset);
        } catch {
          if (state.rewindTo === null || message.offset < state.rewindTo) state.rewindTo = message.offset;
        }
      })
      .finally(() => {
        state.inFlight--;
        if (state.inFlight === 0 && state.rewindTo !== null) void this.rewind(state);
      });
  }

  /** Once nothing of the partition is in flight: commit what is safe and fetch again from the failed offset. */
  private async rewind(state: PartitionState): Promise<void> {
    if (this.stopping || this.states.get(state.partition) !== state || state.rewindTo === null) return;
    await this.commit(state);
    const offset = state.rewindTo;
    this.states.delete(state.partition);
    this.consumer.seek({ topic: this.spec.topic, partition: state.partition, offset: offset.toString() });
  }

  private async commitAll(): Promise<void> {
    for (const state of [...this.states.values()]) await this.commit(state);
  }

  private async commit(state: PartitionState): Promise<void> {
    const next = state.tracker.committable();
    if (next === null || (state.lastCommitted !== null && next <= state.lastCommitted)) return;
    try {
      await this.consumer.commitOffsets([
        { topic: this.spec.topic, partition: state.partition, offset: next.toString() },
      ]);
      state.lastCommitted = next;
    } catch (error) {
      // Typically a rebalance took the partition away; the new owner re-reads from the last commit.
      this.options.logger.warn('kafka offset commit failed', {
        topic: this.spec.topic,
        partition: state.partition,
        error: (error as Error).message,
      });
    }
  }
}

function decodeHeaders(
  raw: Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined,
): Headers {
  const headers: Headers = {};
  for (const [name, value] of Object.entries(raw ?? {})) {
    if (value === undefined) continue;
    const single = Array.isArray(value) ? value[value.length - 1] : value;
    if (single !== undefined) headers[name] = single.toString();
  }
  return headers;
}
