// The filter box: a query-language sentence (or plain text to search names and values) checked by
// the extension as it is typed; errors and warnings shown under the box with their column and the
// bad part marked; a completion list (Up/Down, Enter or Tab, Escape); the number of matching
// calls; next/previous match (Enter / Shift+Enter, or the arrow buttons). Browser only.
// Hooks: #filter, #filter-mode, #completions > .completion, #filter-problems > .problem, #match-count.

import { formatCount } from '../extension/format';
import type { CompleteResult, QueryProblem } from '../extension/query/lspProtocol';
import { columnOf, effectiveFilter } from './flame/filterQuery';
import type { FilterMode } from './protocol';

export interface FilterBoxEvents {
  check(text: string): number;
  complete(text: string, offset: number): number;
  /** The filter to apply ('' for none), once it checked clean. */
  apply(filter: string): void;
  findMatch(step: 1 | -1): void;
  changed(): void;
}

const CHECK_DELAY_MS = 200;
const COMPLETE_DELAY_MS = 60;

export class FilterBox {
  private mode: FilterMode = 'query';
  private checkTimer: ReturnType<typeof setTimeout> | undefined;
  private completeTimer: ReturnType<typeof setTimeout> | undefined;
  private latestCheck = 0;
  private latestComplete = 0;
  private completion: CompleteResult | undefined;
  private active = -1;
  private applied = '';
  private total: number | null = null;

  constructor(
    private readonly input: HTMLInputElement,
    private readonly modeButton: HTMLButtonElement,
    private readonly list: HTMLElement,
    private readonly problems: HTMLElement,
    private readonly count: HTMLElement,
    prev: HTMLButtonElement,
    next: HTMLButtonElement,
    private readonly events: FilterBoxEvents,
  ) {
    input.addEventListener('input', () => {
      this.scheduleCheck();
      this.scheduleComplete();
      events.changed();
    });
    input.addEventListener('keydown', (e) => this.onKey(e));
    input.addEventListener('blur', () => setTimeout(() => this.closeList(), 150));
    list.addEventListener('mousedown', (e) => {
      const item = (e.target as HTMLElement).closest<HTMLElement>('.completion');
      if (!item) return;
      e.preventDefault();
      this.accept(Number(item.dataset.index));
    });
    modeButton.addEventListener('click', () => {
      this.setMode(this.mode === 'query' ? 'text' : 'query');
      this.scheduleCheck(0);
      events.changed();
    });
    prev.addEventListener('click', () => events.findMatch(-1));
    next.addEventListener('click', () => events.findMatch(1));
    this.setMode('query');
  }

  get text(): string {
    return this.input.value;
  }

  get filterMode(): FilterMode {
    return this.mode;
  }

  /** The filter in force (checked clean). */
  get appliedFilter(): string {
    return this.applied;
  }

  get matches(): number | null {
    return this.total;
  }

  restore(text: string, mode: FilterMode): void {
    this.input.value = text;
    this.setMode(mode);
    if (text.trim()) this.scheduleCheck(0);
  }

  /** Replaces the text (e.g. "filter to this function") and applies it. */
  setText(text: string, mode: FilterMode = 'query'): void {
    this.input.value = text;
    this.setMode(mode);
    this.scheduleCheck(0);
    this.events.changed();
  }

  /** The store changed: the count may have too. */
  recheck(): void {
    if (this.input.value.trim()) this.scheduleCheck(0);
  }

  private setMode(mode: FilterMode): void {
    this.mode = mode;
    this.modeButton.textContent = mode === 'query' ? 'Query' : 'Text';
    this.modeButton.setAttribute('aria-pressed', String(mode === 'text'));
    this.modeButton.title =
      mode === 'query'
        ? 'Filter with the query language (click to search text in names and values)'
        : 'Search text in names and values (click to filter with the query language)';
    this.input.placeholder =
      mode === 'query' ? 'Filter: function == main and duration > 1ms' : 'Search names and values';
    this.input.dataset.mode = mode;
  }

  private scheduleCheck(delay = CHECK_DELAY_MS): void {
    if (this.checkTimer) clearTimeout(this.checkTimer);
    this.checkTimer = setTimeout(() => {
      this.checkTimer = undefined;
      const filter = effectiveFilter(this.input.value, this.mode);
      if (!filter) {
        this.latestCheck = 0;
        this.showProblems('', []);
        this.setCount(null);
        this.setApplied('');
        return;
      }
      this.latestCheck = this.events.check(filter);
    }, delay);
  }

  /** The extension's answer to a check. */
  checked(requestId: number, text: string, problems: QueryProblem[], total: number | null): void {
    if (requestId !== this.latestCheck) return;
    this.showProblems(text, problems);
    const ok = !problems.some((p) => p.severity === 'error');
    this.setCount(ok ? total : null);
    this.setApplied(ok ? text : '');
  }

  private setApplied(filter: string): void {
    if (filter === this.applied) return;
    this.applied = filter;
    this.events.apply(filter);
  }

  private setCount(total: number | null): void {
    this.total = total;
    if (total === null) {
      this.count.textContent = '';
      delete this.count.dataset.total;
    } else {
      this.count.textContent = `${formatCount(total)} ${total === 1 ? 'match' : 'matches'}`;
      this.count.dataset.total = String(total);
    }
  }

