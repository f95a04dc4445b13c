// "Group by function": a table of the trace's functions (calls, total and own time, exceptions)
// for the calls matching the filter, sortable by any column; choosing a row filters the panel to
// that function. Hooks: #functions table, tr.function-row[data-qualname][data-module]. Browser only.

import type { FunctionStats } from '../extension/store/api';
import { formatCount, formatDuration } from '../extension/format';

type Column = 'qualname' | 'module' | 'calls' | 'totalNs' | 'ownNs' | 'exceptions';

const COLUMNS: { key: Column; label: string; numeric: boolean }[] = [
  { key: 'qualname', label: 'Function', numeric: false },
  { key: 'module', label: 'Module', numeric: false },
  { key: 'calls', label: 'Calls', numeric: true },
  { key: 'totalNs', label: 'Total', numeric: true },
  { key: 'ownNs', label: 'Own', numeric: true },
  { key: 'exceptions', label: 'Raised', numeric: true },
];

export class FunctionsView {
  private stats: FunctionStats[] = [];
  private sortBy: Column = 'totalNs';
  private descending = true;

  constructor(
    private readonly root: HTMLElement,
    private readonly choose: (f: FunctionStats) => void,
  ) {
    root.addEventListener('click', (e) => {
      const target = e.target as HTMLElement;
      const th = target.closest<HTMLElement>('th[data-column]');
      if (th) {
        const column = th.dataset.column as Column;
        this.descending =
          column === this.sortBy
            ? !this.descending
            : COLUMNS.find((c) => c.key === column)!.numeric;
        this.sortBy = column;
        this.render();
        return;
      }
      const tr = target.closest<HTMLElement>('tr.function-row');
      if (tr) this.chooseRow(tr);
    });
    root.addEventListener('keydown', (e) => {
      const tr = (e.target as HTMLElement).closest<HTMLElement>('tr.function-row');
      if (!tr) return;
      if (e.key === 'Enter') this.chooseRow(tr);
      else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        const next = (
          e.key === 'ArrowDown' ? tr.nextElementSibling : tr.previousElementSibling
        ) as HTMLElement | null;
        next?.focus();
      } else return;
      e.preventDefault();
    });
  }

  private chooseRow(tr: HTMLElement): void {
    const f = this.stats[Number(tr.dataset.index)];
    if (f) this.choose(f);
  }

  set(stats: FunctionStats[]): void {
    this.stats = stats;
    this.render();
  }

  private render(): void {
    const key = this.sortBy;
    const sign = this.descending ? -1 : 1;
    const order = this.stats
      .map((_, i) => i)
      .sort((a, b) => {
        const x = this.stats[a][key];
        const y = this.stats[b][key];
        const c = typeof x === 'number' ? x - (y as number) : String(x).localeCompare(String(y));
        return sign * c || a - b;
      });
    const table = document.createElement('table');
    table.className = 'functions-table';
    const head = table.createTHead().insertRow();
    for (const c of COLUMNS) {
      const th = document.createElement('th');
      th.dataset.column = c.key;
      th.textContent = c.label;
      th.className = c.numeric ? 'numeric' : '';
      th.tabIndex = 0;
      if (c.key === key) th.setAttribute('aria-sort', this.descending ? 'descending' : 'ascending');
      head.append(th);
    }
    const body = table.createTBody();
    for (const i of order) {
      const s = this.stats[i];
      const tr = body.insertRow();
      tr.className = 'function-row';
      tr.tabIndex = 0;
      tr.dataset.index = String(i);
      tr.dataset.qualname = s.qualname;
      tr.dataset.module = s.module;
      tr.title = `${s.file}:${s.line} — Enter or click: show only this function's calls`;
      const cells: [string, string][] = [
        [s.qualname, 'qualname'],
        [s.module, 'module'],
        [formatCount(s.calls), 'numeric calls'],
        [formatDuration(s.totalNs), 'numeric total'],
        [formatDuration(s.ownNs), 'numeric own'],
        [s.exceptions ? formatCount(s.exceptions) : '', 'numeric exceptions'],
      ];
      for (const [text, className] of cells) {
        const td = tr.insertCell();
        td.className = className;
        td.textContent = text;
      }
    }
    this.root.replaceChildren(table);
    if (!this.stats.length) {
      const p = document.createElement('p');
      p.className = 'functions-empty';
      p.textContent = 'No calls match.';
      this.root.append(p);
    }
  }
}
