import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Suggestions } from '../api.js';
import { accept, completing, type Completing } from '../query-terms.js';

/*
 * The search box with autocomplete: as a term is typed, the keys (or, after a colon, the values of
 * its key) that the range and the rest of the query hold, the most frequent first. Arrow keys move
 * through them, Enter or Tab takes one, Escape closes the list. The list says what its counts are
 * of: the whole range (services and envs, from the stats) or the newest traces it looked at.
 */

export function QueryBox(props: { value: string; onInput: (q: string) => void; range: { start: number; end: number } }) {
  const input = useRef<HTMLInputElement>(null);
  const [open, setOpen] = useState<{ at: Completing; list: Suggestions } | undefined>(undefined);
  const [active, setActive] = useState(0);
  const asked = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const ask = (q: string, caret: number) => {
    clearTimeout(timer.current);
    const at = completing(q, caret);
    const n = ++asked.current;
    timer.current = setTimeout(() => {
      api.suggest({ q: at.context, key: at.key, prefix: at.prefix, start: props.range.start, end: props.range.end }).then(
        (list) => { if (n === asked.current) { setOpen(list.suggestions.length > 0 ? { at, list } : undefined); setActive(0); } },
        () => { if (n === asked.current) setOpen(undefined); },
      );
    }, 120);
  };
  useEffect(() => () => clearTimeout(timer.current), []);

  const take = (text: string) => {
    if (!open) return;
    const next = accept(props.value, open.at, text);
    props.onInput(next.text);
    setOpen(undefined);
    // After the value is set, the caret goes after what was taken, and a key asks for its values.
    setTimeout(() => {
      const el = input.current;
      if (!el) return;
      el.focus();
      el.setSelectionRange(next.caret, next.caret);
      if (next.text[next.caret - 1] === ':') ask(next.text, next.caret);
    });
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (!open) return;
    const n = open.list.suggestions.length;
    if (e.key === 'ArrowDown') { e.preventDefault(); setActive((active + 1) % n); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); setActive((active - 1 + n) % n); }
    else if (e.key === 'Escape') setOpen(undefined);
    else if ((e.key === 'Enter' || e.key === 'Tab') && open.list.suggestions[active]) { e.preventDefault(); take(open.list.suggestions[active]!.text); }
  };
  const basis = open?.list.basis === 'stats'
    ? 'service entry spans in the whole range'
    : open?.list.sampled
      ? `spans in ${open.list.sampled.complete ? `all ${open.list.sampled.traces} matching traces` : `the newest ${open.list.sampled.traces} matching traces`}`
      : '';
  return html`<div class="query-box">
    <input ref=${input} name="q" data-testid="search-query" autocomplete="off" value=${props.value} role="combobox" aria-expanded=${open ? 'true' : 'false'} aria-controls="query-suggestions"
      onInput=${(e: Event) => { const el = e.target as HTMLInputElement; props.onInput(el.value); ask(el.value, el.selectionStart ?? el.value.length); }}
      onFocus=${(e: Event) => { const el = e.target as HTMLInputElement; ask(el.value, el.selectionStart ?? el.value.length); }}
      onBlur=${() => setTimeout(() => setOpen(undefined), 150)}
      onKeyDown=${onKeyDown}
      placeholder="service:checkout env:prod -status:error http.status_code:5*, or a trace id" aria-label="Search query" />
    ${open ? html`<ul class="suggestions" id="query-suggestions" role="listbox" data-testid="suggestions">
      ${open.list.suggestions.map((s, i) => html`<li role="option" aria-selected=${i === active ? 'true' : 'false'} class=${i === active ? 'active' : ''}
        onMouseDown=${(e: Event) => { e.preventDefault(); take(s.text); }}><span>${open.at.key === undefined ? `${s.text}:` : s.text || '(empty)'}</span><span class="muted">${s.count.toLocaleString('en-US')}</span></li>`)}
      <li class="basis muted" data-testid="suggestions-basis">counts: ${basis}</li>
    </ul>` : null}
  </div>`;
}
