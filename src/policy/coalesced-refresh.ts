/**
 * One catch-up pass at a time for a watcher that refreshes on notices AND on a poll: a call while a pass is
 * in flight returns that pass and asks for one more after it (a notice that came mid-pass is not lost).
 * Rejects as the pass does (an unreachable store).
 */
export class CoalescedRefresh {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly pass: () => Promise<void>, private readonly stopped: () => boolean) {}

  run(): Promise<void> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    const loop = async (): Promise<void> => {
      do {
        this.again = false;
        await this.pass();
      } while (this.again && !this.stopped());
    };
    this.running = loop().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Resolves when no pass is in flight (its outcome ignored): what stopping waits for. */
  async settled(): Promise<void> {
    await this.running?.catch(() => undefined);
  }
}
