/**
 * The audit trail of the back office: every privileged action (a webhook resend) and every response
 * that carries internal data (internal detail, internal timeline, failed events) is written here BEFORE
 * the answer is sent — no audit row, no data. Refusals of privileged actions are recorded too. The table
 * is append-only (a trigger refuses updates and deletes; see migration 0007).
 */
import { storableText } from '../core/storable-text.js';
import type { Knex } from 'knex';
import type { Principal } from './principal.js';

export type AuditAction =
  | 'transaction.read_internal'
  | 'timeline.read_internal'
  | 'webhooks.read_internal'
  | 'failed_events.read'
  | 'webhook.resend';

export type AuditOutcome = 'succeeded' | 'denied' | 'not_found' | 'rejected';

/** Who is acting, from where: the request's part of every audit row. */
export interface AuditActor {
  principal: Principal;
  requestId: string;
  clientIp: string | null;
}

export interface AuditEntry {
  action: AuditAction;
  target: { type: 'transaction' | 'webhook'; id: string };
  transactionId: string | null;
  merchantId: string | null;
  outcome: AuditOutcome;
  detail?: Record<string, unknown>;
}

export async function recordAudit(
  db: Knex | Knex.Transaction,
  actor: AuditActor,
  entry: AuditEntry,
): Promise<void> {
  await db('backoffice_audit_log').insert({
    actor_user_id: actor.principal.userId,
    actor_email: actor.principal.email,
    actor_kind: actor.principal.kind,
    action: entry.action,
    target_type: entry.target.type,
    // Targets and details may quote the request (ids from the URL): hostile text must still be stored.
    target_id: storableText(entry.target.id),
    transaction_id: entry.transactionId,
    merchant_id: entry.merchantId,
    outcome: entry.outcome,
    detail: JSON.stringify({ tokenId: actor.principal.tokenId, ...entry.detail }, (_key, value: unknown) =>
      typeof value === 'string' ? storableText(value) : value,
    ),
    request_id: actor.requestId,
    client_ip: actor.clientIp,
  });
}
