import { MsgpackWriter } from '@ecs-trace/protocol';
import { encodeSketch } from '../store/sketch-codec.js';
import type { StatsRow } from '../store/index.js';

/*
 * The trace-agent's StatsPayload for the stats intake, in msgpack with the Go field names as keys
 * (pbgo/stats_gen.go): one ClientStatsPayload per env and version, buckets by start, grouped stats
 * with their DDSketch summaries. Client-computed rows go in payloads of their own, flagged.
 */

export interface StatsPayloadInfo {
  hostname: string;
  env: string;
  agentVersion: string;
}

function groupBy<T>(xs: T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = m.get(k);
    if (list) list.push(x);
    else m.set(k, [x]);
  }
  return m;
}

function str(w: MsgpackWriter, k: string, v: string): void {
  w.string(k);
  w.string(v);
}

export function encodeStatsPayload(info: StatsPayloadInfo, rows: StatsRow[], clientComputed: boolean): Buffer {
  const w = new MsgpackWriter();
  const payloads = groupBy(rows, (r) => `${r.env}\u0000${r.version}`);
  w.mapHeader(5);
  str(w, 'AgentHostname', info.hostname);
  str(w, 'AgentEnv', info.env);
  w.string('Stats');
  w.arrayHeader(payloads.size);
  for (const group of payloads.values()) {
    const first = group[0]!;
    const buckets = groupBy(group, (r) => `${r.start}/${r.durationNs}`);
    w.mapHeader(5);
    str(w, 'Hostname', info.hostname);
    str(w, 'Env', first.env);
    str(w, 'Version', first.version);
    str(w, 'AgentAggregation', 'distributions');
    w.string('Stats');
    w.arrayHeader(buckets.size);
    for (const bucket of buckets.values()) {
      const b = bucket[0]!;
      w.mapHeader(4);
      w.string('Start');
      w.uint64(b.start);
      w.string('Duration');
      w.uint64(b.durationNs);
      w.string('AgentTimeShift');
      w.int(0);
      w.string('Stats');
      w.arrayHeader(bucket.length);
      for (const r of bucket) {
        w.mapHeader(16);
        str(w, 'Service', r.service);
        str(w, 'Name', r.name);
        str(w, 'Resource', r.resource);
        w.string('HTTPStatusCode');
        w.int(r.httpStatusCode);
        str(w, 'Type', r.type);
        str(w, 'DBType', '');
        w.string('Hits');
        w.uint64(BigInt(Math.round(r.hits)));
        w.string('Errors');
        w.uint64(BigInt(Math.round(r.errors)));
        w.string('Duration');
        w.uint64(BigInt(Math.round(r.totalDuration)));
        w.string('OkSummary');
        w.bin(encodeSketch(r.okSketch));
        w.string('ErrorSummary');
        w.bin(encodeSketch(r.errorSketch));
        w.string('Synthetics');
        w.bool(r.synthetics);
        w.string('TopLevelHits');
        w.uint64(BigInt(Math.round(r.topLevelHits)));
        str(w, 'SpanKind', r.spanKind);
        w.string('PeerTags');
        w.arrayHeader(r.peerTags.length);
        for (const t of r.peerTags) w.string(t);
        w.string('IsTraceRoot');
        w.int(r.isTraceRoot ? 1 : 2);
      }
    }
  }
  str(w, 'AgentVersion', info.agentVersion);
  w.string('ClientComputed');
  w.bool(clientComputed);
  return w.finish();
}
