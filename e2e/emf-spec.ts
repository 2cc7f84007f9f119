/* CloudWatch's Embedded Metric Format, as its specification states it, checked on a line. */

/**
 * The specification's rules for a line CloudWatch accepts: a root `_aws` with a millisecond
 * `Timestamp` and `CloudWatchMetrics` directives, each with a `Namespace`, dimension sets of at
 * most 30 keys and at most 100 metrics of 1-1024 characters; every dimension a string member of
 * the root and every metric a number (or an array of at most 100) of the root.
 */
export function emfSpecViolations(line: unknown): string[] {
  const out: string[] = [];
  const root = line as Record<string, unknown>;
  const aws = root['_aws'] as Record<string, unknown> | undefined;
  if (typeof aws !== 'object' || aws === null) return ['no _aws'];
  if (typeof aws['Timestamp'] !== 'number' || !Number.isInteger(aws['Timestamp'])) out.push('Timestamp is not an integer of ms');
  const directives = aws['CloudWatchMetrics'];
  if (!Array.isArray(directives) || directives.length === 0) return [...out, 'no CloudWatchMetrics'];
  for (const d of directives as Record<string, unknown>[]) {
    if (typeof d['Namespace'] !== 'string' || d['Namespace'] === '' || (d['Namespace']).length > 255) out.push('Namespace');
    const dims = d['Dimensions'];
    if (!Array.isArray(dims)) out.push('Dimensions is not an array');
    for (const set of (dims ?? []) as unknown[]) {
      if (!Array.isArray(set) || set.length > 30) out.push('a dimension set is not an array of at most 30');
      for (const k of set as unknown[]) if (typeof k !== 'string' || typeof root[k] !== 'string') out.push(`dimension ${String(k)} is not a string member`);
    }
    const metrics = d['Metrics'];
    if (!Array.isArray(metrics) || metrics.length > 100) out.push('Metrics is not an array of at most 100');
    for (const m of (metrics ?? []) as Record<string, unknown>[]) {
      const name = m['Name'];
      if (typeof name !== 'string' || name.length < 1 || name.length > 1024) out.push('a metric Name');
      const v = root[name as string];
      if (!(typeof v === 'number' || (Array.isArray(v) && v.length <= 100 && v.every((x) => typeof x === 'number')))) out.push(`metric ${String(name)} has no number`);
      if (m['Unit'] !== undefined && !['Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Count', 'Percent', 'None'].includes(m['Unit'] as string)) out.push(`unit of ${String(name)}`);
    }
  }
  return out;
}
