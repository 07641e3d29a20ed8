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
import type { CallbackFacts } from '../connectors/types.js';
import { decideCallback } from '../decisions/callback.js';
import type { ProcessorDeps } from '../ports.js';
import { attemptsOf, findAttemptByReference, setAttemptOutcome } from '../store/attempts.js';
import { lockTransaction } from '../store/transactions.js';
import { record } from './record.js';

interface StoredCallback {
  id: string;
  callbackId: string;
  providerId: string;
  facts: CallbackFacts;
  receivedAt: Date;
}

export async function onProviderCallback(deps: ProcessorDeps, message: DeliveredMessage): Promise<void> {
  const envelope = decodeProviderCallback(message.value);
  const connector = deps.connector(envelope.provider);
  const notifications = connector.parseCallback(envelope.body, envelope.headers);
  for (const [index, facts] of notifications.entries()) {
    const stored: StoredCallback = {
      id: `${envelope.callbackId}:${index}`,
      callbackId: envelope.callbackId,
      providerId: envelope.provider,
      facts,
      receivedAt: new Date(envelope.receivedAt),
    };
    await deps
      .knex('provider_callbacks')
      .insert({
        id: stored.id,
        callback_id: stored.callbackId,
        provider_id: stored.providerId,
        provider_reference: facts.providerReference,
        notification_id: facts.notificationId,
        outcome: facts.outcome,
        provider_status: facts.providerStatus,
        attempt_id: facts.attemptId,
        state: 'parked',
        received_at: stored.receivedAt,
      })
      .onConflict('id')
      .ignore();
    await applyCallback(deps, stored.id);
  }
}

/** Applies a parked callback if its attempt is known now. Returns false when it stays parked. */
export async function applyCallback(deps: ProcessorDeps, id: string): Promise<boolean> {
  const { metrics } = deps;
  let result: string | null = null;
  let alert: string | null = null;
  let providerId = '';
  const applied = await deps.knex.transaction(async (trx: Knex.Transaction) => {
    const row = await trx('provider_callbacks').where({ id }).first();
    if (!row || row.state !== 'parked') return true;
    providerId = row.provider_id as string;
    const stored = toStored(row);
    const attempt = await findAttemptByReference(
      trx,
      stored.providerId,
      stored.facts.providerReference,
      stored.facts.attemptId,
    );
    if (!attempt) {
      result = 'parked';
      return false;
    }
    const tx = await lockTransaction(trx, attempt.transactionId);
    if (!tx) return false;
    const row2 = await trx('provider_callbacks').where({ id }).forUpdate().first('state');
    if (row2?.state !== 'parked') return true;
    const attempts = await attemptsOf(trx, tx.id);
    const duplicate = await trx('provider_callbacks')
      .where({ provider_id: stored.providerId, notification_id: stored.facts.notificationId })
      .whereIn('state', ['processed', 'ignored'])
      .first('id');
    const decision = decideCallback({
      callbackId: stored.callbackId,
      providerId: stored.providerId,
      callback: stored.facts,
      transaction: tx,
      attempt,
      currentAttemptId: attempts.at(-1)?.id ?? attempt.id,
      approvedAttemptIds: attempts.filter((a) => a.outcome === 'approved').map((a) => a.id),
      duplicateNotification: duplicate !== undefined,
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
    if (decision.kind === 'ignore') {
      result = `ignored_${decision.reason}`;
      alert = decision.alert;
      if (decision.alert && stored.facts.outcome === 'approved')
        await setAttemptOutcome(trx, attempt.id, 'approved');
      await record(trx, tx, { facts: [received, ...decision.facts] }, undefined, metrics);
    } else {
      result = 'processed';
      if (decision.attemptOutcome) await setAttemptOutcome(trx, attempt.id, decision.attemptOutcome);
      await record(
        trx,
        tx,
        { facts: [received, ...decision.facts], status: decision.status, session: decision.session },
        undefined,
        metrics,
      );
    }
    await trx('provider_callbacks')
      .where({ id })
      .update({
        state: decision.kind === 'ignore' ? 'ignored' : 'processed',
        ignored_reason: decision.kind === 'ignore' ? decision.reason : null,
        transaction_id: tx.id,
        attempt_id: attempt.id,
        processed_at: trx.fn.now(),
      });
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

function toStored(row: Record<string, unknown>): StoredCallback {
  return {
    id: row.id as string,
    callbackId: row.callback_id as string,
    providerId: row.provider_id as string,
    receivedAt: new Date(row.received_at as string),
    facts: {
      providerReference: row.provider_reference as string,
      attemptId: (row.attempt_id as string | null) ?? null,
      notificationId: row.notification_id as string,
      outcome: row.outcome as CallbackFacts['outcome'],
      providerStatus: row.provider_status as string,
      amountMinor: null,
      currency: null,
    },
  };
}
