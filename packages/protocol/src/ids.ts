const UINT64_MAX = (1n << 64n) - 1n;

/** Lower-case, zero-padded 16-hex form of a uint64. */
export function toHex64(id: bigint): string {
  return id.toString(16).padStart(16, '0');
}

/**
 * The full 128-bit trace id as 32 hex characters. The upper half comes from `_dd.p.tid` on the
 * chunk's first span (16 hex chars); a missing or malformed tag means the id is 64-bit.
 */
export function traceIdHex(low: bigint, tid: string | undefined): string {
  const high = tid !== undefined && /^[0-9a-f]{16}$/.test(tid) ? tid : '0000000000000000';
  return high + toHex64(low);
}

export class TraceIdParseError extends Error {
  override readonly name = 'TraceIdParseError';
}

/**
 * Parses a trace id as a user gives it: 32 (or fewer) hex characters, or a decimal 64-bit id as
 * tracers log it. All digits without a leading zero is decimal; anything else is hex. Returns the 32-hex form, or throws a TraceIdParseError that says what is allowed.
 */
export function parseTraceId(input: string): string {
  const s = input.trim().toLowerCase();
  // Tracers log decimal ids without leading zeros; hex ids are zero-padded to 16 or 32.
  if (/^(0|[1-9][0-9]{0,19})$/.test(s)) {
    const v = BigInt(s);
    if (v > UINT64_MAX) throw new TraceIdParseError(`trace id ${input} is larger than a 64-bit decimal id`);
    return '0000000000000000' + toHex64(v);
  }
  const hex = s.startsWith('0x') ? s.slice(2) : s;
  if (/^[0-9a-f]{1,32}$/.test(hex)) return hex.padStart(32, '0');
  throw new TraceIdParseError(
    `trace id "${input}" is neither 32 hex characters nor a decimal 64-bit id`,
  );
}

/** Reinterprets a signed int64 (as SQLite stores integers) as the uint64 a tracer sent, and back. */
export function toSigned64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}
export function toUnsigned64(v: bigint): bigint {
  return BigInt.asUintN(64, v);
}
