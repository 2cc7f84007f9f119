/*
 * Elasticsearch, OpenSearch and MongoDB query bodies (trace-agent spec 7.4): the structure and
 * key names stay, every leaf value becomes "?", except under keys kept on purpose.
 */

function scrub(v: unknown, keep: ReadonlySet<string>): unknown {
  if (Array.isArray(v)) return v.map((x) => scrub(x, keep));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = keep.has(k) ? x : scrub(x, keep);
    return out;
  }
  return '?';
}

/** The body obfuscated; one that is not JSON (a cut-off body, say) becomes "?". */
export function obfuscateJsonBody(body: string, keepValues: ReadonlySet<string> = new Set()): string {
  // Some clients send newline-delimited JSON (the Elasticsearch bulk API).
  const lines = body.split('\n').filter((l) => l.trim() !== '');
  try {
    return lines.map((l) => JSON.stringify(scrub(JSON.parse(l), keepValues))).join('\n');
  } catch {
    return '?';
  }
}
