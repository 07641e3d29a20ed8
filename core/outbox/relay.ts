import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Broker, Headers } from '../broker/index.js';
import { PartitionLeases } from '../db/partition-leases.js';
import { prepared } from '../db/prepared.js';
import type { Logger } from '../logger.js';
import { OUTBOX_BUCKETS, OUTBOX_CHANNEL } from './writer.js';

export interface OutboxRelayOptions {
  knex: Knex;
  /** LISTEN for the commit-time wake-up. */
  listen: (channel: string, onNotify: () => void) => Promise<() => Promise<void>>;
  broker: Broker;
  logger: Logger;
  batchSize?: number;
  /** A relay that stops renewing loses its buckets after this long. Keep it above the publish timeout. */
  leaseMs?: number;
  /** Fallback poll; relays normally wake when a writer's transaction commits. */
  pollIntervalMs?: number;
  /** Published rows are deleted after this long. */
  retentionMs?: number;
  /** Called after each batch is durably published (metrics). */
  onPublished?: (count: number) => void;
}

/** partition_leases names of the relays' buckets. */
const LEASE_GROUP = 'outbox-relay';
const LEASE_SCOPE = 'outbox';

interface OutboxRow {
  id: string;
  topic: string;
  key: string;
  payload: Buffer;
  headers: Headers | string;
}

/**
 * Publishes outbox rows to the broker in id order per bucket and marks them published. Several relays
 * share the buckets through leases, so each bucket (and so each transaction's events) is relayed by
 * one relay at a time, in order. A crash between publish and mark re-publishes the batch: consumers
 * absorb duplicates with the inbox.
 */
