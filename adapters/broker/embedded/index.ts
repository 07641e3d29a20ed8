export { createEmbeddedTransport, type EmbeddedTransportOptions } from './transport.js';
export { partitionFor } from '../../../core/partitioning.js';
