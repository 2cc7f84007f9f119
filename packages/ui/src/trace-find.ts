import type { ApiSpan } from '@ecs-trace/agent/api-types';

/*
 * Finding spans in a trace by what a person remembers of them: any part of the service, the
 * operation, the resource, a tag's key or value, or `key:value`; case does not matter.
 */

export function spanMatches(span: Pick<ApiSpan, 'service' | 'name' | 'resource' | 'meta'>, text: string): boolean {
  const q = text.trim().toLowerCase();
  if (q === '') return true;
  const has = (v: string) => v.toLowerCase().includes(q);
  if (has(span.service) || has(span.name) || has(span.resource)) return true;
  for (const [k, v] of Object.entries(span.meta)) if (has(k) || has(v) || has(`${k}:${v}`)) return true;
  return false;
}
