export { createKafkaTransport } from './transport.js';
export type { KafkaTransportOptions } from './options.js';
