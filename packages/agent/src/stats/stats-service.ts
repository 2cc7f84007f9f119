import type { DDSketch } from '@datadog/sketches-js';
import type { ClientStatsPayload, TraceChunk } from '@ecs-trace/protocol';
import type { Logger } from '../runtime/index.js';
import { mergeServiceStats, newSketch, type ServiceStatsRow, type StatsQuery, type StatsReader, type StatsRow, type StatsWriter } from '../store/index.js';
import { clientStatsRows } from './client-stats.js';
import { emfLines } from './emf.js';
import { RedMetrics } from './red-metrics.js';
import { Concentrator, type ChunkInfo } from './concentrator.js';

function copy(s: DDSketch): DDSketch {
  const c = newSketch();
  c.merge(s);
  return c;
}

/**
 * The stats stage: the concentrator fed before sampling, flushed to the store every 10 s (and on
 * shutdown), client-computed stats stored beside it, and queries that see both the stored
 * buckets and the ones still open.
 */
export class StatsService {
  private readonly concentrator: Concentrator;
  private readonly timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** What this process counted since it started, for /metrics/red (Prometheus). */
  private readonly red = new RedMetrics();

  /** Where EMF lines go (stdout), and their namespace, when asked for (ECS_TRACE_EMF_NAMESPACE). */
  private readonly emf: { namespace: string; write: (line: string) => void } | undefined;

  constructor(private readonly store: StatsWriter & StatsReader, private readonly log: Logger, private readonly defaultEnv: string, o: { flushIntervalMs?: number; now?: () => bigint; emf?: { namespace: string; write: (line: string) => void } } = {}) {
    this.now = o.now ?? (() => BigInt(Date.now()) * 1_000_000n);
    this.emf = o.emf;
    this.concentrator = new Concentrator(this.now());
    const interval = o.flushIntervalMs ?? 10_000;
    if (interval > 0) {
      this.timer = setInterval(() => { void this.flush(false); }, interval);
      this.timer.unref();
    }
  }

  private readonly now: () => bigint;

  add(chunk: TraceChunk, info: ChunkInfo): void {
    this.concentrator.add(chunk, info);
  }

  /** A /v0.6/stats payload; returns the number of groups that could not be used. */
  addClientPayload(payload: ClientStatsPayload): number {
    const { rows, skipped } = clientStatsRows(payload, this.defaultEnv);
    this.enqueue(rows);
    return skipped;
  }

  private enqueue(rows: StatsRow[]): void {
    if (rows.length === 0) return;
    this.red.add(rows);
    if (this.emf) for (const line of emfLines(rows, this.emf.namespace, Number(this.now() / 1_000_000n))) this.emf.write(`${JSON.stringify(line)}\n`);
    this.writing = this.writing.then(() => this.store.writeStats(rows)).catch(async (err: unknown) => {
      // One row the store refuses must not take the others with it: write them one by one and
      // drop only those that fail.
      let dropped = 0;
      for (const r of rows) {
        try {
          await this.store.writeStats([r]);
        } catch {
          dropped++;
        }
      }
      this.log.error({ err, rows: rows.length, dropped }, 'cannot store stats rows');
    });
  }

  flush(force: boolean): Promise<void> {
    this.enqueue(this.concentrator.flush(this.now(), force));
    return this.writing;
  }

  /** Stored rows (read through `reader`, the store itself unless given) and the buckets still open. */
  async query(q: StatsQuery, reader: StatsReader = this.store): Promise<StatsRow[]> {
    await this.writing;
    const stored = await reader.queryStats(q);
    const open = this.concentrator.pending().filter((r) => r.start >= q.start && r.start < q.end
      && (q.service === undefined || r.service === q.service) && (q.env === undefined || r.env === q.env) && (q.version === undefined || r.version === q.version)
      && (q.resource === undefined || r.resource === q.resource) && (q.name === undefined || r.name === q.name)
      && (!q.topLevel || r.topLevelHits > 0));
    return [...stored, ...open];
  }

  /** Per service, env, operation and version: stored top-level stats and the buckets still open. */
  async serviceStats(range: { start: bigint; end: bigint }, reader: StatsReader = this.store): Promise<ServiceStatsRow[]> {
    await this.writing;
    const stored = await reader.serviceStats(range);
    const open: ServiceStatsRow[] = this.concentrator.pending()
      .filter((r) => r.topLevelHits > 0 && r.start >= range.start && r.start < range.end)
      .map((r) => ({
        service: r.service, env: r.env, name: r.name, version: r.version, type: r.type, topLevelHits: r.topLevelHits, hits: r.hits,
        // Copies: the open buckets' sketches keep counting.
        errors: r.errors, totalDuration: r.totalDuration, okSketch: copy(r.okSketch), errorSketch: copy(r.errorSketch), lastSeen: r.start + r.durationNs, firstSeen: r.start,
      }));
    return mergeServiceStats([...stored, ...open]);
  }

  /** RED metrics since this process started, the buckets still open included (OpenMetrics text). */
  redMetrics(): string {
    return this.red.render(this.concentrator.pending());
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush(true);
  }
}
