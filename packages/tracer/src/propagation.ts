import { SpanContext, TraceState } from './span.js';
import { hex16 } from './ids.js';

/*
 * Trace context across processes, both ways, in Datadog's headers and W3C Trace Context, as
 * dd-trace does by default (`datadog,tracecontext`): Datadog's win when both are there, and other
 * vendors' tracestate members pass through.
 */

export type Carrier = Record<string, string | string[] | undefined>;

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

export function inject(ctx: SpanContext, carrier: Record<string, string>): void {
  const t = ctx.trace;
  carrier['x-datadog-trace-id'] = ctx.traceId.toString(10);
  carrier['x-datadog-parent-id'] = ctx.spanId.toString(10);
  if (t.priority !== undefined) carrier['x-datadog-sampling-priority'] = String(t.priority);
  if (t.origin) carrier['x-datadog-origin'] = t.origin;
  const tags = Object.entries(t.tags).filter(([k]) => k.startsWith('_dd.p.')).map(([k, v]) => `${k}=${v}`).join(',');
  if (tags) carrier['x-datadog-tags'] = tags;
  const high = t.tags['_dd.p.tid'] ?? '0000000000000000';
  const sampled = t.priority !== undefined && t.priority > 0 ? '01' : '00';
  carrier['traceparent'] = `00-${high}${hex16(ctx.traceId)}-${hex16(ctx.spanId)}-${sampled}`;
  const dd = [`s:${t.priority ?? 0}`, `p:${hex16(ctx.spanId)}`];
  if (t.origin) dd.push(`o:${t.origin.replace(/[,;=~]/g, '_')}`);
  for (const [k, v] of Object.entries(t.tags)) if (k.startsWith('_dd.p.')) dd.push(`t.${k.slice(6)}:${v.replace(/=/g, '~')}`);
  carrier['tracestate'] = [`dd=${dd.join(';')}`, ...t.tracestate.split(',').map((s) => s.trim()).filter((s) => s && !s.startsWith('dd='))].slice(0, 32).join(',');
}

function fromDatadog(c: Carrier): SpanContext | undefined {
  const tid = first(c['x-datadog-trace-id']);
  const pid = first(c['x-datadog-parent-id']);
  if (!tid || !/^\d+$/.test(tid) || !pid || !/^\d+$/.test(pid)) return undefined;
  const traceId = BigInt.asUintN(64, BigInt(tid));
  if (traceId === 0n) return undefined;
  const state = new TraceState();
  const p = Number(first(c['x-datadog-sampling-priority']));
  if (Number.isInteger(p)) state.priority = p;
  state.origin = first(c['x-datadog-origin']) ?? '';
  for (const kv of (first(c['x-datadog-tags']) ?? '').split(',')) {
    const i = kv.indexOf('=');
    const k = kv.slice(0, i).trim();
    if (i > 0 && k.startsWith('_dd.p.')) state.tags[k] = kv.slice(i + 1).trim();
  }
  if (state.tags['_dd.p.tid'] !== undefined && !/^[0-9a-f]{16}$/.test(state.tags['_dd.p.tid'])) delete state.tags['_dd.p.tid'];
  return new SpanContext(traceId, BigInt.asUintN(64, BigInt(pid)), 0n, state);
}

function fromW3c(c: Carrier): SpanContext | undefined {
  const tp = first(c['traceparent'])?.trim();
  const m = tp ? /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})/.exec(tp) : null;
  if (!m || m[1] === 'ff' || /^0+$/.test(m[2]!) || /^0+$/.test(m[3]!)) return undefined;
  const state = new TraceState();
  const sampled = (parseInt(m[4]!, 16) & 1) === 1;
  const ts = first(c['tracestate']) ?? '';
  state.tracestate = ts;
  const dd = ts.split(',').map((s) => s.trim()).find((s) => s.startsWith('dd='));
  let priority: number | undefined;
  for (const part of dd ? dd.slice(3).split(';') : []) {
    const i = part.indexOf(':');
    const k = part.slice(0, i);
    const v = part.slice(i + 1);
    if (k === 's' && /^-?\d+$/.test(v)) priority = Number(v);
    else if (k === 'o') state.origin = v;
    else if (k.startsWith('t.')) state.tags[`_dd.p.${k.slice(2)}`] = v.replace(/~/g, '=');
  }
  // The sampled flag wins over a dd priority that disagrees with it.
  if (priority === undefined || (priority > 0) !== sampled) priority = sampled ? 1 : 0;
  state.priority = priority;
  const high = m[2]!.slice(0, 16);
  if (high !== '0000000000000000') state.tags['_dd.p.tid'] = high;
  return new SpanContext(BigInt('0x' + m[2]!.slice(16)), BigInt('0x' + m[3]!), 0n, state);
}

/** The remote parent in these headers (keys lower-cased, as Node gives them), or undefined. */
export function extract(carrier: Carrier): SpanContext | undefined {
  const dd = fromDatadog(carrier);
  const w3c = fromW3c(carrier);
  if (dd && w3c && dd.traceId === w3c.traceId) {
    dd.trace.tracestate = w3c.trace.tracestate;
    dd.trace.tags['_dd.p.tid'] ??= w3c.trace.tags['_dd.p.tid']!;
    if (dd.trace.tags['_dd.p.tid'] === undefined) delete dd.trace.tags['_dd.p.tid'];
  }
  const ctx = dd ?? w3c;
  if (ctx) ctx.remote = true;
  return ctx;
}
