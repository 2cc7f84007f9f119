import { createHash } from 'node:crypto';
import type { Span } from '@ecs-trace/protocol';
import type { ApiErrorGroup } from './api-types.js';

/*
 * Error tracking: error spans grouped by a fingerprint of their service, error type, message with
 * its variable parts (numbers, ids, quoted values) made `?`, and the top frames of the stack with
 * their line numbers dropped, so one bug is one group however often and wherever it happens.
 */

const FRAMES = 3;

/** The message with what varies between occurrences of one error made `?`. */
export function normalizeMessage(message: string): string {
  return message
    .replace(/"[^"]*"|'[^']*'/g, '?')
    .replace(/\b[0-9a-f]{8,}(-[0-9a-f]{4,})*\b/gi, '?')
    .replace(/\b\d+(\.\d+)?\b/g, '?')
    .slice(0, 300);
}

/** The first frames of a stack, without line and column numbers. */
export function topFrames(stack: string): string[] {
  return stack.split('\n').map((l) => l.trim()).filter((l) => /^(at |File |\S+\.\w+\(|\S+:\d+)/.test(l))
    .slice(0, FRAMES).map((l) => l.replace(/:\d+(:\d+)?\)?$/, '').replace(/, line \d+/, ''));
}

const meta = (s: Span, ...keys: string[]) => keys.map((k) => s.meta[k]).find((v) => v !== undefined && v !== '') ?? '';

export class ErrorGroups {
  private readonly groups = new Map<string, ApiErrorGroup & { resources: Map<string, number> }>();

  /** An error span of the trace `traceId` (hex, as the API writes it); other spans are ignored. */
  add(span: Span, traceId: string): void {
    if (span.error === 0) return;
    const errorType = meta(span, 'error.type', 'error.kind');
    const message = meta(span, 'error.message', 'error.msg');
    const frames = topFrames(meta(span, 'error.stack'));
    const normalized = normalizeMessage(message);
    const id = createHash('sha256').update([span.service, errorType, normalized, ...frames].join('\u0000')).digest('hex').slice(0, 16);
    const at = Number(span.start / 1_000_000n);
    let g = this.groups.get(id);
    if (!g) {
      g = { id, service: span.service, resource: span.resource, errorType, message: normalized, count: 0, firstSeen: at, lastSeen: at, sampleTraceIds: [], resources: new Map() };
      this.groups.set(id, g);
    }
    g.count++;
    g.firstSeen = Math.min(g.firstSeen, at);
    g.lastSeen = Math.max(g.lastSeen, at);
    g.resources.set(span.resource, (g.resources.get(span.resource) ?? 0) + 1);
    if (g.sampleTraceIds.length < 5 && !g.sampleTraceIds.includes(traceId)) g.sampleTraceIds.push(traceId);
  }

  /** The groups, most frequent first; each with its most common resource. */
  list(): ApiErrorGroup[] {
    return [...this.groups.values()].map(({ resources, ...g }) => ({ ...g, resource: [...resources].sort((a, b) => b[1] - a[1])[0]?.[0] ?? g.resource }))
      .sort((a, b) => b.count - a.count || b.lastSeen - a.lastSeen);
  }
}
