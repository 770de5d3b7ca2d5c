/** An error's name and message for logs (never a record value: kafkajs errors carry none). */
export function errorName(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : typeof err;
}
