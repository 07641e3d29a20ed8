/**
 * BROKER_NAMESPACE: several platforms (or test runs) on one broker never see each other's topics,
 * groups or offsets, while the platform's code keeps its plain names.
 */
import { expect } from 'chai';
import type { DeliveredMessage, DeliveryHandler, Transport } from '../../core/broker/index.js';
import { namespacedTransport } from '../../core/broker/namespaced-transport.js';
import { loadConfig } from '../../core/config/index.js';
import { ConfigError } from '../../core/errors.js';

function recordingTransport() {
  const calls: string[] = [];
  const handlers: DeliveryHandler[] = [];
  const transport: Transport = {
    kind: 'kafka',
    connect: async () => void calls.push('connect'),
    ensureTopics: async (topics) => void calls.push(`ensureTopics ${topics.join(',')}`),
    ensureSubscription: async (topic, group) => void calls.push(`ensureSubscription ${topic} ${group}`),
    publish: async (topic, messages) => void calls.push(`publish ${topic} ${messages.length}`),
    consume: async (spec, handler) => {
      calls.push(`consume ${spec.topic} ${spec.group} ${spec.concurrency}`);
      handlers.push(handler);
      return { stop: async () => undefined };
    },
    close: async () => void calls.push('close'),
    backlog: async (topic, group) => (calls.push(`backlog ${topic} ${group}`), 7),
  };
  return { transport, calls, handlers };
}

describe('namespaced transport', () => {
  it('prefixes every topic and group it passes to the broker', async () => {
    const { transport, calls } = recordingTransport();
    const ns = namespacedTransport(transport, 'staging-2');
    await ns.connect();
    await ns.ensureTopics(['payments.events.v1', 'payments.events.v1.dlq.processor']);
    await ns.ensureSubscription('payments.events.v1', 'processor');
    await ns.publish('payments.events.v1', [{ key: 'tx', value: Buffer.from('x') }]);
    await ns.consume(
      { topic: 'payments.events.v1', group: 'processor', concurrency: 4 },
      async () => undefined,
    );
    expect(await ns.backlog!('payments.events.v1', 'processor')).to.equal(7);
    await ns.close();
    expect(calls).to.deep.equal([
      'connect',
      'ensureTopics staging-2.payments.events.v1,staging-2.payments.events.v1.dlq.processor',
      'ensureSubscription staging-2.payments.events.v1 staging-2.processor',
      'publish staging-2.payments.events.v1 1',
      'consume staging-2.payments.events.v1 staging-2.processor 4',
      'backlog staging-2.payments.events.v1 staging-2.processor',
      'close',
    ]);
  });

  it('hands consumers the plain topic name', async () => {
    const { transport, handlers } = recordingTransport();
    const seen: string[] = [];
    await namespacedTransport(transport, 'run-1').consume(
      { topic: 'payments.events.v1', group: 'processor', concurrency: 1 },
      async (message) => void seen.push(message.topic),
    );
    const delivered: DeliveredMessage = {
      topic: 'run-1.payments.events.v1',
      key: 'tx',
      value: Buffer.from('x'),
      headers: {},
      messageId: '0:1',
      partition: 0,
      offset: '1',
      publishedAt: new Date(),
    };
    await handlers[0]!(delivered);
    expect(seen).to.deep.equal(['payments.events.v1']);
  });

  it('is configured by BROKER_NAMESPACE, validated up front', () => {
    const env = { BROKER: 'kafka', KAFKA_BROKERS: '127.0.0.1:9092' };
    expect(loadConfig(env).broker.namespace).to.equal(undefined);
    expect(loadConfig({ ...env, BROKER_NAMESPACE: 'tenant-a' }).broker.namespace).to.equal('tenant-a');
    expect(() => loadConfig({ ...env, BROKER_NAMESPACE: 'Tenant A' })).to.throw(
      ConfigError,
      /^BROKER_NAMESPACE must be/,
    );
  });
});
