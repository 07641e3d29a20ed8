/**
 * Validates the body of `POST /_sim/scenarios` into a match and a behaviour, filling defaults (the
 * default callbacks of each kind, `then` = redirect + approved). Pure; errors name the JSON path.
 */
import { DEFAULT_HANG_MS, DEFAULT_PENDING_SETTLE_MS, step } from './behaviour.js';
import { describeField } from './fields.js';
import {
  SIM_PROVIDERS,
  type Behaviour,
  type CallbackScript,
  type CallbackStep,
  type FieldRequirement,
  type ScenarioMatch,
  type SimProviderId,
} from './model.js';

export interface ScenarioInput {
  match: ScenarioMatch;
  behaviour: Behaviour;
  /** How many requests it applies to; null = until removed or reset. */
  times: number | null;
}

export interface InputError {
  path: string;
  message: string;
}

export type ParseResult = { ok: true; value: ScenarioInput } | { ok: false; errors: InputError[] };

const MAX_DELAY_MS = 10 * 60_000;
const MAX_STEPS = 20;
const MAX_COPIES = 10;
const MAX_DEPTH = 4;
const OUTCOMES = ['approved', 'declined', 'pending'] as const;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class Reader {
  readonly errors: InputError[] = [];

  fail(path: string, message: string): undefined {
    this.errors.push({ path, message });
    return undefined;
  }

  string(obj: Json, key: string, path: string): string | undefined {
    const value = obj[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.length === 0 || value.length > 256)
      return this.fail(`${path}.${key}`, 'must be a non-empty string of at most 256 characters');
    return value;
  }

  int(obj: Json, key: string, path: string, min: number, max: number): number | undefined {
    const value = obj[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
      return this.fail(`${path}.${key}`, `must be an integer from ${min} to ${max}`);
    return value;
  }

  onlyKeys(obj: Json, allowed: readonly string[], path: string): void {
    for (const key of Object.keys(obj))
      if (!allowed.includes(key))
        this.fail(`${path}.${key}`, `unknown member; allowed: ${allowed.join(', ')}`);
  }
}

function parseMatch(r: Reader, raw: unknown): ScenarioMatch {
  if (raw === undefined) return {};
  if (!isObject(raw)) return r.fail('$.match', 'must be an object') ?? {};
  r.onlyKeys(
    raw,
    ['provider', 'reference', 'transactionId', 'amountMinor', 'account', 'idempotencyKey'],
    '$.match',
  );
  const match: ScenarioMatch = {};
  const provider = r.string(raw, 'provider', '$.match');
  if (provider !== undefined) {
    if ((SIM_PROVIDERS as readonly string[]).includes(provider)) match.provider = provider as SimProviderId;
    else r.fail('$.match.provider', `must be one of ${SIM_PROVIDERS.join(', ')}`);
  }
  for (const key of ['reference', 'transactionId', 'account', 'idempotencyKey'] as const) {
    const value = r.string(raw, key, '$.match');
    if (value !== undefined) match[key] = value;
  }
  const amount = r.int(raw, 'amountMinor', '$.match', 0, Number.MAX_SAFE_INTEGER);
  if (amount !== undefined) match.amountMinor = amount;
  return match;
}

function parseSteps(r: Reader, raw: unknown, path: string, fallback: CallbackStep[]): CallbackStep[] {
  if (raw === undefined) return fallback;
  if (!Array.isArray(raw) || raw.length > MAX_STEPS)
    return r.fail(path, `must be an array of at most ${MAX_STEPS} callback steps`) ?? fallback;
  const steps: CallbackStep[] = [];
  raw.forEach((item: unknown, index) => {
    const at = `${path}[${index}]`;
    if (!isObject(item)) return r.fail(at, 'must be an object');
    r.onlyKeys(item, ['outcome', 'deliverAfterMs', 'copies', 'code'], at);
    const outcome = item.outcome;
    if (!(OUTCOMES as readonly unknown[]).includes(outcome))
      return r.fail(`${at}.outcome`, `must be one of ${OUTCOMES.join(', ')}`);
    const extra: Partial<CallbackStep> = {
      deliverAfterMs: r.int(item, 'deliverAfterMs', at, 0, MAX_DELAY_MS) ?? 0,
      copies: r.int(item, 'copies', at, 1, MAX_COPIES) ?? 1,
    };
    const code = r.string(item, 'code', at);
    if (code !== undefined) extra.code = code;
    steps.push(step(outcome as CallbackStep['outcome'], extra));
  });
  return steps;
}

function parseScript(r: Reader, obj: Json, path: string, fallback: CallbackStep[]): CallbackScript {
  const batch = obj.batchCallbacks;
  if (batch !== undefined && typeof batch !== 'boolean')
    r.fail(`${path}.batchCallbacks`, 'must be a boolean');
  return { steps: parseSteps(r, obj.callbacks, `${path}.callbacks`, fallback), batch: batch === true };
}

function parseFields(r: Reader, raw: unknown, path: string, provider: SimProviderId | undefined) {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_STEPS)
    return r.fail(path, `must be a non-empty array of at most ${MAX_STEPS} field names or objects`);
  const fields: FieldRequirement[] = [];
  raw.forEach((item: unknown, index) => {
    const at = `${path}[${index}]`;
    if (typeof item === 'string' && item.length > 0 && item.length <= 100) {
      fields.push(describeField(provider, item));
      return;
    }
    if (!isObject(item)) return r.fail(at, 'must be a field name or {name, type, label, pattern}');
    r.onlyKeys(item, ['name', 'type', 'label', 'pattern'], at);
    const name = r.string(item, 'name', at);
    if (name === undefined) return r.fail(`${at}.name`, 'is required');
    const field = describeField(provider, name);
    const type = item.type;
    if (type !== undefined) {
      if (!['email', 'tel', 'text', 'date', 'country'].includes(type as string))
        return r.fail(`${at}.type`, 'must be email, tel, text, date or country');
      field.type = type as FieldRequirement['type'];
    }
    const label = r.string(item, 'label', at);
    if (label !== undefined) field.label = label;
    const pattern = r.string(item, 'pattern', at);
    if (pattern !== undefined) {
      try {
        new RegExp(pattern);
        field.pattern = pattern;
      } catch {
        r.fail(`${at}.pattern`, 'must be a valid regular expression');
      }
    }
    fields.push(field);
  });
  return fields;
}

