import { describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/observability/logger.js';
import { StatusLine } from '../../../src/worker/status-line.js';

function capture(): { logger: Logger; lines: { fields: Record<string, unknown>; message: string }[] } {
  const lines: { fields: Record<string, unknown>; message: string }[] = [];
  const logger = { info: (fields: Record<string, unknown>, message: string) => void lines.push({ fields, message }) } as unknown as Logger;
  return { logger, lines };
}

describe('status line: a running worker says what it did', () => {
  it('reports per route the records committed and quarantined since the last line, and the lag, quiet routes too', () => {
    const { logger, lines } = capture();
    const status = new StatusLine(logger, ['customers', 'orders'], 30_000);
    status.committed('customers', { topic: 't', partition: 0, records: 500, lastOffset: '499', seconds: 0.1, lag: 1200 });
    status.committed('customers', { topic: 't', partition: 1, records: 300, lastOffset: '299', seconds: 0.1, lag: 30 });
    status.committed('customers', { topic: 't', partition: 0, records: 200, lastOffset: '699', seconds: 0.1, lag: 1000 });
    status.quarantined('customers', 2);
    status.report();
    expect(lines).toEqual([
      { fields: { route: 'customers', committed: 1000, quarantined: 2, lag: 1030, seconds: 30 }, message: 'status' },
      { fields: { route: 'orders', committed: 0, quarantined: 0, lag: 0, seconds: 30 }, message: 'status' },
    ]);
    status.report();
    expect(lines[2]).toEqual({ fields: { route: 'customers', committed: 0, quarantined: 0, lag: 1030, seconds: 30 }, message: 'status' });
  });
});
