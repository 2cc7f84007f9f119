import type { ClientStatsPayload } from '@ecs-trace/protocol';
import type { StatsService } from '../stats/index.js';
import type { Obfuscator } from './obfuscate/obfuscator.js';

/*
 * Stats a tracer computed itself go through what its spans would have gone through (trace-agent
 * spec 7.7): an SQL resource is obfuscated (`sql`, `cassandra`), a Redis one quantized (`redis`,
 * `valkey`), unless the tracer says it obfuscated them already (`Datadog-Obfuscation-Version`).
 * Otherwise `SELECT * FROM users WHERE id = 42` would be stored and served as sent.
 */

/** The group types whose resource the Datadog Agent obfuscates. */
const OBFUSCATED_TYPES = new Set(['sql', 'cassandra', 'redis', 'valkey']);

export interface ClientStatsOptions {
  /** The tracer's Datadog-Obfuscation-Version header; any value means it obfuscated already. */
  obfuscationVersion: string;
}

export class ClientStatsIntake {
  constructor(private readonly obfuscator: Obfuscator, private readonly stats: Pick<StatsService, 'addClientPayload'>) {}

  addClientPayload(payload: ClientStatsPayload, o: ClientStatsOptions = { obfuscationVersion: '' }): number {
    if (o.obfuscationVersion === '') {
      for (const bucket of payload.stats) {
        for (const g of bucket.stats) {
          if (g.resource === '' || !OBFUSCATED_TYPES.has(g.type)) continue;
          // The span's own rule, on a span that is only a resource and a type.
          const span = { service: g.service, name: g.name, resource: g.resource, type: g.type, traceId: 0n, spanId: 0n, parentId: 0n, start: 0n, duration: 0, error: 0, meta: {}, metrics: {} };
          this.obfuscator.span(span);
          g.resource = span.resource;
        }
      }
    }
    return this.stats.addClientPayload(payload);
  }
}
