import { expect } from 'chai';
import { deadLetterHeaders, readDeadLetter } from '../../core/broker/dead-letter.js';
import type { DeadLetterRecord } from '../../core/broker/types.js';

describe('dead-letter metadata', () => {
  const record: DeadLetterRecord = {
    consumerGroup: 'processor',
    originalTopic: 'payments.events',
    deadLetterTopic: 'payments.events.dlq.processor',
    message: {
      topic: 'payments.events',
      key: 'tx-1',
      value: Buffer.from('x'),
      headers: { 'event-type': 'DepositRequested', 'x-dlq-attempts': 'stale' },
      messageId: '3:42',
      partition: 3,
      offset: '42',
      publishedAt: new Date('2026-11-24T10:00:00.000Z'),
    },
    attempts: 5,
    errorClass: 'Error',
    errorCode: null,
    errorMessage: 'x'.repeat(5_000),
    errorStack: 'Error: x\n    at handler',
    firstFailureAt: new Date('2026-11-24T10:00:01.000Z'),
    lastFailureAt: new Date('2026-11-24T10:00:09.000Z'),
  };

  it('round-trips through headers, keeping original headers and replacing stale metadata', () => {
    const meta = readDeadLetter({ headers: deadLetterHeaders(record) });
    expect(meta).to.deep.include({
      errorClass: 'Error',
      errorCode: null,
      attempts: 5,
      consumerGroup: 'processor',
      originalTopic: 'payments.events',
      originalPartition: 3,
      originalOffset: '42',
      originalMessageId: '3:42',
    });
    expect(meta.originalHeaders).to.deep.equal({ 'event-type': 'DepositRequested' });
    expect(meta.firstFailureAt.toISOString()).to.equal('2026-11-24T10:00:01.000Z');
  });

  it('truncates long values to fit broker header limits', () => {
    const headers = deadLetterHeaders(record);
    expect(headers['x-dlq-error-message']!.length).to.be.at.most(1_000);
  });

  it('refuses a message that is not a dead letter', () => {
    expect(() => readDeadLetter({ headers: {} })).to.throw(/not a dead-letter message/);
  });
});
