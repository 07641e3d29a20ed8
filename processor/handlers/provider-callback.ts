/**
 * Raw provider callbacks from the Provider Gateway's topic. Each notification is stored once
 * (provider_callbacks, keyed by gateway callback id + index, so a redelivered message is a no-op),
 * matched to its attempt by the provider reference, and decided by decideCallback under the
 * transaction's row lock. A callback whose attempt is not known yet (the provider answered faster
 * than our attempt was recorded) is parked and applied as soon as the attempt gets its reference;
 * a sweeper retries parked callbacks and gives up on very old ones.
 */
import type { Knex } from 'knex';
import type { DeliveredMessage } from '../../core/broker/types.js';
import { fact } from '../../core/transactions/journal.js';
import { decodeProviderCallback } from '../../gateway/provider/envelope.js';
import { decideCallback } from '../decisions/callback.js';
import type { ProcessorDeps } from '../ports.js';
import { attemptOutcomeUpdate, lockTransactionOfAttempt } from '../store/attempts.js';
import {
  callbackDoneUpdate,
  insertCallback,
  lockCallback,
  readParkedCallback,
  type StoredCallback,
} from '../store/callbacks.js';
import { record } from './record.js';

export async function onProviderCallback(deps: ProcessorDeps, message: DeliveredMessage): Promise<void> {
  const envelope = decodeProviderCallback(message.value);
  const connector = deps.connector(envelope.provider);
  const notifications = connector.parseCallback(envelope.body, envelope.headers);
  for (const [index, facts] of notifications.entries()) {
    const stored: StoredCallback = {
      id: `${envelope.callbackId}:${index}`,
      callbackId: envelope.callbackId,
      providerId: envelope.provider,
      // As stored (provider_callbacks keeps no amounts): the same whether applied now or after parking.
      facts: { ...facts, amountMinor: null, currency: null },
      receivedAt: new Date(envelope.receivedAt),
    };
    // Just stored: it is parked, no need to read it back. Stored before: read it (it may be applied).
    const fresh = await insertCallback(deps.knex, stored);
    await applyCallback(deps, stored.id, fresh ? stored : undefined);
  }
}

/**
 * Applies a parked callback if its attempt is known now. Returns false when it stays parked.
 * `parked`: the callback as just stored (parked), saving its read; its state is checked under the lock.
 */
export async function applyCallback(
  deps: ProcessorDeps,
  id: string,
  parked?: StoredCallback,
): Promise<boolean> {
  const { metrics } = deps;
  let result: string | null = null;
  let alert: string | null = null;
  let providerId = '';
  const applied = await deps.knex.transaction(async (trx: Knex.Transaction) => {
    const stored = parked ?? (await readParkedCallback(trx, id));
    if (!stored) return true;
    providerId = stored.providerId;
    const found = await lockTransactionOfAttempt(
      trx,
      stored.providerId,
      stored.facts.providerReference,
      stored.facts.attemptId,
    );
    if (!found) {
      result = 'parked';
      return false;
    }
    const { attempt, transaction: tx } = found;
    const context = await lockCallback(trx, stored, tx.id);
    if (context?.state !== 'parked') return true;
    const { attempts } = context;
    const decision = decideCallback({
      callbackId: stored.callbackId,
      providerId: stored.providerId,
      callback: stored.facts,
      transaction: tx,
      attempt: attempts.find((a) => a.id === attempt.id) ?? attempt,
      currentAttemptId: attempts.at(-1)?.id ?? attempt.id,
      approvedAttemptIds: attempts.filter((a) => a.outcome === 'approved').map((a) => a.id),
      duplicateNotification: context.duplicate,
    });
    const received = fact(
      'ProviderCallbackReceived',
      {
        callbackId: stored.callbackId,
        providerId: stored.providerId,
        providerReference: stored.facts.providerReference,
        receivedAt: stored.receivedAt,
      },
      null,
      { internal: { ...stored.facts, attemptId: attempt.id } },
    );
    const done = callbackDoneUpdate(trx, id, {
      ignoredReason: decision.kind === 'ignore' ? decision.reason : null,
      transactionId: tx.id,
      attemptId: attempt.id,
    });
    if (decision.kind === 'ignore') {
      result = `ignored_${decision.reason}`;
      alert = decision.alert;
      const outcome =
        decision.alert && stored.facts.outcome === 'approved'
          ? [attemptOutcomeUpdate(attempt.id, 'approved')]
          : [];
      await record(trx, tx, { facts: [received, ...decision.facts] }, undefined, metrics, {
        updates: [...outcome, done],
      });
    } else {
      result = 'processed';
      const outcome = decision.attemptOutcome
        ? [attemptOutcomeUpdate(attempt.id, decision.attemptOutcome)]
        : [];
      await record(
        trx,
        tx,
        { facts: [received, ...decision.facts], status: decision.status, session: decision.session },
        undefined,
        metrics,
        { updates: [...outcome, done] },
      );
    }
    return true;
  });
  if (result) metrics.callback(providerId, result);
  if (alert) {
    metrics.chargeAlert(alert);
    deps.logger.error('payment needs review: provider charged outside the transaction outcome', {
      alert,
      callback: id,
    });
  }
  return applied;
}

/** Applies callbacks that arrived before their attempt was known. */
export async function drainParkedCallbacks(
  deps: ProcessorDeps,
  providerId: string,
  reference: string,
): Promise<void> {
  const parked = await deps
    .knex('provider_callbacks')
    .where({ provider_id: providerId, provider_reference: reference, state: 'parked' })
    .orderBy('created_at')
    .pluck('id');
  for (const id of parked) await applyCallback(deps, id as string);
}

/** Retries every parked callback; ones older than `maxAgeMs` are given up (state ignored, reason expired). */
export async function sweepParkedCallbacks(deps: ProcessorDeps, maxAgeMs: number): Promise<void> {
  const parked = await deps
    .knex('provider_callbacks')
    .where({ state: 'parked' })
    .orderBy('created_at')
    .limit(500);
  const now = (deps.clock ?? (() => new Date()))().getTime();
  for (const row of parked) {
    if (await applyCallback(deps, row.id as string)) continue;
    if (now - new Date(row.created_at as string).getTime() > maxAgeMs) {
      await deps
        .knex('provider_callbacks')
        .where({ id: row.id, state: 'parked' })
        .update({ state: 'ignored', ignored_reason: 'expired', processed_at: deps.knex.fn.now() });
      deps.metrics.callback(row.provider_id as string, 'ignored_expired');
      deps.logger.warn('parked provider callback expired without a matching payment attempt', {
        callback: row.id,
        provider: row.provider_id,
        reference: row.provider_reference,
      });
    }
  }
}
