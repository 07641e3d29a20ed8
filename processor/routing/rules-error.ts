/**
 * The one error routing configuration problems raise. It is a ConfigError (the process stops at start
 * with the message) and keeps every issue, each prefixed with the path of the field to fix.
 */
import { ConfigError } from '../../core/errors.js';

export class RoutingRulesError extends ConfigError {
  readonly issues: readonly string[];
  constructor(source: string, issues: readonly string[]) {
    super(
      `${source}: ${issues.length} problem${issues.length === 1 ? '' : 's'} to fix:\n` +
        issues.map((issue) => `  - ${issue}`).join('\n'),
    );
    this.issues = issues;
  }
}