export class OutboxRelay {
  private readonly member = randomUUID();
  private readonly leases: PartitionLeases;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private owned: number[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private unlisten: (() => Promise<void>) | undefined;
  private pumping: Promise<void> | undefined;
  private pumpAgain = false;
  /** The mark of the last published batch, running while the next batch is read (see relayBatch). */
  private marking: Promise<void> | undefined;
  private markingIds: string[] = [];
  private stopping = false;
  private stopped: Promise<void> | undefined;

  constructor(private readonly options: OutboxRelayOptions) {
    this.leases = new PartitionLeases(options.knex, LEASE_GROUP, LEASE_SCOPE, OUTBOX_BUCKETS);
    this.batchSize = options.batchSize ?? 500;
    this.leaseMs = options.leaseMs ?? 15_000;
  }

  async start(): Promise<void> {
    this.unlisten = await this.options.listen(OUTBOX_CHANNEL, () => this.pump());
    await this.rebalance();
    this.timers.push(
      setInterval(
        () => void this.rebalance().catch((e) => this.warn('lease renewal failed', e)),
        this.leaseMs / 3,
      ),
    );
    this.timers.push(setInterval(() => this.pump(), this.options.pollIntervalMs ?? 1_000));
    this.timers.push(setInterval(() => void this.purge().catch((e) => this.warn('purge failed', e)), 60_000));
    this.pump();
  }

  /** Stops relaying: waits for the batch in progress, then gives the buckets to other relays. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      for (const timer of this.timers) clearInterval(timer);
      await this.unlisten?.().catch(() => undefined);
      await this.pumping;
      await this.leases.release(this.member).catch((e) => this.warn('lease release failed', e));
    })();
    return this.stopped;
  }

  /** Relays everything pending in owned buckets; concurrent calls coalesce into one more round. */
  pump(): void {
    if (this.stopping) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    // Resolve a deferred we hold before running the loop: an async body that finishes synchronously
    // would otherwise clear `pumping` before it is assigned, and every later pump would be skipped.
    let done!: () => void;
    this.pumping = new Promise<void>((resolve) => (done = resolve));
    void (async () => {
      try {
        do {
          this.pumpAgain = false;
          while (!this.stopping && (await this.relayBatch()) === this.batchSize);
          await this.finishMarking();
        } while (this.pumpAgain && !this.stopping);
      } catch (error) {
        // An unfinished mark leaves its rows pending: they are read and published again (duplicates,
        // which consumers' inboxes absorb), never lost.
        this.marking = undefined;
        this.markingIds = [];
        this.warn('relay failed; retrying', error);
        setTimeout(() => this.pump(), 1_000);
      } finally {
        this.pumping = undefined;
        done();
      }
    })();
  }

  /**
   * Publishes the next batch: the oldest pending rows of every bucket this relay holds a live lease on,
   * read in ONE statement (the lease check is part of the read, so a relay whose lease lapsed — e.g. a
   * long pause — publishes nothing behind its successor's back). Each bucket's rows are a prefix of its
   * pending rows in id order, so per-key order holds. Returns how many rows it relayed.
   *
   * Marking a batch published overlaps with reading the next one: the read leaves out the rows being
   * marked by id (not by a cursor: a row committed late with a smaller id is still read, as it would be
   * once marked). Publishing never overlaps: batch N+1 is published only after batch N was acknowledged,
   * and the read waits for the mark, so a failed mark stops the relay before anything newer goes out.
   */
  private async relayBatch(): Promise<number> {
    const { knex, broker } = this.options;
    const [{ rows }] = (await Promise.all([
      prepared(
        knex,
        knex.raw(
          `select o.id, o.topic, o.key, o.payload, o.headers
           from partition_leases l
           cross join lateral (
             select id, topic, key, payload, headers from outbox
              where bucket = l.partition and published_at is null and id <> all(?::bigint[])
              order by id limit ?
           ) o
          where l.group_name = ? and l.scope = ? and l.owner = ? and l.expires_at > now()
          order by o.id limit ?`,
          [this.markingIds, this.batchSize, LEASE_GROUP, LEASE_SCOPE, this.member, this.batchSize],
        ),
        'outbox_relay_read_next',
      ),
      this.finishMarking(),
    ])) as [{ rows: OutboxRow[] }, void];
    if (rows.length === 0) return 0;
    // Topics are independent streams: publish them side by side, each in id order.
    await Promise.all(
      [...rowsByTopic(rows)].map(([topic, run]) =>
        broker.publish(
          topic,
          run.map((row) => ({
            key: row.key,
            value: Buffer.isBuffer(row.payload) ? row.payload : Buffer.from(row.payload),
            headers: typeof row.headers === 'string' ? (JSON.parse(row.headers) as Headers) : row.headers,
          })),
        ),
      ),
    );
    const ids = rows.map((r) => r.id);
    this.markingIds = ids;
    this.marking = prepared(
      knex,
      knex.raw('update outbox set published_at = now() where id = any(?::bigint[])', [ids]),
      'outbox_relay_mark',
    ).then(() => this.options.onPublished?.(ids.length));
    // Awaited by the next read or by finishMarking; until then its failure must not go unhandled.
    this.marking.catch(() => undefined);
    return rows.length;
  }

  /** Waits for the mark in flight (rethrowing its failure), then forgets it. */
  private async finishMarking(): Promise<void> {
    const marking = this.marking;
    if (!marking) return;
    await marking;
    if (this.marking === marking) {
      this.marking = undefined;
      this.markingIds = [];
    }
  }

  private async rebalance(): Promise<void> {
    if (this.stopping) return;
    const members = await this.leases.heartbeat(this.member, this.leaseMs);
    const target = this.leases.fairShare(members);
    const owned = await this.leases.balance(this.member, target, this.leaseMs);
    if (owned.length > target && !this.pumping) {
      await this.leases.release(this.member, owned.slice(target));
      owned.length = target;
    }
    const gained = owned.some((b) => !this.owned.includes(b));
    this.owned = owned;
    if (gained) this.pump();
  }

  private async purge(): Promise<void> {
    const cutoff = new Date(Date.now() - (this.options.retentionMs ?? 24 * 3_600_000));
    await this.options
      .knex('outbox')
      .whereNotNull('published_at')
      .andWhere('published_at', '<', cutoff)
      .delete();
  }

  private warn(message: string, error: unknown): void {
    this.options.logger.warn(`outbox relay: ${message}`, { error: (error as Error)?.message });
  }
}

/** Rows grouped by topic, each group in id order. */
function rowsByTopic(rows: OutboxRow[]): Map<string, OutboxRow[]> {
  const byTopic = new Map<string, OutboxRow[]>();
  for (const row of rows) {
    const run = byTopic.get(row.topic);
    if (run) run.push(row);
    else byTopic.set(row.topic, [row]);
  }
  return byTopic;
}
