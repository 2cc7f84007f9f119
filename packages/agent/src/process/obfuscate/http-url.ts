/*
 * `http.url` (trace-agent spec 7.3): credentials in the URL always go; the query string and path
 * segments with digits go when configured. A URL that cannot be parsed, with an option on, is "?".
 */

export interface HttpUrlOptions {
  removeQueryString: boolean;
  removePathDigits: boolean;
}

export function obfuscateHttpUrl(raw: string, o: HttpUrlOptions): string {
  // The common case, checked without parsing: no options on and no credentials to strip.
  if (!o.removeQueryString && !o.removePathDigits && !raw.includes('@')) return raw;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    if (o.removeQueryString || o.removePathDigits) return '?';
    // Not absolute: still strip anything that looks like user:pass@.
    return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
  }
  let out = raw;
  if (url.username !== '' || url.password !== '') out = out.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
  if (o.removeQueryString) out = out.replace(/\?[^#]*/, '?');
  if (o.removePathDigits) {
    // A segment is judged by what it says once decoded, as the Agent judges it: `1%3F3` has
    // digits, `nam%3Fe` ("nam?e") has none and stays as written.
    out = out.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/]*)(\/[^?#]*)/i, (_m, origin: string, path: string) => origin + path.split('/').map((seg) => (/\d/.test(decodeSegment(seg)) ? '?' : seg)).join('/'));
  }
  return out;
}

function decodeSegment(seg: string): string {
  try {
    return decodeURIComponent(seg);
  } catch {
    return seg; // a malformed escape is judged as written
  }
}
