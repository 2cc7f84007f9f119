/*
 * The Datadog Agent's TPS machinery, shared by the priority and score samplers (trace-agent spec
 * 6.3): per signature, a ring of 6 buckets of 5 s counts weighted traces. Whenever the 5-s bucket
 * changes, each signature's seen TPS (its busiest bucket / 5) is compared with its share of the
 * target TPS (shares unused by quiet signatures go to busy ones), giving rate = share / seen,
 * at most 1, rising by at most x1.2 per update. Signatures without traffic are forgotten.
 */

const BUCKETS = 6;
const BUCKET_MS = 5000;
const MAX_RATE_INCREASE = 1.2;

interface SignatureState {
  buckets: number[];
  rate: number;
}

export class TpsRates<K> {
  private readonly sigs = new Map<K, SignatureState>();
  private bucketId = -1;
  private defaultRate = 1;
  /** Bumped whenever a published rate changes. */
  version = 0;

  constructor(private targetTps: number, private readonly maxSignatures = 5000) {}

  setTarget(tps: number): void {
    this.targetTps = tps;
  }

  /** Counts `weight` traces for `sig` at `nowMs`; updates rates when a new bucket begins. */
  count(sig: K, weight: number, nowMs: number): void {
    this.advance(nowMs);
    let s = this.sigs.get(sig);
    if (s === undefined) {
      if (this.sigs.size >= this.maxSignatures) return;
      s = { buckets: new Array<number>(BUCKETS).fill(0), rate: this.sigs.size === 0 ? 1 : this.defaultRate };
      this.sigs.set(sig, s);
    }
    s.buckets[this.bucketId % BUCKETS]! += weight;
  }

  /** The current rate for a signature; the default rate for one never seen. */
  rate(sig: K): number {
    return this.sigs.get(sig)?.rate ?? this.defaultRate;
  }

  get size(): number {
    return this.sigs.size;
  }

  has(sig: K): boolean {
    return this.sigs.has(sig);
  }

  getDefaultRate(): number {
    return this.defaultRate;
  }

  entries(): IterableIterator<[K, { rate: number }]> {
    return this.sigs.entries();
  }

  /** Moves to the bucket of `nowMs`, clearing the buckets skipped and updating rates. */
  advance(nowMs: number): void {
    const id = Math.floor(nowMs / BUCKET_MS);
    if (id === this.bucketId) return;
    if (this.bucketId >= 0) {
      this.updateRates();
      const gap = Math.min(BUCKETS, id - this.bucketId);
      for (const s of this.sigs.values()) for (let i = 1; i <= gap; i++) s.buckets[(this.bucketId + i) % BUCKETS] = 0;
    }
    this.bucketId = id;
  }

  private updateRates(): void {
    const seen: [K, SignatureState, number][] = [];
    let allMax = 0;
    const totals = new Array<number>(BUCKETS).fill(0);
    for (const [k, s] of this.sigs) {
      let max = 0;
      let sum = 0;
      s.buckets.forEach((v, i) => { max = Math.max(max, v); sum += v; totals[i]! += v; });
      if (sum === 0) {
        this.sigs.delete(k);
        continue;
      }
      seen.push([k, s, max / (BUCKET_MS / 1000)]);
    }
    for (const t of totals) allMax = Math.max(allMax, t);
    // Quiet signatures first: what they do not use of their share goes to the rest.
    seen.sort((a, b) => a[2] - b[2]);
    let budget = this.targetTps;
    let lowest = 1;
    let changed = false;
    seen.forEach(([, s, tps], i) => {
      const share = budget / (seen.length - i);
      let rate = tps <= share ? 1 : share / tps;
      budget -= Math.min(tps, share);
      if (this.targetTps <= 0) rate = 0;
      if (rate > s.rate * MAX_RATE_INCREASE && s.rate > 0) rate = s.rate * MAX_RATE_INCREASE;
      rate = Math.min(1, rate);
      if (rate !== s.rate) changed = true;
      s.rate = rate;
      lowest = Math.min(lowest, rate);
    });
    const allTps = allMax / (BUCKET_MS / 1000);
    const def = this.targetTps <= 0 ? 0 : Math.min(lowest, allTps > 0 ? Math.min(1, this.targetTps / allTps) : 1);
    if (def !== this.defaultRate) changed = true;
    this.defaultRate = def;
    if (changed) this.version++;
  }
}

/** FNV-1a, 32 bits, over UTF-8 strings: the Datadog Agent's signature hash. */
export function fnv32a(...parts: string[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    const b = Buffer.from(p, 'utf8');
    for (let i = 0; i < b.length; i++) {
      h ^= b[i]!;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h >>> 0;
}

/** Deterministic keep-by-rate on the trace id (shared with the tracer). */
export { sampleByRate } from '@ecs-trace/protocol';
