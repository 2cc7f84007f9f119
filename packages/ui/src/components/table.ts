import { html } from 'htm/preact';
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

/** A table sortable by any column (click a header; again to reverse). */

export interface Column<T> {
  key: string;
  label: string;
  value: (row: T) => number | string;
  render?: (row: T) => ComponentChildren;
  numeric?: boolean;
}

export function SortableTable<T>(props: { columns: Column<T>[]; rows: T[]; initialSort: string; rowKey: (row: T) => string; testId?: string; onRow?: (row: T) => void; pageSize?: number }) {
  const [sort, setSort] = useState({ key: props.initialSort, desc: true });
  const [page, setPage] = useState(0);
  const col = props.columns.find((c) => c.key === sort.key) ?? props.columns[0]!;
  const rows = [...props.rows].sort((a, b) => {
    const x = col.value(a);
    const y = col.value(b);
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return sort.desc ? -c : c;
  });
  // With a page size, a page of the sorted rows at a time, and where it is among them.
  const size = props.pageSize ?? rows.length;
  const pages = Math.max(1, Math.ceil(rows.length / Math.max(1, size)));
  const at = Math.min(page, pages - 1);
  const shown = props.pageSize ? rows.slice(at * size, at * size + size) : rows;
  const pager = props.pageSize && rows.length > size ? html`<div class="pager" data-testid=${`${props.testId ?? 'table'}-pager`}>
    <button disabled=${at === 0} onClick=${() => setPage(at - 1)}>Previous</button>
    <span>Rows ${at * size + 1}–${Math.min(rows.length, at * size + size)} of ${rows.length}</span>
    <button disabled=${at >= pages - 1} onClick=${() => setPage(at + 1)}>Next</button>
  </div>` : null;
  return html`${pager}<table class="grid" data-testid=${props.testId}>
    <thead><tr>${props.columns.map((c) => html`<th class=${c.numeric ? 'num' : ''} aria-sort=${c.key === sort.key ? (sort.desc ? 'descending' : 'ascending') : 'none'}
      onClick=${() => setSort({ key: c.key, desc: c.key === sort.key ? !sort.desc : true })}>${c.label}${c.key === sort.key ? (sort.desc ? ' ▾' : ' ▴') : ''}</th>`)}</tr></thead>
    <tbody>${shown.map((r) => html`<tr key=${props.rowKey(r)} class=${props.onRow ? 'clickable' : ''} onClick=${props.onRow ? () => props.onRow!(r) : undefined}>
      ${props.columns.map((c) => html`<td class=${c.numeric ? 'num' : ''}>${c.render ? c.render(r) : c.value(r)}</td>`)}</tr>`)}</tbody>
  </table>${pager}`;
}
