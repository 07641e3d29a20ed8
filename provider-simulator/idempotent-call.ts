/**
 * Idempotency as PSPs implement it: the first answer for a key is stored and replayed byte for byte
 * (with `Idempotent-Replayed: true`) to every later request with that key, so a re-driven request never
 * creates a second payment. The same key with other parameters, or on another endpoint, is refused.
 * Answers that created nothing (5xx, velocity, inactive account, bad input) are not stored: "results
 * are only saved once the endpoint started executing", so a later retry is evaluated afresh.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from 'koa';
import { sendJson } from './http.js';
import type { RequestLogEntry, SimProviderId } from './model.js';
import type { SimulatorState, StoredResponse } from './state.js';

export interface CallSpec {
  provider: SimProviderId;
  operation: RequestLogEntry['operation'];
  /** Endpoint and target, e.g. `create` or `confirm:pi_123`: a key is bound to one. */
  endpoint: string;
  account: string;
  idempotencyKey: string | null;
  fingerprint: string;
  log: Pick<RequestLogEntry, 'reference' | 'transactionId' | 'amountMinor' | 'currency' | 'customerFields'>;
}

export interface CallAnswer {
  response: StoredResponse;
  /** Short word for the request log (`requires_action`, `declined`, `velocity`, …). */
  result: string;
  paymentId: string | null;
  scenarioId: string | null;
  /** Hold the answer this long (the "timeout" behaviour); replays are not held. */
  hangMs: number;
  /** Store for replays: true once a payment exists. */
  remember: boolean;
}

export interface CallEnvironment {
  state: SimulatorState;
  /** Aborted when the simulator closes: held answers are dropped. */
  closing: AbortSignal;
}

export async function answerIdempotently(
  ctx: Context,
  env: CallEnvironment,
  spec: CallSpec,
  run: () => CallAnswer,
  mismatch: StoredResponse,
): Promise<void> {
  const entry = (
    answer: Pick<CallAnswer, 'result' | 'paymentId' | 'scenarioId'>,
    status: number,
    replayed: boolean,
  ) =>
    env.state.logRequest({
      at: new Date().toISOString(),
      provider: spec.provider,
      operation: spec.operation,
      idempotencyKey: spec.idempotencyKey,
      replayed,
      account: spec.account,
      ...spec.log,
      httpStatus: status,
      result: answer.result,
      paymentId: answer.paymentId,
      scenarioId: answer.scenarioId,
    });

  const key = spec.idempotencyKey;
  const stored = key === null ? undefined : env.state.idempotencyRecord(spec.provider, spec.account, key);
  if (stored) {
    if (stored.operation !== spec.endpoint || stored.fingerprint !== spec.fingerprint) {
      entry(
        { result: 'idempotency_mismatch', paymentId: stored.paymentId, scenarioId: null },
        mismatch.status,
        false,
      );
      return sendJson(ctx, mismatch.status, mismatch.body);
    }
    entry(
      { result: 'replayed', paymentId: stored.paymentId, scenarioId: null },
      stored.response.status,
      true,
    );
    return sendJson(ctx, stored.response.status, stored.response.body, { 'Idempotent-Replayed': 'true' });
  }

  const answer = run();
  if (key !== null && answer.remember) {
    env.state.rememberIdempotent(spec.provider, spec.account, key, {
      operation: spec.endpoint,
      fingerprint: spec.fingerprint,
      response: answer.response,
      paymentId: answer.paymentId,
    });
  }
  entry(answer, answer.response.status, false);
  if (answer.hangMs > 0) {
    // Held until the time is up, the client gives up (its timeout) or the simulator closes.
    const gone = new AbortController();
    const onClose = () => gone.abort();
    ctx.res.once('close', onClose);
    try {
      await sleep(answer.hangMs, undefined, { signal: AbortSignal.any([env.closing, gone.signal]) });
    } catch {
      ctx.req.socket.destroy();
      return;
    } finally {
      ctx.res.off('close', onClose);
    }
  }
  sendJson(ctx, answer.response.status, answer.response.body);
}

/** Logs a request refused before it reached a payment (bad credentials, bad input). */
export function logRejectedRequest(
  state: SimulatorState,
  ctx: Context,
  request: {
    provider: SimProviderId;
    operation: RequestLogEntry['operation'];
    status: number;
    result: string;
  },
): void {
  state.logRequest({
    at: new Date().toISOString(),
    provider: request.provider,
    operation: request.operation,
    idempotencyKey: ctx.get('idempotency-key') || null,
    replayed: false,
    account: null,
    reference: null,
    transactionId: null,
    amountMinor: null,
    currency: null,
    customerFields: [],
    httpStatus: request.status,
    result: request.result,
    paymentId: null,
    scenarioId: null,
  });
}
