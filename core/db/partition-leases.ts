import type { Knex } from 'knex';

/** `now() + ttlMs`, computed by the database: every member compares lease times on ONE clock. */
const EXPIRY = `now() + (?::double precision * interval '1 millisecond')`;

/**
 * Splits the partitions of one scope (a topic, the outbox) among the live members of a group, through
 * leases in the database. Members heartbeat; each aims for its fair share; a member that stops
 * renewing loses its partitions when the lease expires. Used by the embedded broker's consumer groups
 * and by outbox relays.
 *
 * Works on PostgreSQL and PGlite: every method is a few single statements (no transaction held), and
 * claims are conditional upserts (`ON CONFLICT ... DO UPDATE ... WHERE expired`), so two members racing
 * for a partition cannot both win. Times come from the database clock (`now()`), never from the
 * members' clocks, so clock skew between hosts cannot make two members own one partition.
 */
export class PartitionLeases {
  constructor(
    private readonly knex: Knex,
    private readonly group: string,
    private readonly scope: string,
    private readonly partitions: number,
  ) {}

  /** Registers or refreshes `member` and returns how many live members the group has (itself included). */
  async heartbeat(member: string, ttlMs: number): Promise<number> {
    const { group, scope } = this;
    // Data-modifying CTEs always run; the final SELECT sees the snapshot from before them, hence "1 +".
    const result = await this.knex.raw(
      `with me as (
         insert into lease_members (group_name, scope, member_id, expires_at) values (?, ?, ?, ${EXPIRY})
         on conflict (group_name, scope, member_id) do update set expires_at = excluded.expires_at
         returning 1
       ), gone as (
         delete from lease_members
         where group_name = ? and scope = ? and member_id <> ? and expires_at < now()
         returning 1
       )
       select 1 + count(*)::int as members from lease_members
       where group_name = ? and scope = ? and member_id <> ? and expires_at >= now()`,
      [group, scope, member, ttlMs, group, scope, member, group, scope, member],
    );
    return Number((result.rows as Array<{ members: number | string }>)[0]?.members ?? 1);
  }

  /** The fair share for one of `members` live members. */
  fairShare(members: number): number {
    return Math.ceil(this.partitions / Math.max(1, members));
  }

  /**
   * Renews `member`'s leases and claims free or expired partitions until it owns `target`. Returns
   * every partition owned afterwards, possibly more than `target`: the caller drains extras before
   * releasing them, so a partition never has two members working on it at once.
   */
  async balance(member: string, target: number, ttlMs: number): Promise<number[]> {
    const { group, scope } = this;
    const renewed = await this.knex.raw(
      `update partition_leases set expires_at = ${EXPIRY}
       where group_name = ? and scope = ? and owner = ?
       returning partition`,
      [ttlMs, group, scope, member],
    );
    const owned = (renewed.rows as Array<{ partition: number }>).map((r) => Number(r.partition));
    const missing = target - owned.length;
    if (missing > 0) {
      // One statement claims up to `missing` free or expired partitions. Under concurrency a row another
      // member just claimed fails the conflict WHERE (re-checked on the latest row version) and is
      // simply not returned.
      const claimed = await this.knex.raw(
        `insert into partition_leases (group_name, scope, partition, owner, expires_at)
         select ?, ?, p, ?, ${EXPIRY}
         from generate_series(0, ?::int - 1) as p
         where not exists (
           select 1 from partition_leases l
           where l.group_name = ? and l.scope = ? and l.partition = p and l.expires_at >= now())
         order by p
         limit ?
         on conflict (group_name, scope, partition) do update
           set owner = excluded.owner, expires_at = excluded.expires_at
           where partition_leases.expires_at < now()
         returning partition`,
        [group, scope, member, ttlMs, this.partitions, group, scope, missing],
      );
      for (const row of claimed.rows as Array<{ partition: number }>) owned.push(Number(row.partition));
    }
    return owned.sort((a, b) => a - b);
  }

  /** True while `member` holds an unexpired lease on `partition`. */
  async owns(member: string, partition: number): Promise<boolean> {
    const row = await this.knex('partition_leases')
      .where({ group_name: this.group, scope: this.scope, partition, owner: member })
      .andWhere('expires_at', '>', this.knex.raw('now()'))
      .first('partition');
    return row !== undefined;
  }

  /** Gives back some partitions, or all of them and the membership when `partitions` is omitted. */
  async release(member: string, partitions?: number[]): Promise<void> {
    const query = this.knex('partition_leases').where({
      group_name: this.group,
      scope: this.scope,
      owner: member,
    });
    if (partitions) query.whereIn('partition', partitions);
    await query.delete();
    if (!partitions) {
      await this.knex('lease_members')
        .where({ group_name: this.group, scope: this.scope, member_id: member })
        .delete();
    }
  }
}
