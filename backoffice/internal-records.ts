/**
 * The orchestrator's records of one transaction, for the internal detail view only: payment attempts
 * (which provider, which SUB MID, how it ended), the routing plan and the provider callbacks seen.
 * Read-only; the tables belong to the processor (migration 0005).
 */
import type { Knex } from 'knex';

export interface AttemptRecord {
  attemptId: string;
  attemptNumber: number;
  providerId: string;
  subMidId: string;
  candidateGroup: number;
  state: string;
  outcome: string | null;
  failureKind: string | null;
  providerErrorCode: string | null;
  outcomeUnknown: boolean;
  providerReference: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface RoutingPlanRecord {
  rulesVersion: string;
  ruleId: string;
  candidates: unknown[];
  createdAt: Date;
}

export interface CallbackRecord {
  callbackId: string;
  providerId: string;
  providerReference: string;
  notificationId: string;
  outcome: string;
  providerStatus: string;
  state: string;
  ignoredReason: string | null;
  attemptId: string | null;
  receivedAt: Date;
  processedAt: Date | null;
}

export interface InternalRecords {
  attempts: AttemptRecord[];
  routingPlan: RoutingPlanRecord | null;
  callbacks: CallbackRecord[];
}

const date = (value: unknown): Date => new Date(value as string | Date);
const optionalDate = (value: unknown): Date | null => (value == null ? null : date(value));

export async function loadInternalRecords(knex: Knex, transactionId: string): Promise<InternalRecords> {
  const [attempts, plan, callbacks] = await Promise.all([
    knex('payment_attempts').where({ transaction_id: transactionId }).orderBy('attempt_number').select(),
    knex('routing_plans').where({ transaction_id: transactionId }).first(),
    knex('provider_callbacks')
      .where({ transaction_id: transactionId })
      .orderBy(['received_at', 'id'])
      .select(),
  ]);
  return {
    attempts: attempts.map((row) => ({
      attemptId: row.id,
      attemptNumber: Number(row.attempt_number),
      providerId: row.provider_id,
      subMidId: row.sub_mid_id,
      candidateGroup: Number(row.candidate_group),
      state: row.state,
      outcome: row.outcome ?? null,
      failureKind: row.failure_kind ?? null,
      providerErrorCode: row.provider_error_code ?? null,
      outcomeUnknown: Boolean(row.outcome_unknown),
      providerReference: row.provider_reference ?? null,
      startedAt: date(row.started_at),
      finishedAt: optionalDate(row.finished_at),
    })),
    routingPlan: plan
      ? {
          rulesVersion: plan.rules_version,
          ruleId: plan.rule_id,
          candidates: Array.isArray(plan.candidates) ? plan.candidates : [],
          createdAt: date(plan.created_at),
        }
      : null,
    callbacks: callbacks.map((row) => ({
      callbackId: row.id,
      providerId: row.provider_id,
      providerReference: row.provider_reference,
      notificationId: row.notification_id,
      outcome: row.outcome,
      providerStatus: row.provider_status,
      state: row.state,
      ignoredReason: row.ignored_reason ?? null,
      attemptId: row.attempt_id ?? null,
      receivedAt: date(row.received_at),
      processedAt: optionalDate(row.processed_at),
    })),
  };
}
