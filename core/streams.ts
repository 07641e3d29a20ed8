/**
 * Topics of the platform's streams. Business events (the Avro catalog) all go to one topic keyed by
 * transaction id, consumed by the services and by the data team; see docs/data-stream.md.
 */
export const BUSINESS_EVENTS_TOPIC = 'payments.events.v1';

/** Headers every business event carries, so consumers can route without decoding the body. */
export const EVENT_HEADERS = {
  eventId: 'event-id',
  eventType: 'event-type',
  schemaVersion: 'schema-version',
  contentType: 'content-type',
} as const;

/** Content type of a business event body: Avro single-object encoding. */
export const EVENT_CONTENT_TYPE = 'application/vnd.apache.avro+binary; framing=single-object';

/**
 * Consumer groups of the platform's own services (declared up front so Pub/Sub keeps their messages).
 * One group per topic: on Kafka the members of one group share ONE partition assignment, so a group
 * whose consumers subscribe different topics hands each of them partitions it never reads.
 */
export const CONSUMER_GROUPS = {
  processor: 'processor',
  /** The processor on the Provider Gateway's callback topic. */
  processorCallbacks: 'processor-callbacks',
  webhookDispatcher: 'webhook-dispatcher',
} as const;
