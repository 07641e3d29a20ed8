export {
  FailedEventStore,
  type FailedEvent,
  type FailedEventFilter,
  type FailedEventStatus,
} from './store.js';
export { deadLetterRecorder } from './recorder.js';
export { replayFailedEvents, type ReplayOptions, type ReplayOutcome } from './replay.js';