const KIND_KEYS: Record<Behaviour['kind'], readonly string[]> = {
  redirect: ['callbacks', 'batchCallbacks', 'autoCompleteAfterMs'],
  approved: ['callbacks', 'batchCallbacks'],
  pending: ['callbacks', 'batchCallbacks'],
  decline: ['code', 'callbacks', 'batchCallbacks'],
  requires_fields: ['fields', 'then'],
  timeout: ['hangMs', 'then'],
  server_error: ['status'],
  velocity: [],
  inactive_account: [],
};

function defaultThen(): Behaviour {
  return { kind: 'redirect', callbacks: { steps: [step('approved')], batch: false } };
}

function parseBehaviour(
  r: Reader,
  raw: unknown,
  path: string,
  provider: SimProviderId | undefined,
  depth: number,
): Behaviour | undefined {
  if (!isObject(raw)) return r.fail(path, 'must be an object with a "kind"');
  const kind = raw.kind as Behaviour['kind'];
  if (typeof kind !== 'string' || !Object.hasOwn(KIND_KEYS, kind))
    return r.fail(`${path}.kind`, `must be one of ${Object.keys(KIND_KEYS).join(', ')}`);
  r.onlyKeys(raw, ['kind', ...KIND_KEYS[kind]], path);
  const nested = (key: string): Behaviour => {
    if (raw[key] === undefined) return defaultThen();
    if (depth >= MAX_DEPTH) return r.fail(`${path}.${key}`, 'nests too deeply') ?? defaultThen();
    return parseBehaviour(r, raw[key], `${path}.${key}`, provider, depth + 1) ?? defaultThen();
  };
  switch (kind) {
    case 'redirect': {
      const behaviour: Behaviour = { kind, callbacks: parseScript(r, raw, path, [step('approved')]) };
      const auto = r.int(raw, 'autoCompleteAfterMs', path, 0, MAX_DELAY_MS);
      return auto === undefined ? behaviour : { ...behaviour, autoCompleteAfterMs: auto };
    }
    case 'approved':
      return { kind, callbacks: parseScript(r, raw, path, [step('approved')]) };
    case 'pending':
      return {
        kind,
        callbacks: parseScript(r, raw, path, [
          step('pending'),
          step('approved', { deliverAfterMs: DEFAULT_PENDING_SETTLE_MS }),
        ]),
      };
    case 'decline': {
      const code = r.string(raw, 'code', path) ?? 'card_declined';
      return { kind, code, callbacks: parseScript(r, raw, path, [step('declined', { code })]) };
    }
    case 'requires_fields': {
      const fields = parseFields(r, raw.fields, `${path}.fields`, provider);
      if (fields === undefined && raw.fields === undefined)
        return r.fail(`${path}.fields`, 'is required (field names in the provider naming)');
      return { kind, fields: fields ?? [], then: nested('then') };
    }
    case 'timeout':
      return {
        kind,
        hangMs: r.int(raw, 'hangMs', path, 1, MAX_DELAY_MS) ?? DEFAULT_HANG_MS,
        then: nested('then'),
      };
    case 'server_error':
      return { kind, status: r.int(raw, 'status', path, 500, 599) ?? 503 };
    case 'velocity':
    case 'inactive_account':
      return { kind };
  }
}

/** Parses a scenario body: `{match?, behaviour, times?}`. */
export function parseScenarioInput(body: unknown): ParseResult {
  const r = new Reader();
  if (!isObject(body)) return { ok: false, errors: [{ path: '$', message: 'must be a JSON object' }] };
  r.onlyKeys(body, ['match', 'behaviour', 'times'], '$');
  const match = parseMatch(r, body.match);
  const behaviour = parseBehaviour(r, body.behaviour, '$.behaviour', match.provider, 0);
  const times = r.int(body, 'times', '$', 1, 1_000_000) ?? null;
  if (r.errors.length > 0 || behaviour === undefined) return { ok: false, errors: r.errors };
  return { ok: true, value: { match, behaviour, times } };
}
