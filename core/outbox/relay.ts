import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Broker, Headers, OutgoingMessage } from '../broker/index.js';
import { PartitionLeases } from '../db/partition-leases.js';
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

const BUCKETS_IN_PARALLEL = 4;

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
  private stopping = false;
  private stopped: Promise<void> | undefined;

  constructor(private readonly options: OutboxRelayOptions) {
    this.leases = new PartitionLeases(options.knex, 'outbox-relay', 'outbox', OUTBOX_BUCKETS);
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
          // Buckets are independent (each keeps its own order), so a few drain at once: publishing
          // is latency-bound on a networked broker.
          const queue = [...this.owned];
          const drain = async () => {
            for (let bucket = queue.shift(); bucket !== undefined; bucket = queue.shift()) {
              while (!this.stopping && (await this.relayBatch(bucket)) === this.batchSize);
            }
          };
          await Promise.all(Array.from({ length: BUCKETS_IN_PARALLEL }, drain));
        } while (this.pumpAgain && !this.stopping);
      } catch (error) {
        this.warn('relay failed; retrying', error);
        setTimeout(() => this.pump(), 1_000);
      } finally {
        this.pumping = undefined;
        done();
      }
    })();
  }

  /** Publishes the next batch of one bucket; returns how many rows it relayed. */
  private async relayBatch(bucket: number): Promise<number> {
    const { knex, broker } = this.options;
    const rows: OutboxRow[] = await knex('outbox')
      .where({ bucket })
      .whereNull('published_at')
      .orderBy('id')
      .limit(this.batchSize)
      .select('id', 'topic', 'key', 'payload', 'headers');
    if (rows.length === 0) return 0;
    // A relay whose lease lapsed (e.g. a long pause) must not publish behind its successor's back.
    if (!(await this.leases.owns(this.member, bucket))) {
      this.owned = this.owned.filter((b) => b !== bucket);
      return 0;
    }
    for (const run of runsByTopic(rows)) {
      const messages: OutgoingMessage[] = run.map((row) => ({
        key: row.key,
        value: Buffer.from(row.payload),
        headers: typeof row.headers === 'string' ? (JSON.parse(row.headers) as Headers) : row.headers,
      }));
      await broker.publish(run[0]!.topic, messages);
    }
    await knex('outbox')
      .whereIn(
        'id',
        rows.map((r) => r.id),
      )
      .update({ published_at: knex.fn.now() });
    this.options.onPublished?.(rows.length);
    return rows.length;
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

/** Consecutive rows with the same topic, in id order. */
function runsByTopic(rows: OutboxRow[]): OutboxRow[][] {
  const runs: OutboxRow[][] = [];
  for (const row of rows) {
    const last = runs[runs.length - 1];
    if (last && last[0]!.topic === row.topic) last.push(row);
    else runs.push([row]);
  }
  return runs;
}
