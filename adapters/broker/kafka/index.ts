export { createKafkaTransport, type KafkaTransportOptions } from './transport.js';
