import type { ISocketFactory } from 'kafkajs';
import type { Logger } from '../../../core/logger.js';

export interface KafkaTransportOptions {
  brokers: string[];
  clientId: string;
  /** Partitions for topics this transport creates. */
  partitions: number;
  logger: Logger;
  /** Per attempt: TCP connect plus the ApiVersions handshake. Default 3 000 ms. */
  connectionTimeoutMs?: number;
  /** Per request on an open connection. Default 10 000 ms. */
  requestTimeoutMs?: number;
  /**
   * A publish not acknowledged by then rejects with BrokerUnavailableError, and the producer is
   * replaced on the next publish. Covers queueing, connecting and kafkajs' own retries. Default 10 000 ms.
   */
  publishTimeoutMs?: number;
  /** Same bound for connect, ensureTopics and backlog. Default 15 000 ms. */
  adminTimeoutMs?: number;
  /**
   * kafkajs retries of a produce request after a retriable broker error (leader moved, not enough
   * replicas yet): 100 ms doubling to 2 s, all within `publishTimeoutMs`. An unreachable broker fails
   * at once instead (after the client's 2 connection retries). Default 5.
   */
  publishRetries?: number;
  /**
   * Concurrent publishes are coalesced into one produce request (see producer.ts): at most this many
   * messages per request. A single publish with more still goes, alone. Default 1 000.
   */
  publishBatchMaxMessages?: number;
  /**
   * ... and at most about this many bytes (keys, values, headers). Keep it well below the broker's
   * `message.max.bytes` (1 MiB by default): a partition's share of a request is one record batch, and
   * coalescing must never build a batch the broker refuses. Default 512 KiB.
   */
  publishBatchMaxBytes?: number;
  /** For topics this transport creates; -1 = the broker's default.replication.factor. Default -1. */
  replicationFactor?: number;
  /** Group session timeout; the broker's group.min.session.timeout.ms (6 000 by default) is the floor. Default 10 000 ms. */
  sessionTimeoutMs?: number;
  /** How long the coordinator waits for members to rejoin during a rebalance. Default 20 000 ms. */
  rebalanceTimeoutMs?: number;
  /** Default 500 ms; must stay well below the session timeout. */
  heartbeatIntervalMs?: number;
  /** Fetch long-poll; also bounds how fast pause/stop/rebalance are noticed. Default 200 ms. */
  maxWaitTimeMs?: number;
  /** Metadata refresh (new partitions, leader moves). Default 60 000 ms. */
  metadataMaxAgeMs?: number;
  /** How often completed offsets are committed. Default 100 ms. */
  commitIntervalMs?: number;
  /** Fetched-but-unfinished messages per partition before the partition is paused. Default 1 000. */
  maxOutstandingPerPartition?: number;
  /** Custom sockets (TLS proxies, fault injection in tests). Default: kafkajs' net/tls sockets. */
  socketFactory?: ISocketFactory;
}

export type ResolvedKafkaOptions = Required<Omit<KafkaTransportOptions, 'socketFactory'>> &
  Pick<KafkaTransportOptions, 'socketFactory'>;

export function resolveKafkaOptions(options: KafkaTransportOptions): ResolvedKafkaOptions {
  if (options.brokers.length === 0) throw new Error('kafka: at least one broker address is required');
  if (!Number.isInteger(options.partitions) || options.partitions < 1) {
    throw new Error(`kafka: partitions must be a positive integer, got ${options.partitions}`);
  }
  const resolved: ResolvedKafkaOptions = {
    brokers: options.brokers,
    clientId: options.clientId,
    partitions: options.partitions,
    logger: options.logger,
    connectionTimeoutMs: options.connectionTimeoutMs ?? 3_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    publishTimeoutMs: options.publishTimeoutMs ?? 10_000,
    adminTimeoutMs: options.adminTimeoutMs ?? 15_000,
    publishRetries: options.publishRetries ?? 5,
    publishBatchMaxMessages: options.publishBatchMaxMessages ?? 1_000,
    publishBatchMaxBytes: options.publishBatchMaxBytes ?? 512 * 1024,
    replicationFactor: options.replicationFactor ?? -1,
    sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
    rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? 20_000,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 500,
    maxWaitTimeMs: options.maxWaitTimeMs ?? 200,
    metadataMaxAgeMs: options.metadataMaxAgeMs ?? 60_000,
    commitIntervalMs: options.commitIntervalMs ?? 100,
    maxOutstandingPerPartition: options.maxOutstandingPerPartition ?? 1_000,
    socketFactory: options.socketFactory,
  };
  if (resolved.heartbeatIntervalMs * 3 > resolved.sessionTimeoutMs) {
    throw new Error('kafka: heartbeatIntervalMs must be at most a third of sessionTimeoutMs');
  }
  if (resolved.publishRetries < 1) {
    // kafkajs refuses an idempotent producer without retries.
    throw new Error('kafka: publishRetries must be at least 1');
  }
  return resolved;
}
