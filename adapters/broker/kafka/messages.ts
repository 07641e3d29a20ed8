import type { KafkaMessage, Message } from 'kafkajs';
import type { DeliveredMessage, Headers, OutgoingMessage } from '../../../core/broker/index.js';

/** Our message as a kafkajs record: the ordering key is the Kafka key, headers are UTF-8 strings. */
export function toKafkaMessage(message: OutgoingMessage): Message {
  return { key: message.key, value: message.value, headers: { ...message.headers } };
}

export function toDeliveredMessage(
  topic: string,
  partition: number,
  message: KafkaMessage,
): DeliveredMessage {
  return {
    topic,
    key: message.key?.toString('utf8') ?? '',
    value: message.value ?? Buffer.alloc(0),
    headers: decodeHeaders(message.headers),
    messageId: `${partition}:${message.offset}`,
    partition,
    offset: message.offset,
    publishedAt: new Date(Number(message.timestamp)),
  };
}

/** Kafka allows repeated header names; the last one wins, as for most HTTP-style readers. */
export function decodeHeaders(raw: KafkaMessage['headers']): Headers {
  const headers: Headers = {};
  for (const [name, value] of Object.entries(raw ?? {})) {
    if (value === undefined) continue;
    const single = Array.isArray(value) ? value[value.length - 1] : value;
    if (single !== undefined) headers[name] = single.toString();
  }
  return headers;
}
