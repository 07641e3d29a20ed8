import { expect } from 'chai';
import fc from 'fast-check';
import { chooseTier, tierWaitUntil } from '../../core/broker/delay-tiers.js';
import { delayTierTopic, deadLetterTopicFor, tierLabel } from '../../core/broker/topics.js';

describe('delay tiers', () => {
  const tiers = [1_000, 5_000, 30_000, 120_000];

  it('picks the largest tier that does not overshoot, or the smallest for short delays', () => {
    expect(chooseTier(tiers, 200)).to.equal(1_000);
    expect(chooseTier(tiers, 4_999)).to.equal(1_000);
    expect(chooseTier(tiers, 5_000)).to.equal(5_000);
    expect(chooseTier(tiers, 10 * 3_600_000)).to.equal(120_000);
  });

  it('never releases a message before it is due, and never waits longer in a tier than the tier delay', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 1, max: 1e8 }),
        (enteredAt, remaining) => {
          const tier = chooseTier(tiers, remaining);
          const until = tierWaitUntil(tier, enteredAt, enteredAt + remaining);
          return until <= enteredAt + remaining && until <= enteredAt + tier && until > enteredAt;
        },
      ),
    );
  });

  it('names tier and dead-letter topics readably', () => {
    expect(tierLabel(30_000)).to.equal('30s');
    expect(tierLabel(120_000)).to.equal('2m');
    expect(tierLabel(3_600_000)).to.equal('1h');
    expect(tierLabel(250)).to.equal('250ms');
    expect(delayTierTopic('payments.webhooks', 30_000)).to.equal('payments.webhooks.delay.30s');
    expect(deadLetterTopicFor('payments.events', 'processor')).to.equal('payments.events.dlq.processor');
  });
});
