/*
 * Load shedding before a body is read, as the Datadog Agent sheds before it decodes: a payload
 * that arrives while the payloads already in line would keep it from a decoder past the decoder
 * timeout is refused at once, without reading its body, instead of being read and then timing
 * out (reading is most of what an overloaded agent spends its time on). The wait is estimated
 * from how long payloads have held a decoder lately.
 */
export class Admission {
  /** Payloads admitted that do not hold a decoder yet (their bodies being read, or waiting). */
  private queued = 0;
  /** How long a payload holds a decoder, smoothed (ms). */
  private holdMs = 0;

  constructor(private readonly decoders: number, private readonly timeoutMs: number) {}

  /** Whether a payload arriving now may join the line; when true, `leave()` once it is out of it. */
  admit(): boolean {
    if (this.queued >= this.decoders && (this.queued / this.decoders) * this.holdMs > this.timeoutMs) return false;
    this.queued++;
    return true;
  }

  /** The payload has a decoder now, or gave up its place. */
  leave(): void {
    this.queued--;
  }

  /** A payload held a decoder this long. */
  held(ms: number): void {
    this.holdMs = this.holdMs === 0 ? ms : this.holdMs * 0.9 + ms * 0.1;
  }
}
