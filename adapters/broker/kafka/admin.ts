import type { Admin, Kafka } from 'kafkajs';
import { BrokerUnavailableError } from '../../../core/errors.js';
import { errorMessage, noop, withDeadline } from './deadline.js';
import type { ResolvedKafkaOptions } from './options.js';

interface AdminConnection {
  admin: Admin;
  connected: Promise<void>;
}

/**
 * Topic creation and group lag through one lazily connected kafkajs admin client. Every call is bounded
 * by `adminTimeoutMs`; after a failure the client is replaced, so the next call reconnects.
 */
export class KafkaAdminClient {
  private connection: AdminConnection | undefined;
  private readonly knownTopics = new Set<string>();
  private readonly creating = new Map<string, Promise<void>>();

  constructor(
    private readonly kafka: Kafka,
    private readonly options: ResolvedKafkaOptions,
  ) {}

  async connect(): Promise<void> {
    await this.run('connect', async () => undefined);
  }

  /**
   * Creates missing topics with the configured partitions (a topic created meanwhile by someone else
   * is fine) and waits until every partition has a leader, so a publish right after cannot fail on
   * missing metadata.
   */
  async ensureTopics(topics: readonly string[]): Promise<void> {
    const wanted = [...new Set(topics)].filter((topic) => !this.knownTopics.has(topic));
    const pending: Array<Promise<void>> = [];
    const fresh: string[] = [];
    for (const topic of wanted) {
      const inFlight = this.creating.get(topic);
      if (inFlight) pending.push(inFlight);
      else fresh.push(topic);
    }
    if (fresh.length > 0) {
      const creation = this.run(`ensure topics ${fresh.join(', ')}`, (admin) => this.create(admin, fresh));
      for (const topic of fresh) this.creating.set(topic, creation);
      void creation
        .then(() => fresh.forEach((topic) => this.knownTopics.add(topic)), noop)
        .finally(() => fresh.forEach((topic) => this.creating.delete(topic)));
      pending.push(creation);
    }
    await Promise.all(pending);
  }

  /** Messages in `topic` not yet committed by `group` (a group without commits counts from the earliest). */
  async backlog(topic: string, group: string): Promise<number> {
    return this.run(`backlog of ${group} on ${topic}`, async (admin) => {
      const [ends, committed] = await Promise.all([
        admin.fetchTopicOffsets(topic),
        admin.fetchOffsets({ groupId: group, topics: [topic] }),
      ]);
      const position = new Map(
        (committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)] as const),
      );
      let total = 0n;
      for (const end of ends) {
        const high = BigInt(end.high);
        const committedAt = position.get(end.partition) ?? -1n;
        const from = committedAt >= 0n ? committedAt : BigInt(end.low);
        if (high > from) total += high - from;
      }
      return Number(total);
    });
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await this.disconnect(connection);
  }

  private async create(admin: Admin, topics: string[]): Promise<void> {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length > 0) {
      try {
        // Resolves false when every topic already exists (another process won the race).
        await admin.createTopics({
          topics: missing.map((topic) => ({
            topic,
            numPartitions: this.options.partitions,
            replicationFactor: this.options.replicationFactor,
          })),
          // Not kafkajs' wait: it gives up on the first "unknown topic" metadata answer, which a
          // broker busy propagating new topics gives for a moment (processes starting together
          // failed to start). waitForLeaders below retries until the admin timeout.
          waitForLeaders: false,
          timeout: this.options.adminTimeoutMs,
        });
      } catch (error) {
        // kafkajs already resolves when the only errors are "already exists"; anything else is real.
        const errors = (error as { errors?: Array<{ type?: string }> }).errors;
        const onlyExisting = errors?.length && errors.every((e) => e.type === 'TOPIC_ALREADY_EXISTS');
        if (!onlyExisting) throw error;
      }
    }
    await this.waitForLeaders(admin, topics);
  }

  private async waitForLeaders(admin: Admin, topics: string[]): Promise<void> {
    const deadline = Date.now() + this.options.adminTimeoutMs;
    for (let delay = 50; Date.now() < deadline; delay = Math.min(delay * 2, 500)) {
      const ready = await admin.fetchTopicMetadata({ topics }).then(
        ({ topics: metadata }) =>
          metadata.length === topics.length &&
          metadata.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)),
        () => false,
      );
      if (ready) return;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
    throw new Error(`partitions of ${topics.join(', ')} have no leader yet`);
  }

  private async run<T>(what: string, action: (admin: Admin) => Promise<T>): Promise<T> {
    const connection = (this.connection ??= this.open());
    try {
      return await withDeadline(
        connection.connected.then(() => action(connection.admin)),
        this.options.adminTimeoutMs,
        () => new Error(`timed out after ${this.options.adminTimeoutMs} ms`),
      );
    } catch (error) {
      if (this.connection === connection) this.connection = undefined;
      void this.disconnect(connection);
      throw new BrokerUnavailableError(`kafka ${what} failed: ${errorMessage(error)}`, { cause: error });
    }
  }

  private open(): AdminConnection {
    const admin = this.kafka.admin({
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
    const connected = admin.connect();
    connected.catch(noop);
    return { admin, connected };
  }

  private async disconnect(connection: AdminConnection): Promise<void> {
    await connection.admin.disconnect().catch(noop);
    // A connect still in flight would reconnect after this disconnect: close it again once it settles.
    void connection.connected.then(() => connection.admin.disconnect(), noop).catch(noop);
  }
}
