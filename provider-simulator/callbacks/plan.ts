/**
 * Turns a callback script into the deliveries the simulator makes, in delivery order. Pure.
 *
 * Steps are in logical order (the order the provider "produced" them; their timestamps follow it).
 * Deliveries are sorted by `deliverAfterMs`, ties keep the logical order, and copies of a step follow
 * each other, so "out of order" means: a later step scheduled earlier than an earlier one.
 */
import type { CallbackOutcome, CallbackScript } from '../model.js';

export interface PlannedItem {
  /** Position in logical order; the same index in two deliveries means the same notification. */
  index: number;
  outcome: CallbackOutcome;
  code: string | null;
}

export interface PlannedDelivery {
  deliverAfterMs: number;
  /** 1 for the first delivery of these items, 2 for the duplicate, … */
  copy: number;
  /** One item, or several when the script batches (Adyen). */
  items: PlannedItem[];
}

export function planDeliveries(script: CallbackScript, canBatch: boolean): PlannedDelivery[] {
  const items = script.steps.map((step, index) => ({
    index,
    outcome: step.outcome,
    code: step.code ?? (step.outcome === 'declined' ? 'card_declined' : null),
  }));
  if (items.length === 0) return [];
  if (script.batch && canBatch) {
    const copies = Math.max(...script.steps.map((step) => step.copies));
    const deliverAfterMs = Math.min(...script.steps.map((step) => step.deliverAfterMs));
    return Array.from({ length: copies }, (_, i) => ({ deliverAfterMs, copy: i + 1, items }));
  }
  const deliveries = script.steps.flatMap((step, index) =>
    Array.from({ length: step.copies }, (_, i) => ({
      deliverAfterMs: step.deliverAfterMs,
      copy: i + 1,
      items: [items[index]!],
    })),
  );
  // Array.prototype.sort is stable: equal delays keep logical order, copies stay together.
  return deliveries.sort((a, b) => a.deliverAfterMs - b.deliverAfterMs);
}

/** The outcome the provider ends up with: the last step in logical order. */
export function finalOutcome(script: CallbackScript): CallbackOutcome | null {
  return script.steps.at(-1)?.outcome ?? null;
}
