/**
 * What must hold after any hostile request, checked the same way for every endpoint:
 * - the answer is not a 5xx: the dependencies are up during fuzzing, so even the documented 503s
 *   (database or broker unavailable) would mean hostile input broke something;
 * - an error answer is an RFC 9457 problem (application/problem+json with type, title, status, detail
 *   and our stable code), except where an endpoint documents an HTML page, and Node's own 431 for
 *   headers too large to parse (answered before the request reaches any application code);
 * - the process is alive (GET /healthz answers 200);
 * - an unauthenticated or forged request changed nothing: `stateFingerprint` covers every table a
 *   request could write and the broker's durable log, compared before and after.
 */
import { expect } from 'chai';
import type { Knex } from 'knex';
import type { ProbeAnswer } from './http-probe.js';

/** A short description of a request for assertion messages (bounded: fuzz inputs can be huge). */
export function describeRequest(method: string, path: string, extra: unknown = ''): string {
  const text = `${method} ${path} ${typeof extra === 'string' ? extra : JSON.stringify(extra)}`;
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** Not a 5xx, and not a connection dropped without an answer (unless `mayReset`: a body too large to read). */
export function expectNoServerError(answer: ProbeAnswer, what: string, options: { mayReset?: boolean } = {}) {
  if (answer.reset) {
    expect(options.mayReset, `${what}: connection closed without an answer`).to.equal(true);
    return;
  }
  expect(answer.status, `${what}: answered ${answer.status} ${answer.text.slice(0, 300)}`).to.be.within(
    200,
    499,
  );
}

/** An RFC 9457 problem document whose status matches the response's. */
export function expectProblem(answer: ProbeAnswer, what: string): void {
  const contentType = String(answer.headers['content-type'] ?? '');
  expect(contentType, `${what}: content type of a ${answer.status}`).to.match(/^application\/problem\+json/);
  const problem = answer.json as Record<string, unknown> | undefined;
  expect(problem, `${what}: problem body ${answer.text.slice(0, 200)}`).to.be.an('object');
  expect(problem!.status, `${what}: problem status`).to.equal(answer.status);
  for (const member of ['type', 'title', 'detail', 'code'])
    expect(problem![member], `${what}: problem member ${member}`).to.be.a('string');
}

const HEADERS_TOO_LARGE = 431;

/** Not a 5xx; when an error, a problem document (but see HEADERS_TOO_LARGE and HEAD). */
export function expectHandled(answer: ProbeAnswer, what: string, options: { mayReset?: boolean } = {}): void {
  expectNoServerError(answer, what, options);
  // Headers beyond Node's limit (16 KiB) are refused by the HTTP layer before any application code.
  if (answer.status === HEADERS_TOO_LARGE) return;
  // A HEAD answer carries the problem's headers but, by HTTP's rules, no body.
  if (!answer.reset && answer.status >= 400 && answer.method !== 'HEAD') expectProblem(answer, what);
}

/** The process still serves its liveness probe. */
export async function expectAlive(baseUrl: string): Promise<void> {
  const response = await fetch(`${baseUrl}/healthz`);
  expect(response.status, 'GET /healthz after hostile input').to.equal(200);
}

/** Every table a public request could write, with what changes on insert or update. */
const FINGERPRINT_SQL: Record<string, string> = {
  transactions: `select count(*)::text || '/' || coalesce(sum(last_sequence), 0)::text || '/' || coalesce(max(updated_at)::text, '-') as v from transactions`,
  payment_sessions: `select count(*)::text || '/' || coalesce(max(updated_at)::text, '-') || '/' || count(customer_data_submitted_at)::text as v from payment_sessions`,
  customer_data: `select coalesce(md5(string_agg(customer_data::text, ',' order by id)), '-') as v from transactions`,
  outbox: `select count(*)::text || '/' || coalesce(max(id)::text, '-') as v from outbox`,
  transaction_timeline: `select count(*)::text as v from transaction_timeline`,
  provider_callbacks: `select count(*)::text as v from provider_callbacks`,
  payment_attempts: `select count(*)::text as v from payment_attempts`,
  webhook_deliveries: `select count(*)::text || '/' || coalesce(sum(last_attempt_number), 0)::text as v from webhook_deliveries`,
  webhook_attempts: `select count(*)::text as v from webhook_attempts`,
  failed_events: `select count(*)::text as v from failed_events`,
  backoffice_audit_log: `select count(*)::text as v from backoffice_audit_log`,
  merchants: `select count(*)::text as v from merchants`,
  merchant_api_keys: `select count(*)::text || '/' || count(revoked_at)::text as v from merchant_api_keys`,
  broker_messages: `select count(*)::text as v from broker_messages`,
};

/** A value per table that changes whenever a row is inserted (or, where it matters, updated); one round trip. */
export async function stateFingerprint(knex: Knex): Promise<Record<string, string>> {
  const columns = Object.entries(FINGERPRINT_SQL).map(([table, sql]) => `(${sql}) as "${table}"`);
  const result = await knex.raw(`select ${columns.join(', ')}`);
  const row = result.rows[0] as Record<string, unknown>;
  return Object.fromEntries(Object.keys(FINGERPRINT_SQL).map((table) => [table, String(row[table])]));
}

/** Fails naming the tables whose fingerprint moved. */
export function expectUnchanged(before: Record<string, string>, after: Record<string, string>, what: string) {
  const moved = Object.keys(before).filter((table) => before[table] !== after[table]);
  expect(
    moved,
    `${what}: changed ${moved.map((t) => `${t} ${before[t]} -> ${after[t]}`).join('; ')}`,
  ).to.deep.equal([]);
}

/**
 * Waits until background work caused by earlier (legitimate) requests has finished: the outbox is
 * relayed and the fingerprint holds still across a few polls. Only then does "unchanged" mean
 * "this request changed nothing".
 */
export async function settle(knex: Knex, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  let stableSince = Date.now();
  for (;;) {
    const pending = await knex('outbox').whereNull('published_at').count<{ n: string }[]>({ n: '*' });
    const now = JSON.stringify(await stateFingerprint(knex)) + String(pending[0]!.n);
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    } else if (Number(pending[0]!.n) === 0 && Date.now() - stableSince >= 400) {
      return;
    }
    if (Date.now() > deadline) throw new Error(`the platform did not settle within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
