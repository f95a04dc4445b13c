// A trailing-edge throttle: however often `schedule()` is called, the task runs at most once per
// interval, and always once more after the last call, so the final state is always drawn.
// Runs are never overlapped (an async task finishes before the next starts). No vscode import.

export class Throttle {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private pending = false;
  private lastRun = -Infinity;
  private disposed = false;

  constructor(
    private readonly task: () => Promise<void> | void,
    private readonly intervalMs: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  schedule(): void {
    if (this.disposed) return;
    this.pending = true;
    if (this.timer || this.running) return;
    const wait = Math.max(0, this.lastRun + this.intervalMs - this.now());
    this.timer = setTimeout(() => void this.run(), wait);
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    if (this.disposed || !this.pending) return;
    this.pending = false;
    this.running = true;
    this.lastRun = this.now();
    try {
      await this.task();
    } catch {
      // The task reports its own errors; a failed refresh must not stop later ones.
    } finally {
      this.running = false;
    }
    if (this.pending) this.schedule();
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
