import { describe, expect, it } from 'vitest';
import { agentMetrics } from './metrics.js';

function value(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`${name} not in /metrics`);
  return Number(line.split(' ')[1]);
}

describe('/metrics', () => {
  it("says the process's memory and CPU as they are at each scrape", () => {
    const m = agentMetrics();
    const first = m.registry.render();
    expect(value(first, 'process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
    expect(value(first, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(value(first, 'nodejs_heap_size_used_bytes')).toBeLessThanOrEqual(value(first, 'nodejs_heap_size_total_bytes'));
    expect(value(first, 'process_start_time_seconds')).toBeLessThanOrEqual(Date.now() / 1000);
    expect(value(first, 'process_start_time_seconds')).toBeGreaterThan(Date.now() / 1000 - process.uptime() - 2);
    // Work between two scrapes shows as CPU seconds, and what it holds as heap in use (an array
    // of 1,000 small integers takes 8 KB; half that is asked, whatever the GC did meanwhile).
    const held: number[][] = [];
    const until = Date.now() + 50;
    while (Date.now() < until) held.push(new Array<number>(1000).fill(1));
    const second = m.registry.render();
    expect(value(second, 'process_cpu_seconds_total')).toBeGreaterThan(value(first, 'process_cpu_seconds_total'));
    expect(value(second, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(held.length * 4000);
  });
});
