import type { Knex } from 'knex';
import type { Headers, OutgoingMessage } from '../../../core/broker/index.js';
import { partitionFor } from '../../../core/partitioning.js';

/** Wake-up channel: every publish NOTIFYs it with the topic name when its transaction commits. */
export const NOTIFY_CHANNEL = 'payments_broker_publish';

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

  async ensureTopic(topic: string, partitions: number): Promise<void> {
    await this.knex.transaction(async (trx) => {
      await trx('broker_topics').insert({ name: topic, partitions }).onConflict('name').ignore();
      await trx('broker_partitions')
        .insert(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, next_offset: 0 })))
        .onConflict(['topic', 'partition'])
        .ignore();
    });
  }

  async partitionsOf(topic: string): Promise<number | undefined> {
    const row = await this.knex('broker_topics').where({ name: topic }).first('partitions');
    return row ? Number(row.partitions) : undefined;
  }

  /** Appends a batch in one transaction; offsets follow commit order per partition. */
  async append(topic: string, partitions: number, messages: readonly OutgoingMessage[]): Promise<void> {
    const byPartition = new Map<number, OutgoingMessage[]>();
    for (const message of messages) {
      const partition = partitionFor(message.key, partitions);
      const list = byPartition.get(partition) ?? [];
      list.push(message);
      byPartition.set(partition, list);
    }
    const partitionList = [...byPartition.keys()].sort((a, b) => a - b);
    await this.knex.transaction(async (trx) => {
      // Lock the counters in partition order (concurrent publishers cannot deadlock), then reserve
      // every partition's offsets in one statement and insert the whole batch in one more.
      await trx.raw(
        'select partition from broker_partitions where topic = ? and partition = any(?::int[]) order by partition for update',
        [topic, partitionList],
      );
      const reserved = await trx.raw(
        `update broker_partitions p set next_offset = p.next_offset + v.n
         from unnest(?::int[], ?::int[]) as v(partition, n)
         where p.topic = ? and p.partition = v.partition
         returning p.partition, p.next_offset`,
        [partitionList, partitionList.map((p) => byPartition.get(p)!.length), topic],
      );
      const ends = new Map<number, bigint>(
        (reserved.rows as Array<{ partition: number; next_offset: string }>).map((r) => [
          Number(r.partition),
          BigInt(r.next_offset),
        ]),
      );
      const rows = [];
      for (const partition of partitionList) {
        const batch = byPartition.get(partition)!;
        const end = ends.get(partition);
        if (end === undefined)
          throw new Error(`embedded broker: topic ${topic} partition ${partition} does not exist`);
        const start = end - BigInt(batch.length);
        for (const [i, m] of batch.entries()) {
          rows.push({
            topic,
            partition,
            offset: (start + BigInt(i)).toString(),
            key: m.key,
            value: m.value,
            headers: JSON.stringify(m.headers ?? {}),
          });
        }
      }
      await trx('broker_messages').insert(rows);
      await trx.raw('select pg_notify(?, ?)', [NOTIFY_CHANNEL, topic]);
    });
  }

  async read(topic: string, partition: number, fromOffset: bigint, limit: number): Promise<StoredMessage[]> {
    const rows = await this.knex('broker_messages')
      .where({ topic, partition })
      .andWhere('offset', '>=', fromOffset.toString())
      .orderBy('offset')
      .limit(limit)
      .select('offset', 'key', 'value', 'headers', 'published_at');
    return rows.map((r) => ({
      partition,
      offset: BigInt(r.offset),
      key: r.key,
      value: Buffer.from(r.value),
      headers: typeof r.headers === 'string' ? JSON.parse(r.headers) : r.headers,
      publishedAt: new Date(r.published_at),
    }));
  }

  async committed(group: string, topic: string, partition: number): Promise<bigint> {
    const row = await this.knex('broker_group_offsets')
      .where({ group_name: group, topic, partition })
      .first('committed');
    return row ? BigInt(row.committed) : 0n;
  }

  /** Moves the group's position forward, only while `member` still holds the partition's lease. */
  async commit(
    group: string,
    topic: string,
    partition: number,
    offset: bigint,
    member: string,
  ): Promise<boolean> {
    const result = await this.knex.raw(
      `insert into broker_group_offsets (group_name, topic, partition, committed)
       select ?, ?, ?, ? where exists (
         select 1 from partition_leases where group_name = ? and scope = ? and partition = ? and owner = ?)
       on conflict (group_name, topic, partition)
       do update set committed = greatest(broker_group_offsets.committed, excluded.committed)
       returning committed`,
      [group, topic, partition, offset.toString(), group, topic, partition, member],
    );
    return (result.rows as unknown[]).length > 0;
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
