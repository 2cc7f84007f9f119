/**
 * Reads back what a Logs Insights console link holds (its `queryDetail` fragment: `~(key~'value
 * ...)`, values URL-encoded with `*` for `%`, the whole URL-encoded with `$` for `%`): for the
 * tests of the links, the unit's and the end-to-end one.
 */
export function readInsightsLink(href: string): { start: string; end: string; query: string; source: string[] } {
  const fragment = decodeURIComponent(href.slice(href.indexOf('logs-insights') + 'logs-insights'.length).replace(/\$/g, '%'));
  if (!fragment.startsWith('?queryDetail=~(')) throw new Error(`not a Logs Insights link: ${href}`);
  const value = (key: string) => {
    const m = new RegExp(`[~(]${key}~'([^~)]*)`).exec(fragment);
    if (!m) throw new Error(`no ${key} in ${fragment}`);
    return decodeURIComponent(m[1]!.replace(/\*/g, '%'));
  };
  const sources = /~source~\(((?:~'[^~)]*)*)\)/.exec(fragment)?.[1] ?? '';
  return {
    start: value('start'), end: value('end'), query: value('editorString'),
    source: sources.split("~'").slice(1).map((v) => decodeURIComponent(v.replace(/\*/g, '%'))),
  };
}