  /** Shows "3 of 120" after moving to a match. */
  showPosition(index: number, total: number): void {
    this.total = total;
    this.count.dataset.total = String(total);
    this.count.dataset.index = String(index);
    this.count.textContent = total
      ? `${formatCount(index + 1)} of ${formatCount(total)}`
      : 'no matches';
  }

  private showProblems(text: string, problems: QueryProblem[]): void {
    this.problems.replaceChildren();
    const error = problems.some((p) => p.severity === 'error');
    this.input.setAttribute('aria-invalid', String(error));
    this.problems.hidden = problems.length === 0;
    // In text mode the positions are in the generated query, so only the messages are shown.
    const positions = this.mode === 'query';
    for (const p of problems) {
      const div = document.createElement('div');
      div.className = `problem ${p.severity}`;
      div.dataset.start = String(p.start);
      div.dataset.end = String(p.end);
      const where = positions ? `Column ${columnOf(p.start)}: ` : '';
      const suggestion =
        p.suggestion && !p.message.includes(p.suggestion) ? ` Did you mean ${p.suggestion}?` : '';
      div.append(`${where}${p.message}${suggestion}`);
      if (positions) {
        const code = document.createElement('code');
        code.className = 'problem-context';
        const mark = document.createElement('mark');
        const end = Math.max(p.end, p.start + 1);
        mark.textContent = text.slice(p.start, end) || ' ';
        code.append(text.slice(0, p.start), mark, text.slice(end));
        div.append(code);
      }
      this.problems.append(div);
    }
  }

  // ---- completion ----------------------------------------------------------------------------

  private scheduleComplete(): void {
    if (this.mode !== 'query') return;
    if (this.completeTimer) clearTimeout(this.completeTimer);
    this.completeTimer = setTimeout(() => {
      this.completeTimer = undefined;
      if (document.activeElement !== this.input) return;
      this.latestComplete = this.events.complete(
        this.input.value,
        this.input.selectionStart ?? this.input.value.length,
      );
    }, COMPLETE_DELAY_MS);
  }

  completions(requestId: number, result: CompleteResult): void {
    if (requestId !== this.latestComplete || document.activeElement !== this.input) return;
    // Offer only items that continue what is typed.
    const typed = this.input.value
      .slice(result.from, this.input.selectionStart ?? result.to)
      .replace(/^["']/, '')
      .toLowerCase();
    const current = this.input.value.slice(result.from, result.to);
    // Items that continue what is typed, but not the word already typed in full.
    const items = result.items
      .filter((i) => i.label.toLowerCase().startsWith(typed) && i.insertText !== current)
      .slice(0, 50);
    this.completion = { ...result, items };
    this.active = items.length ? 0 : -1;
    this.renderList();
  }

  private renderList(): void {
    const items = this.completion?.items ?? [];
    this.list.replaceChildren();
    items.forEach((item, i) => {
      const li = document.createElement('li');
      li.className = 'completion';
      li.id = `completion-${i}`;
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', String(i === this.active));
      li.dataset.index = String(i);
      li.dataset.kind = item.kind;
      const label = document.createElement('span');
      label.className = 'completion-label';
      label.textContent = item.label;
      li.append(label);
      if (item.detail) {
        const d = document.createElement('span');
        d.className = 'completion-detail';
        d.textContent = item.detail;
        li.append(d);
      }
      this.list.append(li);
    });
    const open = items.length > 0;
    this.list.hidden = !open;
    this.input.setAttribute('aria-expanded', String(open));
    if (open && this.active >= 0) {
      this.input.setAttribute('aria-activedescendant', `completion-${this.active}`);
      this.list.children[this.active]?.scrollIntoView({ block: 'nearest' });
    } else this.input.removeAttribute('aria-activedescendant');
  }

  private closeList(): void {
    this.completion = undefined;
    this.active = -1;
    this.renderList();
  }

  private accept(index: number): void {
    const c = this.completion;
    const item = c?.items[index];
    if (!c || !item) return;
    const v = this.input.value;
    const text = v.slice(0, c.from) + item.insertText + v.slice(c.to);
    this.input.value = text;
    const caret = c.from + item.insertText.length;
    this.input.setSelectionRange(caret, caret);
    this.closeList();
    this.scheduleCheck(0);
    this.events.changed();
  }

  private onKey(e: KeyboardEvent): void {
    const open = !this.list.hidden && (this.completion?.items.length ?? 0) > 0;
    const n = this.completion?.items.length ?? 0;
    if (open && (e.key === 'ArrowDown' || e.key === 'ArrowUp')) {
      this.active = (this.active + (e.key === 'ArrowDown' ? 1 : -1) + n) % n;
      this.renderList();
      e.preventDefault();
      return;
    }
    if (open && (e.key === 'Enter' || e.key === 'Tab') && this.active >= 0) {
      this.accept(this.active);
      e.preventDefault();
      return;
    }
    if (e.key === 'Escape') {
      if (open) this.closeList();
      else if (this.input.value) this.setText('', this.mode);
      e.preventDefault();
      e.stopPropagation();
      return;
    }
    if (e.key === ' ' && e.ctrlKey) {
      this.scheduleComplete();
      e.preventDefault();
      return;
    }
    if (e.key === 'Enter') {
      this.events.findMatch(e.shiftKey ? -1 : 1);
      e.preventDefault();
    }
  }
}
