/*
 * Credit card numbers in tag values (trace-agent spec 7.5): 12 to 16 digits, possibly separated
 * by spaces or dashes, with a known issuer prefix; optionally the Luhn check. Keys that carry
 * ids, codes and tracer internals are never scanned.
 */

const NEVER_SCANNED = new Set([
  '_sample_rate', '_sampling_priority_v1', 'error', 'error.msg', 'error.message', 'error.type', 'error.stack', 'env',
  'graphql.field', 'graphql.query', 'graphql.type', 'graphql.operation.name', 'grpc.code', 'grpc.method', 'grpc.request',
  'http.status_code', 'http.method', 'runtime-id', 'out.host', 'out.port', 'sampling.priority', 'span.type', 'span.name',
  'service.name', 'service', 'sql.query', 'version',
]);

const scanKey = new Map<string, boolean>();

/** Keys repeat endlessly across spans: the answer is remembered (for a bounded number of keys). */
export function shouldScanKey(key: string): boolean {
  let v = scanKey.get(key);
  if (v === undefined) {
    v = !key.startsWith('_dd') && !NEVER_SCANNED.has(key);
    if (scanKey.size < 10_000) scanKey.set(key, v);
  }
  return v;
}

function iinMatches(d: string): boolean {
  const p = (n: number) => Number(d.slice(0, n));
  const first = d[0];
  if (first === '1' || first === '4') return true;
  const two = p(2);
  if ((two >= 34 && two <= 39) || (two >= 51 && two <= 55) || two === 62 || two === 65) return true;
  const three = p(3);
  if ((three >= 300 && three <= 305) || three === 309 || three === 636 || (three >= 644 && three <= 649)) return true;
  const four = p(4);
  if ((four >= 3528 && four <= 3589) || four === 5019 || four === 6011) return true;
  const six = p(6);
  return (six >= 222100 && six <= 272099) || (six >= 500000 && six <= 509999) || (six >= 560000 && six <= 589999) || (six >= 600000 && six <= 699999);
}

function luhn(d: string): boolean {
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    let v = d.charCodeAt(d.length - 1 - i) - 48;
    if (i % 2 === 1) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
  }
  return sum % 10 === 0;
}

export function isCardNumber(value: string, checkLuhn: boolean): boolean {
  if (value.length < 12 || value.length > 32) return false;
  const c = value.charCodeAt(0);
  if ((c < 48 || c > 57) && c !== 32 && c !== 45) return false;
  if (!/^[0-9 -][0-9 -]*$/.test(value)) return false;
  const digits = value.replace(/[ -]/g, '');
  if (digits.length < 12 || digits.length > 16) return false;
  if (!iinMatches(digits)) return false;
  return !checkLuhn || luhn(digits);
}
