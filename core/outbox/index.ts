export {
  enqueueEvents,
  enqueueMessages,
  eventMessages,
  outboxRows,
  OUTBOX_BUCKETS,
  OUTBOX_CHANNEL,
  type OutboxMessage,
} from './writer.js';
export { OutboxRelay, type OutboxRelayOptions } from './relay.js';
export { outboxBacklog, type OutboxBacklog } from './backlog.js';
