/**
 * Reads the embedded broker's durable log (the platform under test runs on it): how many messages a
 * topic holds, and whether every consumer group reading a topic has committed past all of them. Group
 * names are not hard-coded: whichever groups the platform runs on the topic must all catch up.
 */
import type { Knex } from 'knex';

export async function messagesOn(knex: Knex, topic: string): Promise<number> {
  const [row] = await knex('broker_messages').where({ topic }).count<{ n: string }[]>({ n: '*' });
  return Number(row!.n);
}

/** Committed positions per group on `topic` (a position is the next offset: the count consumed). */
export async function consumedByGroup(knex: Knex, topic: string): Promise<Map<string, number>> {
  const rows = await knex('broker_group_offsets')
    .where({ topic })
    .groupBy('group_name')
    .select('group_name', knex.raw('sum(committed)::bigint as consumed'));
  return new Map(
    rows.map((row: { group_name: string; consumed: string }) => [row.group_name, Number(row.consumed)]),
  );
}

/** True when at least one group reads `topic` and every one of them has consumed every message on it. */
export async function everyGroupCaughtUp(knex: Knex, topic: string): Promise<boolean> {
  const total = await messagesOn(knex, topic);
  const groups = await consumedByGroup(knex, topic);
  return groups.size > 0 && [...groups.values()].every((consumed) => consumed >= total);
}
