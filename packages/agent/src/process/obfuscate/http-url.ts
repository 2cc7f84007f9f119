import { formatGoUrl, fromGoBytes, GoUrlError, parseGoUrl, toGoBytes } from './go-url.js';

/*
 * `http.url` as the Datadog Agent obfuscates it (pkg/obfuscate/http.go): parsed and written back
 * as Go's net/url does, without its credentials; with the options on, the query string and path
 * segments with digits (judged once decoded) go. A URL Go cannot parse is kept as it is, or, with
 * an option on, becomes "?".
 */

export interface HttpUrlOptions {
  removeQueryString: boolean;
  removePathDigits: boolean;
}

// What Go would write back unchanged: a lower-case scheme, no credentials, escapes or characters
// it would escape before the query, which it keeps as written (dd-trace's `?<redacted>` too), and
// no fragment. Most URLs tracers send; they skip the parse.
const UNCHANGED = /^[a-z][a-z0-9+.-]*:\/\/[A-Za-z0-9\-._~!$&'()*+,;=:[\]/]*(?:\?[^#]*)?$/;
// Go's url package cannot write `?` into a path, so the Agent marks redacted segments with this
// and replaces it after.
const REDACTED = '/REDACTED/';

export function obfuscateHttpUrl(raw: string, o: HttpUrlOptions): string {
  const options = o.removeQueryString || o.removePathDigits;
  if (!options && UNCHANGED.test(raw)) return raw;
  const bytes = toGoBytes(raw);
  let u;
  try {
    u = parseGoUrl(bytes);
  } catch (err) {
    if (!(err instanceof GoUrlError)) throw err;
    return options ? '?' : raw;
  }
  u.hasUser = false;
  if (o.removeQueryString && u.rawQuery !== '') {
    u.forceQuery = true;
    u.rawQuery = '';
  }
  if (o.removePathDigits) {
    const segs = u.path.split('/');
    let changed = false;
    for (let i = 0; i < segs.length; i++) {
      if (/[0-9]/.test(segs[i]!)) {
        segs[i] = REDACTED;
        changed = true;
      }
    }
    if (changed) u.path = segs.join('/');
  }
  const out = fromGoBytes(formatGoUrl(u));
  return options ? out.split(REDACTED).join('?') : out;
}
