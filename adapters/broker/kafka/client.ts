import { Kafka, logLevel } from 'kafkajs';
import { kafkaLogCreator } from './log-adapter.js';
import type { ResolvedKafkaOptions } from './options.js';

/**
 * One kafkajs client for the transport. Producer, admin and every consumer each open their own
 * connections from it; retries are bounded everywhere (kafkajs' defaults retry for minutes, and forever
 * for an idempotent producer).
 */
export function createKafkaClient(options: ResolvedKafkaOptions): Kafka {
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: options.connectionTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    enforceRequestTimeout: true,
    // Cluster-level retries: connecting, metadata, admin requests. Bounded so an unreachable broker
    // surfaces as an error in seconds; consumers and the producer set their own on top.
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(options.logger),
    ...(options.socketFactory ? { socketFactory: options.socketFactory } : {}),
  });
}
