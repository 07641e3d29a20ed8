export * from './status.js';
export {
  appendFacts,
  journalEntries,
  fact,
  type JournalEntries,
  type Fact,
  type TransactionRef,
  type AppendOptions,
} from './journal.js';
export * from './session-token.js';
