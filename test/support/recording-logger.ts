import { currentLogContext } from '../../core/log-context.js';
import type { Logger } from '../../core/logger.js';

/**
 * Keeps every log line as JSON (level, message, then the flow's log context, the child's meta and the
 * line's meta, in the precedence the real logger's formats give them), so a test can search what was
 * logged — and prove what never is.
 */
export class RecordingLogger implements Logger {
  constructor(
    readonly lines: string[] = [],
    private readonly meta: Record<string, unknown> = {},
  ) {}
  private record(level: string, message: string, meta?: Record<string, unknown>): void {
    this.lines.push(JSON.stringify({ level, message, ...currentLogContext(), ...this.meta, ...meta }));
  }
  debug(message: string, meta?: Record<string, unknown>): void {
    this.record('debug', message, meta);
  }
  info(message: string, meta?: Record<string, unknown>): void {
    this.record('info', message, meta);
  }
  warn(message: string, meta?: Record<string, unknown>): void {
    this.record('warn', message, meta);
  }
  error(message: string, meta?: Record<string, unknown>): void {
    this.record('error', message, meta);
  }
  child(meta: Record<string, unknown>): Logger {
    return new RecordingLogger(this.lines, { ...this.meta, ...meta });
  }
  /** The parsed lines with this message. */
  find(message: string): Array<Record<string, unknown>> {
    return this.lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.message === message);
  }
}
