/**
 * Bytes of request bodies held in memory at once, across every connection. A body takes its
 * bytes as they arrive and gives them back once its payload is processed; a chunk that does not
 * fit waits (its socket paused) until bytes come free or its deadline passes. A slow sender so
 * holds only what it has sent, never a decoder, and memory stays bounded however many send.
 */
export class ByteBudget {
  private used = 0;
  private readonly waiters: { n: number; grant: () => void }[] = [];

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  tryTake(n: number): boolean {
    // A single body larger than the whole budget still gets in when nothing else is held.
    if (this.used + n > this.limit && this.used > 0) return false;
    if (this.waiters.length > 0) return false;
    this.used += n;
    return true;
  }

  /** Resolves true once `n` bytes are taken, false after `timeoutMs` without them. */
  take(n: number, timeoutMs: number): Promise<boolean> {
    if (this.tryTake(n)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        n,
        grant: () => { clearTimeout(timer); resolve(true); },
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(false);
        this.wake();
      }, Math.max(0, timeoutMs));
      this.waiters.push(waiter);
    });
  }

  release(n: number): void {
    this.used -= n;
    this.wake();
  }

  private wake(): void {
    while (this.waiters.length > 0) {
      const next = this.waiters[0]!;
      if (this.used + next.n > this.limit && this.used > 0) return;
      this.waiters.shift();
      this.used += next.n;
      next.grant();
    }
  }
}
