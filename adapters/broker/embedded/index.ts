export { createEmbeddedTransport, type EmbeddedTransportOptions } from './transport.js';
export { partitionFor } from './partitioner.js';
