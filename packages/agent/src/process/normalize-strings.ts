/*
 * String normalization as the Datadog Agent applies it to services, span names and tag values
 * (traceutil/normalize). Fast paths return the input untouched when it is already normal, which
 * is the case for nearly every span a real tracer sends.
 */

export const MAX_TAG_LENGTH = 200;
export const MAX_NAME_LENGTH = 100;
export const MAX_SERVICE_LENGTH = 100;
export const MAX_TYPE_LENGTH = 100;
export const DEFAULT_SPAN_NAME = 'unnamed_operation';

/** Cuts a string to at most `limit` UTF-8 bytes without splitting a character. */
export function truncateUtf8(s: string, limit: number): string {
  if (s.length * 3 <= limit) return s;
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let w: number;
    if (c < 0x80) w = 1;
    else if (c < 0x800) w = 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) w = 4;
    else w = 3;
    if (bytes + w > limit) return s.slice(0, i);
    bytes += w;
    if (w === 4) i++;
  }
  return s;
}

export function utf8Length(s: string): number {
  return s.length * 3 <= 0x7fffffff && isAscii(s) ? s.length : Buffer.byteLength(s, 'utf8');
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** `[a-z0-9:./-]` with single underscores between valid characters: returned unchanged. */
function isNormalizedAsciiTag(s: string, isValue: boolean): boolean {
  if (s.length === 0) return true;
  if (s.length > MAX_TAG_LENGTH) return false;
  const first = s.charCodeAt(0);
  if (!(first >= 0x61 && first <= 0x7a) && first !== 0x3a && !(isValue && first >= 0x30 && first <= 0x39)) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x3a || c === 0x2e || c === 0x2f || c === 0x2d) continue;
    if (c === 0x5f && i + 1 < s.length) {
      const n = s.charCodeAt(i + 1);
      if (n !== 0x5f) continue;
    }
    return false;
  }
  return true;
}

const LETTER = /\p{L}/u;
const DIGIT = /\p{Nd}/u;

function isLetter(cp: number): boolean {
  if (cp < 0x80) return (cp >= 0x61 && cp <= 0x7a) || (cp >= 0x41 && cp <= 0x5a);
  return LETTER.test(String.fromCodePoint(cp));
}

function isDigit(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x30 && cp <= 0x39;
  return DIGIT.test(String.fromCodePoint(cp));
}

function utf8Width(cp: number): number {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

function normalize(s: string, isValue: boolean): string {
  if (isNormalizedAsciiTag(s, isValue)) return s;
  let out = '';
  let chars = 0;
  let bytes = 0;
  let pendingUnderscore = false;
  let started = false;
  for (const ch of s) {
    let cp = ch.codePointAt(0)!;
    bytes += utf8Width(cp);
    if (bytes > 2 * MAX_TAG_LENGTH) break;
    if (chars >= MAX_TAG_LENGTH) break;
    const lower = ch.toLowerCase();
    if (lower !== ch && lower.length === ch.length) {
      const lcp = lower.codePointAt(0)!;
      if (utf8Width(lcp) === utf8Width(cp)) cp = lcp;
    }
    const letter = isLetter(cp);
    if (!started && !isValue) {
      // A tag starts with a letter or ':'; everything before is dropped.
      if (!letter && cp !== 0x3a) continue;
    }
    if (letter || cp === 0x3a || isDigit(cp) || cp === 0x2e || cp === 0x2f || cp === 0x2d) {
      if (pendingUnderscore) {
        out += '_';
        chars++;
        pendingUnderscore = false;
        if (chars >= MAX_TAG_LENGTH) break;
      }
      out += String.fromCodePoint(cp);
      chars++;
      started = true;
    } else {
      // Any other run becomes one underscore, written only if something valid follows.
      pendingUnderscore = true;
      started = true;
    }
  }
  return out;
}

/** NormalizeTag: for `key:value` tags. */
export function normalizeTag(s: string): string {
  return normalize(s, false);
}

/** NormalizeTagValue: for values (service, env...); a leading digit is allowed. */
export function normalizeTagValue(s: string): string {
  return normalize(s, true);
}

function isAlpha(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}
function isAlnum(c: number): boolean {
  return isAlpha(c) || (c >= 0x30 && c <= 0x39);
}

/** Metric-name normalization for span names; undefined when nothing valid remains. */
export function normalizeMetricName(name: string): string | undefined {
  let i = 0;
  while (i < name.length && !isAlpha(name.charCodeAt(i))) i++;
  if (i === name.length) return undefined;
  // Fast path: already [A-Za-z0-9_.] with no "_.", "._", "__" and no trailing "_".
  let clean = true;
  for (let j = i; j < name.length; j++) {
    const c = name.charCodeAt(j);
    if (isAlnum(c)) continue;
    const prev = name.charCodeAt(j - 1);
    if (c === 0x2e && prev !== 0x5f) continue;
    if (c === 0x5f && prev !== 0x5f && prev !== 0x2e && j !== name.length - 1) continue;
    clean = false;
    break;
  }
  if (clean) return i === 0 ? name : name.slice(i);
  let out = '';
  for (; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const last = out.charCodeAt(out.length - 1);
    if (isAlnum(c)) out += name[i];
    else if (c === 0x2e) {
      if (last === 0x5f) out = out.slice(0, -1) + '.';
      else out += '.';
    } else if (last !== 0x5f && last !== 0x2e) out += '_';
  }
  if (out.endsWith('_')) out = out.slice(0, -1);
  return out;
}
