import { destination as toFd, pino, type DestinationStream, type LevelWithSilent, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * The process logger. We log events (what happened, to which topic/partition/offset), never values.
 * As a second line of defence, properties that could carry record data are censored even if some code
 * path passes them by mistake.
 */
export const REDACTED_LOG_PATHS = [
  'value', 'key', 'record', 'message', 'headers', 'raw', 'masked', 'payload', 'body',
  '*.value', '*.key', '*.record', '*.headers', '*.raw', '*.masked', '*.payload', '*.body',
];

export function createLogger(level: LevelWithSilent = 'info', destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: 'masker' },
    redact: { paths: REDACTED_LOG_PATHS, censor: '[not logged]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination === undefined ? pino(options, toFd(2)) : pino(options, destination);
}
