import { expect } from 'chai';
import { KeyedExecutor } from '../../core/broker/keyed-executor.js';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('KeyedExecutor', () => {
  it('runs one key in submission order and different keys concurrently, within the limit', async () => {
    const executor = new KeyedExecutor(3);
    const order: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const task = (label: string, ms: number) => async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await tick(ms);
      order.push(label);
      running--;
    };
    const all = [
      executor.submit('a', task('a1', 20)),
      executor.submit('a', task('a2', 1)),
      executor.submit('b', task('b1', 5)),
      executor.submit('c', task('c1', 5)),
      executor.submit('d', task('d1', 5)),
      executor.submit('e', task('e1', 5)),
    ];
    await Promise.all(all);
    expect(order.indexOf('a1')).to.be.lessThan(order.indexOf('a2'));
    expect(maxRunning).to.equal(3);
    expect(executor.size).to.equal(0);
  });

  it('reports a task failure to its submitter and keeps running later tasks', async () => {
    const executor = new KeyedExecutor(1);
    const failed = executor.submit('k', async () => {
      throw new Error('boom');
    });
    let ran = false;
    const next = executor.submit('k', async () => {
      ran = true;
    });
    await failed.catch((error: Error) => expect(error.message).to.equal('boom'));
    await next;
    expect(ran).to.equal(true);
  });

  it('idle() resolves once everything submitted has settled', async () => {
    const executor = new KeyedExecutor(2);
    let done = 0;
    for (let i = 0; i < 5; i++) void executor.submit(`k${i % 2}`, async () => void (await tick(2), done++));
    await executor.idle();
    expect(done).to.equal(5);
  });
});
