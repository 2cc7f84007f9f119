import { randomBytes } from 'node:crypto';

/*
 * Ids as Datadog tracers make them: random 64-bit span ids (never 0), and 128-bit trace ids whose
 * upper half starts with the epoch seconds (sent as `_dd.p.tid`, 16 hex characters).
 */

const POOL_SIZE = 8 * 512;
let pool = randomBytes(POOL_SIZE);
let offset = 0;

export function randomId(): bigint {
  for (;;) {
    if (offset + 8 > POOL_SIZE) {
      pool = randomBytes(POOL_SIZE);
      offset = 0;
    }
    const v = pool.readBigUInt64BE(offset) & 0x7fffffffffffffffn;
    offset += 8;
    if (v !== 0n) return v;
  }
}

/** The upper 64 bits of a new 128-bit trace id, as 16 hex characters. */
export function traceIdHigh(nowMs = Date.now()): string {
  return Math.floor(nowMs / 1000).toString(16).padStart(8, '0') + '00000000';
}

export const hex16 = (v: bigint): string => v.toString(16).padStart(16, '0');
