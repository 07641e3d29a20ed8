/**
 * The publish coalescer with an in-memory sender: what goes into one batch, in which order, and how
 * each caller learns the outcome of the batch that carried its messages.
 */
import { expect } from 'chai';
import {
  batchLength,
  estimateBytes,
  PublishCoalescer,
  type OutgoingMessage,
  type QueuedPublish,
} from '../../core/broker/index.js';

const message = (key: string, value: string): OutgoingMessage => ({ key, value: Buffer.from(value) });

/** A sender whose batches the test settles by hand. */
function manualSender() {
  const batches: Array<{
    publishes: readonly QueuedPublish[];
    succeed(): void;
    fail(error: Error): void;
  }> = [];
  const send = (publishes: readonly QueuedPublish[]) =>
    new Promise<void>((resolve, reject) => {
      batches.push({ publishes, succeed: resolve, fail: reject });
    });
  return { batches, send };
}

const values = (batch: readonly QueuedPublish[]) =>
  batch.flatMap((p) => p.messages.map((m) => m.value.toString()));
const tick = () => new Promise((resolve) => setImmediate(resolve));
const settled = (promise: Promise<void>) =>
  promise.then(
    () => 'resolved',
    (error: Error) => `rejected: ${error.message}`,
  );

describe('publish coalescer', () => {
  const limits = { maxMessages: 100, maxBytes: 1_000_000 };

  it('sends a lone publish at once, and what arrives while it is in flight as one next batch, in call order', async () => {
    const { batches, send } = manualSender();
    const coalescer = new PublishCoalescer(send, limits);
    const first = coalescer.submit('t', [message('a', '1')]).done;
    await tick();
    expect(batches).to.have.length(1);
    const rest = ['2', '3', '4'].map((v) => coalescer.submit('t', [message('a', v)]).done);
    const other = coalescer.submit('u', [message('b', 'x'), message('a', '5')]).done;
    await tick();
    expect(batches, 'nothing else is sent while the first batch is in flight').to.have.length(1);
    batches[0]!.succeed();
    await first;
    await tick();
    expect(batches).to.have.length(2);
    expect(values(batches[1]!.publishes)).to.deep.equal(['2', '3', '4', 'x', '5']);
    expect(batches[1]!.publishes.map((p) => p.topic)).to.deep.equal(['t', 't', 't', 'u']);
    batches[1]!.succeed();
    await Promise.all([...rest, other]);
    await coalescer.idle();
  });

  it('publishes made in the same tick share a batch', async () => {
    const { batches, send } = manualSender();
    const coalescer = new PublishCoalescer(send, limits);
    const all = Array.from({ length: 5 }, (_, i) => coalescer.submit('t', [message('k', String(i))]).done);
    await tick();
    expect(batches).to.have.length(1);
    expect(values(batches[0]!.publishes)).to.deep.equal(['0', '1', '2', '3', '4']);
    batches[0]!.succeed();
    await Promise.all(all);
  });

  it('resolves no caller before its batch is acknowledged, and rejects every caller of a failed batch', async () => {
    const { batches, send } = manualSender();
    const coalescer = new PublishCoalescer(send, limits);
    const outcomes = Array.from({ length: 4 }, (_, i) =>
      settled(coalescer.submit('t', [message(`k${i}`, String(i))]).done),
    );
    let done = 0;
    for (const outcome of outcomes) void outcome.then(() => done++);
    await tick();
    expect(done).to.equal(0);
    batches[0]!.fail(new Error('broker said no'));
    expect(await Promise.all(outcomes)).to.deep.equal(Array(4).fill('rejected: broker said no'));
    // The next publish is a new batch and succeeds on its own.
    const after = coalescer.submit('t', [message('k', 'later')]).done;
    await tick();
    batches[1]!.succeed();
    await after;
  });

  it('never splits a publish, caps batches by messages and bytes, and sends an oversize publish alone', () => {
    const entry = (count: number, bytes: number) => ({ count, bytes });
    expect(
      batchLength([entry(3, 10), entry(3, 10), entry(3, 10)], { maxMessages: 6, maxBytes: 1_000 }),
    ).to.equal(2);
    expect(batchLength([entry(1, 600), entry(1, 600)], { maxMessages: 100, maxBytes: 1_000 })).to.equal(1);
    expect(batchLength([entry(50, 5_000), entry(1, 1)], { maxMessages: 10, maxBytes: 1_000 })).to.equal(1);
    expect(
      batchLength([entry(1, 1), entry(50, 5_000), entry(1, 1)], { maxMessages: 10, maxBytes: 1_000 }),
    ).to.equal(1);
    const small = [message('tx-1', 'x'.repeat(100))];
    expect(estimateBytes(small)).to.be.greaterThan(100 + 4);
    expect(
      estimateBytes([{ ...small[0]!, headers: { 'event-type': 'DepositRequested' } }]),
    ).to.be.greaterThan(estimateBytes(small) + 'event-typeDepositRequested'.length);
  });

  it('does not send a publish its caller withdrew while it waited', async () => {
    const { batches, send } = manualSender();
    const coalescer = new PublishCoalescer(send, limits);
    const first = coalescer.submit('t', [message('k', 'first')]);
    await tick();
    const late = coalescer.submit('t', [message('k', 'gave up')]);
    const kept = coalescer.submit('t', [message('k', 'kept')]);
    expect(late.withdraw()).to.equal(true);
    expect(first.withdraw(), 'already in flight').to.equal(false);
    batches[0]!.succeed();
    await first.done;
    await tick();
    expect(values(batches[1]!.publishes)).to.deep.equal(['kept']);
    batches[1]!.succeed();
    await kept.done;
    await coalescer.idle();
  });

  it('with isolateFailure, retries each publish of a failed batch alone so one bad message fails only its caller', async () => {
    const sent: string[][] = [];
    const coalescer = new PublishCoalescer(
      async (batch) => {
        sent.push(values(batch));
        if (values(batch).includes('bad')) throw Object.assign(new Error('refused'), { code: '22021' });
      },
      { ...limits, isolateFailure: (error) => (error as { code?: string }).code === '22021' },
    );
    const outcomes = ['a', 'bad', 'c'].map((v) => settled(coalescer.submit('t', [message('k', v)]).done));
    expect(await Promise.all(outcomes)).to.deep.equal(['resolved', 'rejected: refused', 'resolved']);
    expect(sent).to.deep.equal([['a', 'bad', 'c'], ['a'], ['bad'], ['c']]);
  });

  it('idle() waits for queued and in-flight batches', async () => {
    const { batches, send } = manualSender();
    const coalescer = new PublishCoalescer(send, limits);
    await coalescer.idle();
    void coalescer.submit('t', [message('k', '1')]).done;
    let idle = false;
    void coalescer.idle().then(() => (idle = true));
    await tick();
    expect(idle).to.equal(false);
    batches[0]!.succeed();
    await coalescer.idle();
    expect(idle).to.equal(true);
  });
});
