/**
 * The dead-letter side of a run, seen through the run's own broker namespace: poison messages a test
 * plants (so the DLQ path is exercised under the same crashes), and everything on the platform's
 * dead-letter topics, read back to compare with failed_events.
 */
import { randomUUID } from 'node:crypto';
import { createTransport } from '../../../adapters/broker/index.js';
import type { Database } from '../../../adapters/db/index.js';
import {
  DLQ_ARCHIVE_GROUP,
  deadLetterTopicFor,
  readDeadLetter,
  type Transport,
} from '../../../core/broker/index.js';
import type { Config } from '../../../core/config/index.js';
import { silentLogger } from '../../../core/logger.js';
import { BUSINESS_EVENTS_TOPIC, CONSUMER_GROUPS, EVENT_HEADERS } from '../../../core/streams.js';
import { PROVIDER_CALLBACKS_TOPIC } from '../../../gateway/provider/index.js';
import { WEBHOOK_ATTEMPTS_GROUP, WEBHOOK_ATTEMPTS_TOPIC } from '../../../webhook-dispatcher/index.js';
import { sleep } from './load.js';

/**
 * Every dead-letter topic the platform's consumers can have: each of its topics with each of its
 * groups (which group reads which topic is the services' business; a pair that is never used is
 * simply empty), plus any other topic failed_events names.
 */
function deadLetterTopics(recordedTopics: readonly string[]): string[] {
  const topics = [BUSINESS_EVENTS_TOPIC, PROVIDER_CALLBACKS_TOPIC, WEBHOOK_ATTEMPTS_TOPIC];
  const groups = [...Object.values(CONSUMER_GROUPS), WEBHOOK_ATTEMPTS_GROUP];
  const all = topics.flatMap((topic) => groups.map((group) => deadLetterTopicFor(topic, group)));
  return [...new Set([...all, ...recordedTopics])];
}

export interface DeadLetter {
  consumerGroup: string;
  originalTopic: string;
  originalMessageId: string;
}

async function withTransport<T>(
  config: Config,
  database: Database,
  run: (t: Transport) => Promise<T>,
): Promise<T> {
  const transport = createTransport(config.broker, { database, logger: silentLogger });
  await transport.connect();
  try {
    return await run(transport);
  } finally {
    await transport.close();
  }
}

/**
 * Two poison messages no retry can fix: a "MerchantWebhookRequested" that is not Avro (the webhook
 * dispatcher dead-letters it; the processor skips the type) and a provider callback whose envelope is
 * not JSON (the processor dead-letters it). Returns how many were planted.
 */
export async function plantPoisonMessages(config: Config, database: Database): Promise<number> {
  return withTransport(config, database, async (transport) => {
    await transport.publish(BUSINESS_EVENTS_TOPIC, [
      {
        key: `tx_poison_${randomUUID()}`,
        value: Buffer.from('definitely not avro'),
        headers: {
          [EVENT_HEADERS.eventType]: 'MerchantWebhookRequested',
          [EVENT_HEADERS.eventId]: randomUUID(),
        },
      },
    ]);
    await transport.publish(PROVIDER_CALLBACKS_TOPIC, [
      { key: `poison_${randomUUID()}`, value: Buffer.from('{not json'), headers: { provider: 'stripe-sim' } },
    ]);
    return 2;
  });
}

/**
 * Everything on the dead-letter topics. Kafka and the embedded log: a fresh group per topic reads from
 * the start until the broker reports no backlog. Pub/Sub: the archive subscription the platform
 * declares for each dead-letter topic (a new one would see nothing older), read until quiet.
 */
export async function readDeadLetters(config: Config, database: Database): Promise<DeadLetter[]> {
  const recorded: string[] = await database.knex('failed_events').distinct().pluck('dead_letter_topic');
  return withTransport(config, database, async (transport) => {
    const found: DeadLetter[] = [];
    let lastMessageAt = Date.now();
    const consumers = [];
    const groups: Array<{ topic: string; group: string }> = [];
    for (const topic of deadLetterTopics(recorded)) {
      const group =
        transport.kind === 'pubsub' ? DLQ_ARCHIVE_GROUP : `chaos-dlq-check-${randomUUID().slice(0, 8)}`;
      await transport.ensureTopics([topic]);
      groups.push({ topic, group });
      consumers.push(
        await transport.consume({ topic, group, concurrency: 16 }, async (message) => {
          const meta = readDeadLetter(message);
          found.push({
            consumerGroup: meta.consumerGroup,
            originalTopic: meta.originalTopic,
            originalMessageId: meta.originalMessageId,
          });
          lastMessageAt = Date.now();
        }),
      );
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      await sleep(500);
      if (Date.now() > deadline) break;
      if (transport.backlog) {
        const backlogs = await Promise.all(groups.map((g) => transport.backlog!(g.topic, g.group)));
        if (backlogs.every((b) => b === 0) && Date.now() - lastMessageAt > 1_000) break;
      } else if (Date.now() - lastMessageAt > 5_000) break;
    }
    await Promise.all(consumers.map((c) => c.stop(2_000)));
    return found;
  });
}
