/** Tags dd-trace sets on HTTP spans, shared by the server, client and fetch instrumentation. */

/** A URL without its query string and credentials: what `http.url` may show. */
export function safeUrl(url: string): string {
  const q = url.search(/[?#]/);
  const base = q >= 0 ? url.slice(0, q) : url;
  return base.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

/** dd-trace's defaults: servers err on 5xx, clients on 4xx and 5xx. */
export const serverError = (status: number): boolean => status >= 500;
export const clientError = (status: number): boolean => status >= 400;
