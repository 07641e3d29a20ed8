/**
 * Start/stop bookkeeping for a process: resources register a release function as they open, and
 * `stop()` releases them in reverse order (stop consuming before closing the pool the handlers use).
 * Memoised: calling stop twice waits for the same shutdown.
 */
import type { Logger } from './logger.js';

export type Releaser = { name: string; release: () => Promise<void> };

export class Lifecycle {
  private readonly releasers: Releaser[] = [];
  private stopping: Promise<void> | undefined;
  private draining = false;

  constructor(private readonly logger: Logger) {}

  /** True once shutdown began; readiness probes report it so traffic moves elsewhere. */
  get isDraining(): boolean {
    return this.draining;
  }

  /** Registers something to release at stop; released in reverse registration order. */
  onStop(name: string, release: () => Promise<void>): void {
    this.releasers.push({ name, release });
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.draining = true;
      for (const { name, release } of [...this.releasers].reverse()) {
        try {
          await release();
          this.logger.debug('released', { resource: name });
        } catch (error) {
          this.logger.error('release failed', { resource: name, error: (error as Error).message });
        }
      }
    })();
    return this.stopping;
  }

  /** SIGTERM/SIGINT drain gracefully; a second signal exits at once. */
  handleSignals(onStopped: (code: number) => void = (code) => process.exit(code)): void {
    let signalled = false;
    const handler = (signal: NodeJS.Signals) => {
      if (signalled) {
        this.logger.warn('second signal: exiting without draining', { signal });
        onStopped(1);
        return;
      }
      signalled = true;
      this.logger.info('shutting down', { signal });
      this.stop().then(
        () => onStopped(0),
        () => onStopped(1),
      );
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  }
}
