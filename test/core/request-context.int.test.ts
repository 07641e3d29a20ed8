import { expect } from 'chai';
import Koa from 'koa';
import { Writable } from 'node:stream';
import { requestContext } from '../../core/http/request-context.js';
import { addToLogContext } from '../../core/log-context.js';
import { createLogger } from '../../core/logger.js';
import { listen } from '../../platform/http-server.js';

/**
 * Every HTTP request gets an id, answered as X-Request-Id and carried by each line the request logs,
 * with what the route learned on the way (merchant, transaction) — over real HTTP, with the process
 * logger's real formats, and without two concurrent requests mixing their ids.
 */
describe('HTTP request context in the logs', () => {
  it('tags every line of a request with its answered id and the ids added on the way', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({
      level: 'info',
      service: 'test',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          done();
        },
      }),
    });
    const app = new Koa();
    app.use(requestContext());
    app.use(async (ctx) => {
      const order = ctx.path.slice(1);
      logger.info('received', { order });
      addToLogContext({ merchantId: `m_${order}` });
      await new Promise((resolve) => setTimeout(resolve, order === 'slow' ? 30 : 1));
      addToLogContext({ transactionId: `tx_${order}` });
      logger.info('answered', { order });
      ctx.body = 'ok';
    });
    const server = await listen(app, '127.0.0.1', 0);
    try {
      const [slow, fast] = await Promise.all([fetch(`${server.url}/slow`), fetch(`${server.url}/fast`)]);
      const ids = { slow: slow.headers.get('x-request-id'), fast: fast.headers.get('x-request-id') };
      expect(ids.slow).to.match(/^[0-9a-f-]{36}$/);
      expect(ids.fast)
        .to.match(/^[0-9a-f-]{36}$/)
        .and.not.equal(ids.slow);
      logger.info('between requests');
      for (const order of ['slow', 'fast'] as const) {
        const own = lines.filter((line) => line.order === order);
        expect(own.map((line) => line.message)).to.deep.equal(['received', 'answered']);
        expect(own[0]).to.include({ requestId: ids[order] }).and.not.have.property('merchantId');
        expect(own[1]).to.include({
          requestId: ids[order],
          merchantId: `m_${order}`,
          transactionId: `tx_${order}`,
        });
      }
      expect(lines.at(-1)).to.not.have.property('requestId');
    } finally {
      await server.close();
    }
  });
});
