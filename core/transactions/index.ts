export * from './status.js';
export { appendFacts, fact, type Fact, type TransactionRef, type AppendOptions } from './journal.js';
export * from './session-token.js';
