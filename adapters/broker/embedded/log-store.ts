import type { Knex } from 'knex';
import type { Headers, OutgoingMessage } from '../../../core/broker/index.js';
import { prepared } from '../../../core/db/prepared.js';
import { partitionFor } from '../../../core/partitioning.js';

/** Wake-up channel: every publish NOTIFYs it with the topic name when its transaction commits. */
export const NOTIFY_CHANNEL = 'payments_broker_publish';

/**
 * Lease-change channel: a member that joins a group or gives partitions back NOTIFYs it with
 * `JSON.stringify([group, topic])`, so the other members rebalance at once instead of at their next
 * heartbeat.
 */
export const GROUP_CHANNEL = 'payments_broker_group';

const DIVISION_BY_ZERO = '22012';

interface MessageRow {
  partition: number;
  offset: string | number;
  key: string;
  value: Uint8Array;
  headers: Headers | string;
  published_at: string | Date;
}

export interface StoredMessage {
  partition: number;
  offset: bigint;
  key: string;
  value: Buffer;
  headers: Headers;
  publishedAt: Date;
}

/** SQL of the embedded log: topics, appends in commit order, reads and group offsets. */
export class LogStore {
  constructor(private readonly knex: Knex) {}

  /** A hot statement of constant text, sent as the named statement `name` (core/db/prepared.ts). */
  private run(name: string, sql: string, bindings: readonly Knex.Value[]): Knex.Raw {
    return prepared(this.knex, this.knex.raw(sql, bindings), name);
  }

  /**
   * Creates `topic` with `partitions` partitions unless it exists (its partition count never changes:
   * it decides where every key lives). Safe when several processes race to create it.
   */
  async ensureTopic(topic: string, partitions: number): Promise<void> {
    await this.knex.transaction(async (trx) => {
      const created = await trx('broker_topics')
        .insert({ name: topic, partitions })
        .onConflict('name')
        .ignore()
        .returning('name');
      if (created.length === 0) return;
      await trx('broker_partitions').insert(
        Array.from({ length: partitions }, (_, partition) => ({ topic, partition, next_offset: 0 })),
      );
    });
  }

  async partitionsOf(topic: string): Promise<number | undefined> {
    const row = await this.knex('broker_topics').where({ name: topic }).first('partitions');
    return row ? Number(row.partitions) : undefined;
  }

  /**
   * Appends a batch in ONE statement (atomic on its own); offsets follow commit order per partition.
   *
   * The `locked` CTE row-locks the batch's partition counters in partition order (so concurrent
   * publishers, e.g. two processes, cannot deadlock: every counter a statement updates was locked
   * before, in that order), `reserved` advances each counter by its share and returns where it
   * started, `appended` writes the messages at those offsets, and the NOTIFY wakes consumers at commit.
   * The counters stay locked until the statement commits, so offsets of a partition are committed in
   * order and a reader past the committed counter never skips an offset that commits later.
   */
  async append(topic: string, partitions: number, messages: readonly OutgoingMessage[]): Promise<void> {
    const counts = new Map<number, number>();
    const columns = {
      partition: [] as number[],
      index: [] as number[],
      key: [] as string[],
      value: [] as Buffer[],
      headers: [] as string[],
    };
    for (const message of messages) {
      const partition = partitionFor(message.key, partitions);
      const index = counts.get(partition) ?? 0;
      counts.set(partition, index + 1);
      columns.partition.push(partition);
      columns.index.push(index);
      columns.key.push(message.key);
      columns.value.push(message.value);
      columns.headers.push(JSON.stringify(message.headers ?? {}));
    }
    const partitionList = [...counts.keys()].sort((a, b) => a - b);
    await this.run(
      'broker_append',
      `with locked as (
         select partition from broker_partitions
         where topic = ? and partition = any(?::int[])
         order by partition
         for update
       ), reserved as (
         update broker_partitions p set next_offset = p.next_offset + v.n
         from unnest(?::int[], ?::int[]) as v(partition, n), locked l
         where p.topic = ? and p.partition = v.partition and l.partition = v.partition
         returning p.partition, p.next_offset - v.n as first
       ), appended as (
         insert into broker_messages (topic, partition, "offset", key, value, headers)
         select ?, m.partition, r.first + m.index, m.key, m.value, m.headers
         from unnest(?::int[], ?::int[], ?::text[], ?::bytea[], ?::jsonb[])
           as m(partition, index, key, value, headers)
         join reserved r on r.partition = m.partition
         returning 1
       )
       -- A missing partition counter must fail the whole statement (nothing may commit without it):
       -- dividing by zero is how a plain SQL statement raises.
       select 1 / (case when (select count(*) from reserved) = ? then 1 else 0 end) as complete,
              (select count(*) from appended) as appended,
              pg_notify(?, ?)`,
      [
        topic,
        partitionList,
        partitionList,
        partitionList.map((p) => counts.get(p)!),
        topic,
        topic,
        columns.partition,
        columns.index,
        columns.key,
        columns.value,
        columns.headers,
        partitionList.length,
        NOTIFY_CHANNEL,
        topic,
      ],
    ).catch((error: unknown) => {
      if ((error as { code?: string }).code === DIVISION_BY_ZERO)
        throw new Error(
          `embedded broker: topic ${topic} lacks some of partitions ${partitionList.join(', ')}`,
        );
      throw error;
    });
  }

