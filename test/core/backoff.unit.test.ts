import { expect } from 'chai';
import fc from 'fast-check';
import { backoffDelay } from '../../core/broker/backoff.js';
import type { BackoffPolicy } from '../../core/broker/types.js';

describe('backoffDelay', () => {
  const policy: BackoffPolicy = { initialMs: 100, multiplier: 2, maxMs: 1_000, jitter: 'none' };

  it('grows exponentially from the first retry and stops at the cap', () => {
    expect([2, 3, 4, 5, 6, 7].map((attempt) => backoffDelay(policy, attempt))).to.deep.equal([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });

  it('keeps jittered delays within [0, cap] (full) and [cap/2, cap] (equal)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 30 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (attempt, r) => {
          const cap = backoffDelay(policy, attempt);
          const full = backoffDelay({ ...policy, jitter: 'full' }, attempt, () => r);
          const equal = backoffDelay({ ...policy, jitter: 'equal' }, attempt, () => r);
          return full >= 0 && full <= cap && equal >= Math.floor(cap / 2) && equal <= cap;
        },
      ),
    );
  });
});
