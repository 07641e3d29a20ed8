import { expect } from 'chai';
import { OffsetTracker } from '../../core/broker/offset-tracker.js';

describe('OffsetTracker', () => {
  it('never lets the committable position pass an offset still in flight', () => {
    const tracker = new OffsetTracker();
    expect(tracker.committable()).to.equal(null);
    for (const offset of [10n, 11n, 12n, 13n]) tracker.track(offset);
    tracker.done(11n);
    tracker.done(13n);
    expect(tracker.committable()).to.equal(10n);
    tracker.done(10n);
    expect(tracker.committable()).to.equal(12n);
    tracker.done(12n);
    expect(tracker.committable()).to.equal(14n);
    expect(tracker.inFlightCount).to.equal(0);
  });
});
