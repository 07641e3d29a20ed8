export { startProcessor, type ProcessorOptions, type RunningProcessor } from './service.js';
export type { ProcessorDeps, RoutingPort } from './ports.js';
export { processorMetrics, type ProcessorMetrics, type ParkedCallbacks } from './metrics.js';
