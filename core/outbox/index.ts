export { enqueueEvents, OUTBOX_BUCKETS, OUTBOX_CHANNEL } from './writer.js';
export { OutboxRelay, type OutboxRelayOptions } from './relay.js';
export { outboxBacklog, type OutboxBacklog } from './backlog.js';