  /** Up to `limit` messages of one partition from `fromOffset` on, in offset order. */
  async read(topic: string, partition: number, fromOffset: bigint, limit: number): Promise<StoredMessage[]> {
    return this.readMany(topic, [{ partition, from: fromOffset }], limit);
  }

  /**
   * Up to `limitPerPartition` messages of each listed partition from its `from` offset on, in one
   * statement (a poll costs one round trip, however many partitions a member owns), ordered by
   * partition then offset.
   */
  async readMany(
    topic: string,
    positions: ReadonlyArray<{ partition: number; from: bigint }>,
    limitPerPartition: number,
  ): Promise<StoredMessage[]> {
    if (positions.length === 0) return [];
    const result = await this.run(
      'broker_read',
      `select m.partition, m."offset", m.key, m.value, m.headers, m.published_at
       from unnest(?::int[], ?::bigint[]) as f(partition, position)
       cross join lateral (
         select b.partition, b."offset", b.key, b.value, b.headers, b.published_at
         from broker_messages b
         where b.topic = ? and b.partition = f.partition and b."offset" >= f.position
         order by b."offset"
         limit ?
       ) m
       order by m.partition, m."offset"`,
      [positions.map((p) => p.partition), positions.map((p) => p.from.toString()), topic, limitPerPartition],
    );
    return (result.rows as MessageRow[]).map((r) => ({
      partition: Number(r.partition),
      offset: BigInt(r.offset),
      key: r.key,
      value: Buffer.from(r.value),
      headers: typeof r.headers === 'string' ? (JSON.parse(r.headers) as Headers) : r.headers,
      publishedAt: new Date(r.published_at),
    }));
  }

  /** Committed positions (next offset to consume) of `partitions`; 0 where the group has none yet. */
  async committedMany(
    group: string,
    topic: string,
    partitions: readonly number[],
  ): Promise<Map<number, bigint>> {
    const positions = new Map<number, bigint>(partitions.map((p) => [p, 0n]));
    if (partitions.length === 0) return positions;
    const rows: Array<{ partition: number; committed: string | number }> = await this.knex(
      'broker_group_offsets',
    )
      .where({ group_name: group, topic })
      .whereIn('partition', partitions)
      .select('partition', 'committed');
    for (const row of rows) positions.set(Number(row.partition), BigInt(row.committed));
    return positions;
  }

  /** Tells the group's other members that leases changed (a member joined, or gave partitions back). */
  async notifyGroup(group: string, topic: string): Promise<void> {
    await this.knex.raw('select pg_notify(?, ?)', [GROUP_CHANNEL, JSON.stringify([group, topic])]);
  }

  async committed(group: string, topic: string, partition: number): Promise<bigint> {
    const row = await this.knex('broker_group_offsets')
      .where({ group_name: group, topic, partition })
      .first('committed');
    return row ? BigInt(row.committed) : 0n;
  }

  /**
   * Commits several partitions' offsets in one statement, each only where `member` holds the
   * partition's lease (committed offsets never move back); returns the partitions that were committed.
   */
  async commitMany(
    group: string,
    topic: string,
    offsets: ReadonlyArray<{ partition: number; offset: bigint }>,
    member: string,
  ): Promise<Set<number>> {
    if (offsets.length === 0) return new Set();
    const result = await this.run(
      'broker_commit_many',
      `insert into broker_group_offsets (group_name, topic, partition, committed)
       select ?, ?, v.partition, v.committed
       from unnest(?::int[], ?::bigint[]) as v(partition, committed)
       where exists (
         select 1 from partition_leases l
         where l.group_name = ? and l.scope = ? and l.partition = v.partition and l.owner = ?)
       on conflict (group_name, topic, partition)
       do update set committed = greatest(broker_group_offsets.committed, excluded.committed)
       returning partition`,
      [
        group,
        topic,
        offsets.map((o) => o.partition),
        offsets.map((o) => o.offset.toString()),
        group,
        topic,
        member,
      ],
    );
    return new Set((result.rows as Array<{ partition: number }>).map((r) => Number(r.partition)));
  }

  /** Messages of `topic` the group has not committed, over every partition. */
  async backlog(group: string, topic: string): Promise<number> {
    const result = await this.knex.raw(
      `select coalesce(sum(p.next_offset - coalesce(o.committed, 0)), 0) as backlog
       from broker_partitions p
       left join broker_group_offsets o on o.group_name = ? and o.topic = p.topic and o.partition = p.partition
       where p.topic = ?`,
      [group, topic],
    );
    return Number((result.rows as Array<{ backlog: string }>)[0]?.backlog ?? 0);
  }
}
