/**
 * The provider-neutral payment engine: applies a behaviour to a request, creates the payment, moves it
 * on when customer fields arrive or the customer finishes the checkout page, and schedules callbacks.
 * The provider front ends only parse requests and render results in their wire formats.
 */
import { defaultBehaviour, missingFields, type BehaviourDefaults } from './behaviour.js';
import { finalOutcome } from './callbacks/plan.js';
import type { CallbackDispatcher } from './callbacks/dispatcher.js';
import type { Logger } from '../core/logger.js';
import type { Behaviour, CallbackScript, PaymentInput, PaymentResult, SimPayment } from './model.js';
import type { SimulatorState } from './state.js';

export interface FlowResult {
  result: PaymentResult;
  /** Hold the answer this long before sending it (the "timeout" behaviour). */
  hangMs: number;
}

export interface PaymentFlowOptions {
  state: SimulatorState;
  dispatcher: CallbackDispatcher;
  defaults: BehaviourDefaults;
  logger: Logger;
}

export class PaymentFlow {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: PaymentFlowOptions) {}

  /** A new payment request: scenario or magic amount decides; errors create nothing. */
  create(input: PaymentInput, newId: () => string): FlowResult & { scenarioId: string | null } {
    const scenario = this.options.state.takeScenario(input);
    const behaviour =
      scenario?.behaviour ?? defaultBehaviour(input.provider, input.amountMinor, this.options.defaults);
    const payment: SimPayment = {
      id: newId(),
      input,
      status: 'requires_action',
      declineCode: null,
      behaviour,
      missingFields: [],
      createdAt: new Date(),
    };
    const outcome = this.apply(payment, behaviour, 0);
    if (outcome.result.kind === 'payment') this.options.state.addPayment(payment);
    return { ...outcome, scenarioId: scenario?.id ?? null };
  }

  /** Customer fields for a payment that asked for them (merged with what it has). */
  continueWith(payment: SimPayment, customer: Record<string, string>): FlowResult {
    Object.assign(payment.input.customer, customer);
    if (payment.status !== 'requires_customer_data') return { result: snapshot(payment), hangMs: 0 };
    const stillMissing = missingFields(payment.missingFields, payment.input.customer);
    if (stillMissing.length > 0) {
      payment.missingFields = stillMissing;
      return { result: snapshot(payment), hangMs: 0 };
    }
    payment.missingFields = [];
    return this.apply(payment, payment.behaviour, 0);
  }

  /**
   * The customer finished (or cancelled) the provider's checkout page. Returns false when the payment
   * was not waiting for it (already completed: nothing happens twice).
   */
  complete(payment: SimPayment, action: 'pay' | 'cancel'): boolean {
    if (payment.status !== 'requires_action' || payment.behaviour.kind !== 'redirect') return false;
    if (action === 'cancel') {
      this.settle(payment, {
        steps: [{ outcome: 'declined', deliverAfterMs: 0, copies: 1, code: 'canceled' }],
        batch: false,
      });
      payment.status = 'canceled';
      return true;
    }
    this.settle(payment, payment.behaviour.callbacks);
    return true;
  }

  /** Cancels auto-completions (reset and close). */
  cancelTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private apply(payment: SimPayment, behaviour: Behaviour, hangMs: number): FlowResult {
    switch (behaviour.kind) {
      case 'timeout':
        return this.apply(payment, behaviour.then, hangMs + behaviour.hangMs);
      case 'server_error':
        return { result: { kind: 'server_error', status: behaviour.status }, hangMs };
      case 'velocity':
      case 'inactive_account':
        return { result: { kind: behaviour.kind }, hangMs };
      case 'requires_fields': {
        const missing = missingFields(behaviour.fields, payment.input.customer);
        if (missing.length === 0) return this.apply(payment, behaviour.then, hangMs);
        payment.status = 'requires_customer_data';
        payment.missingFields = missing;
        payment.behaviour = behaviour.then;
        return { result: snapshot(payment), hangMs };
      }
      case 'redirect': {
        payment.status = 'requires_action';
        payment.behaviour = behaviour;
        if (behaviour.autoCompleteAfterMs !== undefined)
          this.autoComplete(payment, behaviour.autoCompleteAfterMs);
        return { result: snapshot(payment), hangMs };
      }
      case 'approved':
      case 'pending':
      case 'decline': {
        payment.status = behaviour.kind === 'decline' ? 'declined' : behaviour.kind;
        payment.declineCode = behaviour.kind === 'decline' ? behaviour.code : null;
        payment.behaviour = behaviour;
        const answered = snapshot(payment);
        this.settle(payment, behaviour.callbacks);
        return { result: answered, hangMs };
      }
    }
  }

  /** The provider knows the final result now: record it and send the scripted callbacks. */
  private settle(payment: SimPayment, script: CallbackScript): void {
    const last = finalOutcome(script);
    if (last !== null || payment.status === 'requires_action') {
      payment.status = last ?? 'approved';
      payment.declineCode = last === 'declined' ? (script.steps.at(-1)?.code ?? 'card_declined') : null;
    }
    this.options.dispatcher.schedule(payment, script);
  }

  private autoComplete(payment: SimPayment, afterMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.complete(payment, 'pay'))
        this.options.logger.info('checkout completed automatically', { paymentId: payment.id });
    }, afterMs);
    this.timers.add(timer);
  }
}

/** The payment as it was when answered (later callbacks change the live one). */
function snapshot(payment: SimPayment): PaymentResult {
  return { kind: 'payment', payment: { ...payment, missingFields: [...payment.missingFields] } };
}
