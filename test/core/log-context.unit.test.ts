import { expect } from 'chai';
import { Writable } from 'node:stream';
import winston from 'winston';
import { logContext, withLogContext } from '../../core/log-context.js';

describe('log context', () => {
  it('puts the flow ids on every line logged inside it, however deep and across awaits', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = winston.createLogger({
      format: winston.format.combine(logContext(), winston.format.json()),
      transports: [
        new winston.transports.Stream({
          stream: new Writable({
            write(chunk: Buffer, _encoding, done) {
              lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
              done();
            },
          }),
        }),
      ],
    });
    const deep = async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      logger.info('provider answered', { eventId: 'explicit' });
    };
    await withLogContext({ transactionId: 'tx_1', merchantId: 'm_1', eventId: 'evt_1' }, async () => {
      logger.info('handling');
      await withLogContext({ callbackId: 'cb_1' }, deep);
    });
    logger.info('outside');
    expect(lines[0]).to.include({
      message: 'handling',
      transactionId: 'tx_1',
      merchantId: 'm_1',
      eventId: 'evt_1',
    });
    expect(lines[1]).to.include({ transactionId: 'tx_1', callbackId: 'cb_1', eventId: 'explicit' });
    expect(lines[2]).to.not.have.property('transactionId');
  });
});
