/**
 * Polls the query API until trace `traceId` has at least `minSpans` spans (tracers flush on their
 * own schedule); throws, saying what it last saw, when that does not happen within `timeoutMs`.
 */
export async function waitForTrace<T extends { spans: unknown[] }>(apiUrl: string, traceId: string, minSpans: number, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${apiUrl}/api/v1/traces/${traceId}`);
    const seen = res.status === 200 ? ((await res.json()) as T) : undefined;
    if (seen && seen.spans.length >= minSpans) return seen;
    if (Date.now() > deadline) {
      throw new Error(`trace ${traceId} never reached ${minSpans} spans (last: ${seen ? `${seen.spans.length} spans` : `status ${res.status}`})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
