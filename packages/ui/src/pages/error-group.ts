import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, ERROR_STATUSES, type ErrorGroup, type Trace } from '../api.js';
import { RangePicker, Stat, Status, useData } from '../components/common.js';
import { ago, time } from '../format.js';
import { keepRange, rangeOf } from '../router.js';

/*
 * One error group: what it is, how often and since when, its status, its occurrences over the
 * range, the stack where it was raised (from its first sample trace) and the traces to open.
 */

/** Where a span's error came from: its stack, or (dd-trace-go) where the error was recorded. */
const stackOf = (s: Trace['spans'][number]): string | undefined => s.meta['error.stack'] ?? s.meta['error.handling_stack'];

/** The span of a trace the group's error was raised in: the deepest with its type and a stack. */
function raiser(trace: Trace, g: ErrorGroup): Trace['spans'][number] | undefined {
  const failing = trace.spans.filter((s) => s.error !== 0 && s.service === g.service);
  return failing.find((s) => stackOf(s) && (s.meta['error.type'] ?? s.meta['error.kind'] ?? '') === g.errorType)
    ?? failing.find((s) => stackOf(s)) ?? failing[0];
}

export function ErrorGroupPage(props: { url: URL; id: string }) {
  const range = rangeOf(props.url);
  const [changed, setChanged] = useState(0);
  const [failed, setFailed] = useState<string | undefined>(undefined);
  const { data, error, loading } = useData(async () => {
    const group = (await api.errors(range, { env: props.url.searchParams.get('env') ?? undefined })).groups.find((g) => g.id === props.id);
    const sample = group?.sampleTraceIds[0] !== undefined ? await api.trace(group.sampleTraceIds[0]).catch(() => undefined) : undefined;
    return { group, span: group && sample ? raiser(sample, group) : undefined };
  }, [range.start, range.end, props.id, changed]);
  const g = data?.group;
  const setStatus = (status: string) => {
    setFailed(undefined);
    api.setErrorStatus(props.id, status).then(() => setChanged((n) => n + 1), (err: Error) => setFailed(err.message));
  };
  const counts = g?.series?.counts ?? [];
  const max = Math.max(1, ...counts);
  return html`<main>
    <header class="page"><h1><a href=${`/errors${keepRange(props.url)}`}>Errors</a> / <span data-testid="error-group-title">${g ? `${g.errorType || 'error'}${g.message ? `: ${g.message}` : ''}` : props.id}</span></h1><${RangePicker} url=${props.url} label=${range.label} /></header>
    <${Status} loading=${loading} error=${error}>
      ${data && !g ? html`<section class="empty"><h2>Not in this range</h2><p>No occurrence of this error group in the range: widen it.</p></section>` : null}
      ${g ? html`
        <div class="stats-row">
          <${Stat} label="Service" value=${g.service} />
          <${Stat} label="Resource" value=${g.resource || '—'} />
          <${Stat} label="Occurrences" value=${g.count.toLocaleString('en-US')} testId="error-group-count" warn=${true} />
          <${Stat} label="First seen" value=${`${time(String(BigInt(g.firstSeen) * 1_000_000n), true)} (${ago(String(BigInt(g.firstSeen) * 1_000_000n))})`} />
          <${Stat} label="Last seen" value=${`${time(String(BigInt(g.lastSeen) * 1_000_000n), true)} (${ago(String(BigInt(g.lastSeen) * 1_000_000n))})`} />
          <label class="env-picker">status <select data-testid="error-group-status" value=${g.status} onChange=${(e: Event) => setStatus((e.target as HTMLSelectElement).value)}>
            ${ERROR_STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}</select>${g.regressed ? html` <span class="badge err">regressed</span>` : null}</label>
        </div>
        ${failed ? html`<p class="error" role="alert">${failed}</p>` : null}
        ${g.series ? html`<section class="chart counts" data-testid="error-group-series"><h3>Occurrences over time <span class="muted">(${g.count} in the range)</span></h3>
          <svg viewBox=${`0 0 ${counts.length} 40`} preserveAspectRatio="none" role="img" aria-label="Occurrences over time">
            ${counts.map((c, i) => html`<g><title>${`${time(String(BigInt(g.series!.start + i * g.series!.step) * 1_000_000n)).slice(0, 8)}: ${c}`}</title><rect x=${i + 0.1} y=${40 - (c / max) * 38} width="0.8" height=${(c / max) * 38} class="bar err" /></g>`)}
          </svg></section>` : null}
        <section class="spaced" data-testid="error-group-versions"><h3>Versions affected <span class="muted">(of ${g.service}, in this range, first seen first)</span></h3>
          <table class="grid"><thead><tr><th>Version</th><th class="num">Occurrences</th><th>First seen</th><th>Last seen</th></tr></thead><tbody>
            ${g.versions.map((v) => html`<tr data-testid="error-group-version"><td>${v.version === null ? html`<span class="muted" title="Counted before the agent kept versions">not recorded</span>` : v.version === '' ? html`<span class="muted">no version</span>` : v.version}</td>
              <td class="num">${v.count.toLocaleString('en-US')}</td><td>${time(String(BigInt(v.firstSeen) * 1_000_000n), true)}</td><td>${time(String(BigInt(v.lastSeen) * 1_000_000n), true)}</td></tr>`)}
          </tbody></table></section>
        <section><h3>Where it was raised <span class="muted">(in its first sample trace)</span></h3>
          ${data?.span ? html`<p><b>${data.span.service}</b> ${data.span.name} <span class="muted">${data.span.resource}</span></p>
            ${stackOf(data.span) ? html`<pre class="stack" data-testid="error-group-stack">${stackOf(data.span)}</pre>` : html`<p class="muted">The span carries no stack.</p>`}`
          : html`<p class="muted">The sample trace is no longer stored.</p>`}
        </section>
        <section><h3>Sample traces</h3><ul class="links">${g.sampleTraceIds.map((id) => html`<li><a href=${`/traces/${id}${keepRange(props.url)}`}>${id}</a></li>`)}</ul></section>` : null}
    </${Status}>
  </main>`;
}
