/**
 * A counting semaphore whose waiters give up after a timeout: the receiver's decoder slots.
 * Waiters are bounded by the connection limit, so the queue cannot grow without bound.
 */
export class Semaphore {
  private free: number;
  private readonly waiters: { grant: () => void; timer: NodeJS.Timeout }[] = [];

  constructor(readonly size: number) {
    this.free = size;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  get busy(): number {
    return this.size - this.free;
  }

  /** Resolves true with a slot, or false when none came free within `timeoutMs`. */
  acquire(timeoutMs: number): Promise<boolean> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const waiter = {
        grant: () => { clearTimeout(waiter.timer); resolve(true); },
        timer: setTimeout(() => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          resolve(false);
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next !== undefined) next.grant();
    else this.free++;
  }
}
