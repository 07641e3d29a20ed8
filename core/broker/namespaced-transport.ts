/**
 * Several platforms on one broker: every topic and consumer-group name a Transport sees is prefixed
 * with a namespace (`BROKER_NAMESPACE`), so a staging deployment, a second tenant or a test run never
 * reads another one's messages or offsets. Applied under the EventBus, so retry tiers, dead-letter
 * topics and delay-scheduler groups are namespaced too, while the platform's code, its failed_events
 * rows and dead-letter headers keep the plain names (a replay works the same in every namespace).
 */
import type { ConsumeSpec, DeliveredMessage, Transport } from './types.js';

/** Lower-case letters, digits and dashes: valid inside Kafka topic, group and Pub/Sub resource names. */
export const NAMESPACE_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;

export function namespacedName(namespace: string, name: string): string {
  return `${namespace}.${name}`;
}

export function namespacedTransport(inner: Transport, namespace: string): Transport {
  if (!NAMESPACE_PATTERN.test(namespace)) throw new Error(`invalid broker namespace "${namespace}"`);
  const prefix = `${namespace}.`;
  const name = (plain: string) => prefix + plain;
  const plain = (topic: string) => (topic.startsWith(prefix) ? topic.slice(prefix.length) : topic);
  const transport: Transport = {
    kind: inner.kind,
    connect: () => inner.connect(),
    ensureTopics: (topics) => inner.ensureTopics(topics.map(name)),
    ensureSubscription: (topic, group) => inner.ensureSubscription(name(topic), name(group)),
    publish: (topic, messages) => inner.publish(name(topic), messages),
    consume: (spec: ConsumeSpec, handler) =>
      inner.consume({ ...spec, topic: name(spec.topic), group: name(spec.group) }, (message) =>
        handler({ ...message, topic: plain(message.topic) } satisfies DeliveredMessage),
      ),
    close: () => inner.close(),
  };
  const backlog = inner.backlog?.bind(inner);
  if (backlog) transport.backlog = (topic, group) => backlog(name(topic), name(group));
  return transport;
}
