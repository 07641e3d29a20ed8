import { expect } from 'chai';
import { currentLogContext, withLogContext } from '../../core/log-context.js';
import { Batcher } from '../../core/batching/batcher.js';

describe('batcher (natural batching)', () => {
  it('runs a lone item at once and coalesces items submitted while a batch runs', async () => {
    const batches: number[][] = [];
    let unblock!: () => void;
    const blocked = new Promise<void>((resolve) => (unblock = resolve));
    const batcher = new Batcher<number, number>({
      maxBatch: 10,
      run: async (items) => {
        batches.push([...items]);
        if (batches.length === 1) await blocked;
        return items.map((n) => n * 10);
      },
    });
    const first = batcher.submit(1);
    await Promise.resolve();
    await Promise.resolve();
    const rest = [2, 3, 4].map((n) => batcher.submit(n));
    unblock();
    expect(await Promise.all([first, ...rest])).to.deep.equal([10, 20, 30, 40]);
    expect(batches).to.deep.equal([[1], [2, 3, 4]]);
  });

  it('keeps items with the same key in different batches, and caps the batch size', async () => {
    const batches: string[][] = [];
    const batcher = new Batcher<string, string>({
      maxBatch: 3,
      exclusiveKey: (item) => item[0]!,
      run: async (items) => {
        batches.push([...items]);
        return [...items];
      },
    });
    await Promise.all(['a1', 'a2', 'b1', 'c1', 'd1', 'a3'].map((item) => batcher.submit(item)));
    expect(batches).to.deep.equal([['a1', 'b1', 'c1'], ['a2', 'd1'], ['a3']]);
  });

  it('when a batch fails, runs its items alone so only the bad one fails', async () => {
    const batcher = new Batcher<number, number>({
      maxBatch: 10,
      run: async (items) => {
        if (items.includes(13)) throw new Error('bad item');
        return [...items];
      },
    });
    const results = await Promise.allSettled([1, 13, 2].map((n) => batcher.submit(n)));
    expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('runs up to maxInFlight batches at once; what queues meanwhile goes out together', async () => {
    const batches: number[][] = [];
    const gates: Array<() => void> = [];
    const batcher = new Batcher<number, number>({
      maxBatch: 10,
      maxInFlight: 2,
      run: async (items) => {
        batches.push([...items]);
        await new Promise<void>((resolve) => gates.push(resolve));
        return [...items];
      },
    });
    const first = batcher.submit(1);
    await flush();
    const second = batcher.submit(2);
    await flush();
    expect(batches, 'two lanes: the second item does not wait for the first').to.deep.equal([[1], [2]]);
    const queued = [3, 4, 5].map((n) => batcher.submit(n));
    await flush();
    expect(batches).to.have.length(2);
    gates[0]!();
    await flush();
    expect(batches[2]).to.deep.equal([3, 4, 5]);
    gates[1]!();
    gates[2]!();
    expect(await Promise.all([first, second, ...queued])).to.deep.equal([1, 2, 3, 4, 5]);
  });

  it('rejects every caller of a failed batch without retrying when the failure is not isolable', async () => {
    let runs = 0;
    const batcher = new Batcher<number, number>({
      maxBatch: 10,
      isolate: (error) => (error as Error).message === 'bad item',
      run: async () => {
        runs++;
        throw new Error('database unreachable');
      },
    });
    const results = await Promise.allSettled([1, 2, 3].map((n) => batcher.submit(n)));
    expect(results.map((r) => r.status)).to.deep.equal(['rejected', 'rejected', 'rejected']);
    expect(runs, 'one batch, no one-by-one retries').to.equal(1);
  });

  it("runs a lone item in its submitter's log context and a batch of several flows in none", async () => {
    const seen: Array<{ items: number[]; context: unknown }> = [];
    const batcher = new Batcher<number, number>({
      maxBatch: 10,
      run: async (items) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        seen.push({ items: [...items], context: currentLogContext() });
        return [...items];
      },
    });
    const submitAs = (n: number) => withLogContext({ requestId: `r${n}` }, () => batcher.submit(n));
    const first = submitAs(1);
    await flush();
    await Promise.all([first, submitAs(2), submitAs(3)]);
    expect(seen).to.deep.equal([
      { items: [1], context: { requestId: 'r1' } },
      { items: [2, 3], context: {} },
    ]);
  });
});

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
