/**
 * What a store decoded of recent payloads (their dictionaries, their chunk names), for reads that
 * come back to the same payloads, the oldest forgotten past `size`. A read-only connection keeps
 * none (`size` 0): the writer on another thread may delete payloads and reuse their ids.
 */
export class PayloadCache<T> {
  private readonly entries = new Map<bigint, T>();

  constructor(private readonly size: number) {}

  get(payload: bigint, load: () => T): T {
    let v = this.entries.get(payload);
    if (v === undefined) {
      v = load();
      if (this.size === 0) return v;
      if (this.entries.size >= this.size) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(payload, v);
    }
    return v;
  }

  /** Forgets payloads with id <= upTo (deleted: their ids may be used again). */
  forgetUpTo(upTo: bigint): void {
    for (const k of this.entries.keys()) if (k <= upTo) this.entries.delete(k);
  }
}
