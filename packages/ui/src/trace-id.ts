/*
 * A trace id typed or pasted into the search box, in the forms tracers and SDKs log it: 32 hex
 * digits (W3C, OpenTelemetry, Datadog's 128-bit), 16 hex digits (a 64-bit id in hex), or the
 * decimal 64-bit id dd-trace's log injection writes (`dd.trace_id`). Anything else is a query.
 */

const MAX_U64 = (1n << 64n) - 1n;

/** The id as the trace page takes it (32 hex digits, or decimal), or undefined for a query. */
export function traceIdIn(query: string): string | undefined {
  const q = query.trim();
  if (/^[0-9a-fA-F]{32}$/.test(q)) return q.toLowerCase();
  // Sixteen digits are hex only if one is a letter; else a decimal id of 16 digits is as likely.
  if (/^[0-9a-fA-F]{16}$/.test(q) && /[a-fA-F]/.test(q)) return q.toLowerCase().padStart(32, '0');
  if (/^\d{1,20}$/.test(q) && BigInt(q) > 0n && BigInt(q) <= MAX_U64) return BigInt(q).toString(10);
  return undefined;
}
