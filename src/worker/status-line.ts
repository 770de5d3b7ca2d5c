import type { CommitInfo } from '../kafka/transactional-loop.js';
import type { Logger } from '../observability/logger.js';

interface RouteStatus {
  committed: number;
  quarantined: number;
  readonly lag: Map<number, number>;
}

/**
 * The sign of life of a running worker: every interval, one info line per route with the records committed
 * and quarantined since the last line and the lag (records still to read, summed over the partitions this
 * worker has committed in). Quiet routes are reported too, so a stalled route shows as zero, not as silence.
 */
export class StatusLine {
  private readonly routes = new Map<string, RouteStatus>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly logger: Logger, routeNames: readonly string[], private readonly intervalMs: number) {
    for (const name of routeNames) this.routes.set(name, { committed: 0, quarantined: 0, lag: new Map() });
  }

  start(): void {
    if (this.intervalMs <= 0) return;
    this.timer = setInterval(() => this.report(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  committed(route: string, info: CommitInfo): void {
    const status = this.routes.get(route);
    if (status === undefined) return;
    status.committed += info.records;
    status.lag.set(info.partition, info.lag);
  }

  quarantined(route: string, count: number): void {
    const status = this.routes.get(route);
    if (status !== undefined) status.quarantined += count;
  }

  report(): void {
    for (const [route, status] of this.routes) {
      let lag = 0;
      for (const partitionLag of status.lag.values()) lag += partitionLag;
      this.logger.info({ route, committed: status.committed, quarantined: status.quarantined, lag, seconds: this.intervalMs / 1000 }, 'status');
      status.committed = 0;
      status.quarantined = 0;
    }
  }
}
