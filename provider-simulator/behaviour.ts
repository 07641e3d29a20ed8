/**
 * Which behaviour a payment request gets: the newest matching scenario, else the "magic amount" table
 * (the last two digits of the amount in minor units), so a demo can show every case without scripting.
 * Pure: scenarios and options come in as arguments.
 */
import { DEFAULT_REQUIRED_FIELDS } from './fields.js';
import type {
  Behaviour,
  CallbackScript,
  CallbackStep,
  FieldRequirement,
  PaymentInput,
  Scenario,
  ScenarioMatch,
  SimProviderId,
} from './model.js';

/** How long a "timeout" holds the answer unless a scenario says otherwise (longer than any client timeout). */
export const DEFAULT_HANG_MS = 60_000;
/** Delay of the final callback after a "pending" answer. */
export const DEFAULT_PENDING_SETTLE_MS = 2_000;

export function step(outcome: CallbackStep['outcome'], extra: Partial<CallbackStep> = {}): CallbackStep {
  return { outcome, deliverAfterMs: 0, copies: 1, ...extra };
}

function script(...steps: CallbackStep[]): CallbackScript {
  return { steps, batch: false };
}

export interface BehaviourDefaults {
  /** When set, redirect payments complete by themselves after this long (no customer needed). */
  autoCompleteAfterMs?: number;
}

function redirect(callbacks: CallbackScript, defaults: BehaviourDefaults): Behaviour {
  return defaults.autoCompleteAfterMs === undefined
    ? { kind: 'redirect', callbacks }
    : { kind: 'redirect', callbacks, autoCompleteAfterMs: defaults.autoCompleteAfterMs };
}

/** The magic amount table: `amountMinor % 100` -> behaviour. Documented in provider-simulator/README.md. */
export const MAGIC_AMOUNTS: ReadonlyArray<{
  suffix: number;
  summary: string;
  behaviour: (provider: SimProviderId, defaults: BehaviourDefaults) => Behaviour;
}> = [
  {
    suffix: 1,
    summary: 'declined synchronously (and a declined callback)',
    behaviour: () => ({ kind: 'decline', code: 'card_declined', callbacks: script(step('declined')) }),
  },
  {
    suffix: 2,
    summary: 'provider error: HTTP 503, nothing created',
    behaviour: () => ({ kind: 'server_error', status: 503 }),
  },
  {
    suffix: 3,
    summary: `timeout: the payment is created (redirect) but the answer is held ${DEFAULT_HANG_MS / 1000} s`,
    behaviour: (_p, d) => ({
      kind: 'timeout',
      hangMs: DEFAULT_HANG_MS,
      then: redirect(script(step('approved')), d),
    }),
  },
  {
    suffix: 4,
    summary: 'requires customer fields (those not sent yet), then redirect + approved callback',
    behaviour: (provider, d) => ({
      kind: 'requires_fields',
      fields: DEFAULT_REQUIRED_FIELDS[provider],
      then: redirect(script(step('approved')), d),
    }),
  },
  {
    suffix: 5,
    summary: 'velocity limit: HTTP 429, nothing created',
    behaviour: () => ({ kind: 'velocity' }),
  },
  {
    suffix: 6,
    summary: 'inactive/invalid account: HTTP 403, nothing created',
    behaviour: () => ({ kind: 'inactive_account' }),
  },
  {
    suffix: 7,
    summary: 'approved synchronously (no redirect) and an approved callback',
    behaviour: () => ({ kind: 'approved', callbacks: script(step('approved')) }),
  },
  {
    suffix: 8,
    summary: `pending: a pending callback at once, the approved one ${DEFAULT_PENDING_SETTLE_MS / 1000} s later`,
    behaviour: () => ({
      kind: 'pending',
      callbacks: script(step('pending'), step('approved', { deliverAfterMs: DEFAULT_PENDING_SETTLE_MS })),
    }),
  },
  {
    suffix: 9,
    summary: 'redirect, then a declined callback after the checkout',
    behaviour: (_p, d) => redirect(script(step('declined', { code: 'card_declined' })), d),
  },
  {
    suffix: 10,
    summary: 'redirect, then the approved callback delivered twice (duplicate)',
    behaviour: (_p, d) => redirect(script(step('approved', { copies: 2 })), d),
  },
  {
    suffix: 11,
    summary: 'redirect, then out of order: approved delivered first, the earlier pending one after it',
    behaviour: (_p, d) =>
      redirect(script(step('pending', { deliverAfterMs: 500 }), step('approved', { deliverAfterMs: 0 })), d),
  },
  {
    suffix: 12,
    summary: 'redirect, then conflicting callbacks: approved, then declined',
    behaviour: (_p, d) =>
      redirect(script(step('approved'), step('declined', { code: 'card_declined', deliverAfterMs: 200 })), d),
  },
];

/** Behaviour for an unscripted request, from the last two digits of its amount. */
export function defaultBehaviour(
  provider: SimProviderId,
  amountMinor: number,
  defaults: BehaviourDefaults = {},
): Behaviour {
  const magic = MAGIC_AMOUNTS.find((entry) => entry.suffix === amountMinor % 100);
  return magic ? magic.behaviour(provider, defaults) : redirect(script(step('approved')), defaults);
}

export function matches(match: ScenarioMatch, input: PaymentInput): boolean {
  return (
    (match.provider === undefined || match.provider === input.provider) &&
    (match.reference === undefined || match.reference === input.reference) &&
    (match.transactionId === undefined || match.transactionId === input.transactionId) &&
    (match.amountMinor === undefined || match.amountMinor === input.amountMinor) &&
    (match.account === undefined || match.account === input.account) &&
    (match.idempotencyKey === undefined || match.idempotencyKey === input.idempotencyKey)
  );
}

/** The newest scenario with uses left that matches, else undefined. Scenarios are in creation order. */
export function findScenario(scenarios: readonly Scenario[], input: PaymentInput): Scenario | undefined {
  for (let i = scenarios.length - 1; i >= 0; i--) {
    const scenario = scenarios[i]!;
    if (scenario.remaining !== 0 && matches(scenario.match, input)) return scenario;
  }
  return undefined;
}

/** Fields of `required` the customer data does not hold yet (blank values count as missing). */
export function missingFields(
  required: readonly FieldRequirement[],
  customer: Readonly<Record<string, string>>,
): FieldRequirement[] {
  return required.filter((field) => (customer[field.name] ?? '').trim() === '');
}
