/**
 * Names of the technical topics derived from a business topic. Characters are limited to
 * `[a-z0-9.-]` plus what callers pass in, which both Kafka and Pub/Sub accept.
 */

/** Where a consumer group's poison messages from `topic` go. */
export function deadLetterTopicFor(topic: string, group: string): string {
  return `${topic}.dlq.${group}`;
}

/** A retry tier of `topic`: messages wait there for `tierMs` before moving on. */
export function delayTierTopic(topic: string, tierMs: number): string {
  return `${topic}.delay.${tierLabel(tierMs)}`;
}

/** The group that moves due messages out of one tier topic. Shared by every process subscribed to the target. */
export function delaySchedulerGroup(tierTopic: string): string {
  return `${tierTopic}.scheduler`;
}

export function tierLabel(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}
