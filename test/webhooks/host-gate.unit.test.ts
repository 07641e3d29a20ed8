import { expect } from 'chai';
import { HostGate, type Release } from '../../webhook-dispatcher/host-gate.js';

const granted = (admission: ReturnType<HostGate['admit']>): Release => {
  if (admission.kind !== 'granted') throw new Error(`expected a slot, got ${admission.kind}`);
  return admission.release;
};

describe('webhook host gate', () => {
  it('runs at most the limit per host; attempts over it wait and get slots in arrival order', async () => {
    const gate = new HostGate({ maxInFlightPerHost: 2, maxQueuedPerHost: 10, maxQueued: 10 });
    const first = granted(gate.admit('a:443'));
    const second = granted(gate.admit('a:443'));
    granted(gate.admit('b:443')); // another host is not held back
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) => {
      const admission = gate.admit('a:443');
      expect(admission.kind).to.equal('queued');
      if (admission.kind !== 'queued') throw new Error('unreachable');
      return admission.granted.then((release) => {
        order.push(n);
        return release!;
      });
    });
    expect(gate.waiting('a:443')).to.equal(3);
    first();
    first(); // a second call gives nothing back twice
    const one = await waiters[0]!;
    expect(gate.inFlight('a:443')).to.equal(2);
    expect(gate.waiting('a:443')).to.equal(2);
    second();
    one();
    const releases = await Promise.all(waiters);
    expect(order).to.deep.equal([1, 2, 3]);
    // With both slots handed on to waiters, a newcomer waits too: it never overtakes them.
    expect(gate.admit('a:443').kind).to.equal('queued');
    releases.forEach((release) => release());
  });

  it('refuses to queue beyond the per-host and total bounds, and reports the waiting count', () => {
    const seen: number[] = [];
    const gate = new HostGate({ maxInFlightPerHost: 1, maxQueuedPerHost: 2, maxQueued: 3 }, (n) =>
      seen.push(n),
    );
    granted(gate.admit('a:1'));
    granted(gate.admit('b:1'));
    expect(gate.admit('a:1').kind).to.equal('queued');
    expect(gate.admit('a:1').kind).to.equal('queued');
    expect(gate.admit('a:1')).to.deep.equal({ kind: 'refused', reason: 'host_queue_full' });
    expect(gate.admit('b:1').kind).to.equal('queued');
    expect(gate.admit('b:1')).to.deep.equal({ kind: 'refused', reason: 'queue_full' });
    expect(gate.totalWaiting).to.equal(3);
    expect(seen).to.deep.equal([1, 2, 3]);
  });

  it('on close hands every waiter null (put it back on the broker) and queues nothing more', async () => {
    const gate = new HostGate({ maxInFlightPerHost: 1, maxQueuedPerHost: 5, maxQueued: 5 });
    const release = granted(gate.admit('a:1'));
    const waiting = gate.admit('a:1');
    if (waiting.kind !== 'queued') throw new Error('expected to wait');
    gate.close();
    expect(await waiting.granted).to.equal(null);
    expect(gate.admit('a:1')).to.deep.equal({ kind: 'refused', reason: 'closed' });
    release();
    expect(gate.admit('a:1').kind, 'a free slot is still granted').to.equal('granted');
  });
});
