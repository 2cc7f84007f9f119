import { decodeJsonTraces, decodeV04, decodeV05, type TraceApiVersion, type TraceChunk } from '@ecs-trace/protocol';

/** v0.5 is always msgpack; v0.3/v0.4 follow Content-Type as the agent reads it. */
export function decodeTraces(version: TraceApiVersion, contentType: string, body: Buffer): TraceChunk[] {
  if (version === 'v0.5') return decodeV05(body);
  const media = contentType.split(';')[0]!.trim().toLowerCase();
  if (media === 'application/msgpack') return decodeV04(body);
  if (media === 'application/json' || media === 'text/json' || media === '') return decodeJsonTraces(body);
  try {
    return decodeJsonTraces(body);
  } catch {
    return decodeV04(body);
  }
}
