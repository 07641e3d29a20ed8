import { logLevel, type logCreator } from 'kafkajs';
import type { Logger } from '../../../core/logger.js';

/** Routes kafkajs logs (warn and above) to our logger; kafkajs never logs message values. */
export function kafkaLogCreator(logger: Logger): logCreator {
  return () =>
    ({ level, log }) => {
      const { message, ...extra } = log;
      const meta = {
        namespace: log.namespace,
        error: extra.error,
        broker: extra.broker,
        groupId: extra.groupId,
      };
      if (level === logLevel.ERROR) logger.error(`kafka: ${message}`, meta);
      else if (level === logLevel.WARN) logger.warn(`kafka: ${message}`, meta);
    };
}
