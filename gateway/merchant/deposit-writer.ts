/**
 * Group commit of new deposits (docs/decisions/0028-deposit-group-commit.md): deposits accepted at the
 * same time are written by ONE statement (core/db/insert-all.ts over all their rows), through the
 * natural batcher (core/batching/batcher.ts): a deposit arriving while every lane is busy waits for the
 * next statement, together with the others that arrived meanwhile. An idle gateway writes each deposit
 * at once, alone, exactly as before; a saturated one pays one round trip, one parse of the values and
 * one commit for many deposits.
 *
 * A statement is atomic: every deposit of the batch is written, or none. When it fails in a way one
 * deposit can cause (an integrity or data error, e.g. a replayed merchantTransactionId hitting the
 * unique constraint), each deposit is written again alone, so that error reaches only its own request
 * (deposits.ts answers a replay from it). Any other failure (database unreachable, statement timeout)
 * fails every request of the batch: none of them was written, each answers 503 and the merchant retries.
 */
import type { Knex } from 'knex';
import { Batcher } from '../../core/batching/batcher.js';
import { withDatabaseDeadline } from '../../core/db/availability.js';
import { insertAll, type TableRows } from '../../core/db/insert-all.js';
import { OUTBOX_CHANNEL } from '../../core/outbox/index.js';

/** Writes one deposit's rows (transactions, payment_sessions, outbox, timeline) durably. */
export type DepositWrite = (tables: readonly TableRows[]) => Promise<void>;

export interface DepositWriterOptions {
  /** Most deposits in one statement (1: every deposit alone). */
  maxBatch: number;
  /** Most statements in flight at once. */
  maxInFlight: number;
  /**
   * A statement without an answer by then fails its batch (503, the merchant retries) and frees its
   * lane, so a connection that hangs cannot hold every later deposit. It may still commit later, which
   * the retry's idempotent replay absorbs.
   */
  timeoutMs: number;
  /** Told the size of every statement sent (metrics). */
  onBatch?: (size: number) => void;
}

/**
 * One lane: measured best on 2 cores (2,300 vs 1,700-2,100 deposits/s with two lanes, whose batches are
 * smaller); parallelism comes from gateway replicas, each with its lane.
 */
export const DEFAULT_DEPOSIT_WRITER: Omit<DepositWriterOptions, 'timeoutMs'> = {
  maxBatch: 32,
  maxInFlight: 1,
};

export function depositWriter(knex: Knex, options: DepositWriterOptions): DepositWrite {
  const batcher = new Batcher<readonly TableRows[], void>({
    maxBatch: options.maxBatch,
    maxInFlight: options.maxInFlight,
    isolate: isOneRowsFault,
    run: async (deposits) => {
      options.onBatch?.(deposits.length);
      await withDatabaseDeadline(
        () => insertAll(knex, mergeTables(deposits), { notify: OUTBOX_CHANNEL }),
        options.timeoutMs,
      );
      return deposits.map(() => undefined);
    },
  });
  return (tables) => batcher.submit(tables);
}

/** The rows of several deposits, one entry per table, tables in first-seen order. */
export function mergeTables(deposits: readonly (readonly TableRows[])[]): TableRows[] {
  if (deposits.length === 1) return [...deposits[0]!];
  const byTable = new Map<string, Record<string, unknown>[]>();
  for (const tables of deposits)
    for (const { table, rows } of tables) {
      let merged = byTable.get(table);
      if (!merged) byTable.set(table, (merged = []));
      merged.push(...rows);
    }
  return [...byTable].map(([table, rows]) => ({ table, rows }));
}

/** SQLSTATE class 22 (data exception) or 23 (integrity constraint violation): one row can cause it. */
function isOneRowsFault(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}
