export * from './types.js';
export { EventBus, sleep, type EventBusOptions, type EventBusObserver } from './event-bus.js';
export { backoffDelay, DEFAULT_RETRY_POLICY } from './backoff.js';
export { deadLetterTopicFor, delayTierTopic, delaySchedulerGroup } from './topics.js';
export { DEFAULT_DELAY_TIERS_MS, chooseTier } from './delay-tiers.js';
export {
  DLQ_ARCHIVE_GROUP,
  DLQ_HEADER_PREFIX,
  REPLAY_GROUP_HEADER,
  readDeadLetter,
  deadLetterHeaders,
  type DeadLetterMetadata,
} from './dead-letter.js';
export { KeyedExecutor } from './keyed-executor.js';
export { OffsetTracker } from './offset-tracker.js';
export {
  PublishCoalescer,
  batchLength,
  estimateBytes,
  type BatchLimits,
  type CoalescerOptions,
  type QueuedPublish,
  type Submission,
} from './publish-coalescer.js';
