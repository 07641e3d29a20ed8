import { expect } from 'chai';
import type { Database } from '../../adapters/db/index.js';
import { FailedEventStore } from '../../core/failed-events/index.js';
import { decodeEvent, encodeEvent } from '../../schemas/index.js';
import { createTestDatabase } from '../support/database.js';
import { sampleEvent } from '../support/events.js';
import { insertMerchant, insertTransaction } from '../support/fixtures.js';

describe('a dead letter of a known transaction', function () {
  this.timeout(30_000);
  let database: Database;
  let release: () => Promise<void>;

  before(async function () {
    ({ database, release } = await createTestDatabase('postgres', this));
  });
  after(async () => release?.());

  it('puts EventProcessingFailed on the transaction stream with the next sequence, internal-only', async () => {
    const merchantId = await insertMerchant(database.knex);
    const transactionId = await insertTransaction(database.knex, merchantId, { last_sequence: 2 });
    const failed = sampleEvent('DepositRequested', transactionId, 1);
    const now = new Date();
    const { id } = await new FailedEventStore(database.knex).record({
      consumerGroup: 'processor',
      originalTopic: 'payments.events.v1',
      deadLetterTopic: 'payments.events.v1.dlq.processor',
      message: {
        topic: 'payments.events.v1',
        key: transactionId,
        value: encodeEvent(failed),
        headers: {},
        messageId: '0:42',
        partition: 0,
        offset: '42',
        publishedAt: now,
      },
      attempts: 5,
      errorClass: 'TypeError',
      errorCode: null,
      errorMessage: 'boom',
      errorStack: null,
      firstFailureAt: now,
      lastFailureAt: now,
    });
    const [row] = await database.knex('outbox').where({ key: transactionId });
    const event = decodeEvent(row.payload);
    expect(event.envelope).to.include({ type: 'EventProcessingFailed', sequence: 3, merchantId });
    expect(event.payload).to.include({
      consumerGroup: 'processor',
      failedEventId: failed.envelope.eventId,
      failedEventType: 'DepositRequested',
      attempts: 5,
      failedEventRecordId: id,
    });
    const [entry] = await database.knex('transaction_timeline').where({ transaction_id: transactionId });
    expect(entry).to.include({ entry_type: 'EventProcessingFailed', merchant_view: null });
  });
});
