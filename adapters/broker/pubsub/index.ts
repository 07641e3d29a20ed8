export { createPubSubTransport, type PubSubTransportOptions } from './transport.js';
export { subscriptionName, resourceName } from './names.js';
