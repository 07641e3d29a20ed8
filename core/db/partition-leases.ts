import type { Knex } from 'knex';

/**
 * Splits the partitions of one scope (a topic, the outbox) among the live members of a group, through
 * leases in the database. Members heartbeat; each aims for its fair share; a member that stops
 * renewing loses its partitions when the lease expires. Used by the embedded broker's consumer groups
 * and by outbox relays. Works on PostgreSQL and PGlite (short statements, no long transactions).
 */
export class PartitionLeases {
  constructor(
    private readonly knex: Knex,
    private readonly group: string,
    private readonly scope: string,
    private readonly partitions: number,
  ) {}

  /** Registers or refreshes `member` and returns how many live members the group has. */
  async heartbeat(member: string, ttlMs: number): Promise<number> {
    const where = { group_name: this.group, scope: this.scope };
    const expires = new Date(Date.now() + ttlMs);
    await this.knex('lease_members')
      .insert({ ...where, member_id: member, expires_at: expires })
      .onConflict(['group_name', 'scope', 'member_id'])
      .merge({ expires_at: expires });
    await this.knex('lease_members').where(where).andWhere('expires_at', '<', new Date()).delete();
    const [row] = await this.knex('lease_members').where(where).count<{ count: string }[]>('* as count');
    return Number(row?.count ?? 1);
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
    const where = { group_name: this.group, scope: this.scope };
    const expires = new Date(Date.now() + ttlMs);
    await this.knex('partition_leases')
      .where({ ...where, owner: member })
      .update({ expires_at: expires });
    const owned = (
      await this.knex('partition_leases')
        .where({ ...where, owner: member })
        .orderBy('partition')
        .pluck('partition')
    ).map(Number);
    for (let partition = 0; partition < this.partitions && owned.length < target; partition++) {
      if (owned.includes(partition)) continue;
      const claimed = await this.knex.raw(
        `insert into partition_leases (group_name, scope, partition, owner, expires_at) values (?, ?, ?, ?, ?)
         on conflict (group_name, scope, partition) do update set owner = excluded.owner, expires_at = excluded.expires_at
         where partition_leases.expires_at < ?
         returning partition`,
        [this.group, this.scope, partition, member, expires, new Date()],
      );
      if ((claimed.rows as unknown[]).length > 0) owned.push(partition);
    }
    return owned.sort((a, b) => a - b);
  }

  /** True while `member` holds an unexpired lease on `partition`. */
  async owns(member: string, partition: number): Promise<boolean> {
    const row = await this.knex('partition_leases')
      .where({ group_name: this.group, scope: this.scope, partition, owner: member })
      .andWhere('expires_at', '>', new Date())
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
