/*
 * How many wrong tokens an address may try, and how many sign-ins everyone together may make: a
 * token bucket each. An address that has spent its bucket on wrong tokens is refused (429) for
 * anything that presents a token until the bucket refills, whether or not the next one is right,
 * so a guess learns nothing. Sign-ins are few, so all of them share a bucket of their own, which
 * bounds guessing from many addresses; a session already signed in is not affected.
 */

export interface LimiterOptions {
  /** Wrong tokens an address may present in a burst, and per minute after it. */
  perAddress?: number;
  /** Sign-in attempts, from every address together, in a burst and per minute after it. */
  signIns?: number;
  /** Addresses remembered at once; the oldest are forgotten first. */
  maxAddresses?: number;
  now?: () => number;
}

class Bucket {
  constructor(private tokens: number, private at: number) {}

  /** Tokens come back at `perMinute`, up to `size`. */
  private refill(size: number, perMinute: number, now: number): void {
    this.tokens = Math.min(size, this.tokens + ((now - this.at) * perMinute) / 60_000);
    this.at = now;
  }

  /** Seconds until one token is there; 0: now. */
  waitS(size: number, perMinute: number, now: number): number {
    this.refill(size, perMinute, now);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 60) / perMinute);
  }

  take(size: number, perMinute: number, now: number): void {
    this.refill(size, perMinute, now);
    this.tokens = Math.max(0, this.tokens - 1);
  }

  full(size: number, perMinute: number, now: number): boolean {
    this.refill(size, perMinute, now);
    return this.tokens >= size;
  }
}

export class AttemptLimiter {
  private readonly perAddress: number;
  private readonly signIns: number;
  private readonly maxAddresses: number;
  private readonly now: () => number;
  private readonly addresses = new Map<string, Bucket>();
  private readonly global: Bucket;

  constructor(o: LimiterOptions = {}) {
    this.perAddress = o.perAddress ?? 10;
    this.signIns = o.signIns ?? 60;
    this.maxAddresses = o.maxAddresses ?? 10_000;
    this.now = o.now ?? Date.now;
    this.global = new Bucket(this.signIns, this.now());
  }

  /** Seconds this address must wait before presenting a token again; 0: it may now. */
  blockedFor(address: string): number {
    const b = this.addresses.get(address);
    if (b === undefined) return 0;
    const now = this.now();
    if (b.full(this.perAddress, this.perAddress, now)) {
      this.addresses.delete(address);
      return 0;
    }
    return b.waitS(this.perAddress, this.perAddress, now);
  }

  /** Counts a wrong token from this address. */
  failed(address: string): void {
    const now = this.now();
    let b = this.addresses.get(address);
    if (b === undefined) {
      if (this.addresses.size >= this.maxAddresses) this.addresses.delete(this.addresses.keys().next().value as string);
      b = new Bucket(this.perAddress, now);
      this.addresses.set(address, b);
    }
    b.take(this.perAddress, this.perAddress, now);
  }

  /** Takes a sign-in from the shared bucket: 0 when there was one, else the seconds to wait. */
  signIn(): number {
    const now = this.now();
    const wait = this.global.waitS(this.signIns, this.signIns, now);
    if (wait === 0) this.global.take(this.signIns, this.signIns, now);
    return wait;
  }
}
