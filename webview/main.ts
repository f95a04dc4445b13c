// The timeline webview's entry: keeps which calls are loaded, expanded and selected, asks the
// extension for children page by page (webview/protocol.ts), re-reads them when the store changes,
// and keeps its state across hide/show with vscode.getState/setState. Runs in the browser only.

import type { CallRow, StoreSummary } from '../extension/store/api';
import { formatCount } from '../extension/format';
import { renderCallTree, visibleRows, type TreeData } from './callTree';
import { PAGE_SIZE, type FromWebview, type TimelineState, type ToWebview } from './protocol';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): TimelineState | undefined;
  setState(state: TimelineState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();

class TimelineApp {
  private readonly data: TreeData = {
    children: new Map(),
    more: new Set(),
    expanded: new Set(),
    selected: null,
  };
  private summary: StoreSummary | undefined;
  private nextRequest = 1;
  /** The newest request per parent; older answers are ignored. */
  private readonly latest = new Map<number | null, number>();
  private renderQueued = false;
  private restoredScroll: number | undefined;

  constructor(
    private readonly tree: HTMLElement,
    private readonly summaryEl: HTMLElement,
    private readonly emptyEl: HTMLElement,
  ) {
    const state = vscode.getState();
    if (state) {
      state.expanded.forEach((id) => this.data.expanded.add(id));
      this.data.selected = state.selected;
      this.restoredScroll = state.scrollTop;
    }
    window.addEventListener('message', (e: MessageEvent<ToWebview>) => this.onMessage(e.data));
    tree.addEventListener('click', (e) => this.onClick(e));
    tree.addEventListener('keydown', (e) => this.onKey(e));
    tree.addEventListener('scroll', () => this.saveState(), { passive: true });
    vscode.postMessage({ type: 'ready' });
  }

  private onMessage(msg: ToWebview): void {
    switch (msg.type) {
      case 'summary':
        this.summary = msg.summary;
        this.renderSummary();
        this.reload();
        break;
      case 'children':
        if (this.latest.get(msg.parent) !== msg.requestId) return;
        this.latest.delete(msg.parent);
        this.acceptChildren(msg.parent, msg.offset, msg.calls);
        break;
      case 'cleared':
        this.data.children.clear();
        this.data.more.clear();
        this.data.expanded.clear();
        this.data.selected = null;
        this.latest.clear();
        this.saveState();
        this.queueRender();
        break;
      case 'error':
        this.summaryEl.dataset.error = 'true';
        this.summaryEl.textContent = msg.message;
        break;
    }
  }

  /** Re-reads the top level and every expanded call's children, as many as are loaded now. */
  private reload(): void {
    this.request(null, 0, Math.max(PAGE_SIZE, this.data.children.get(null)?.length ?? 0));
    for (const id of this.data.expanded) {
      this.request(id, 0, Math.max(PAGE_SIZE, this.data.children.get(id)?.length ?? 0));
    }
  }

  private request(parent: number | null, offset: number, limit: number): void {
    const requestId = this.nextRequest++;
    this.latest.set(parent, requestId);
    vscode.postMessage({ type: 'getChildren', requestId, parent, offset, limit });
  }

  private acceptChildren(parent: number | null, offset: number, calls: CallRow[]): void {
    const before = offset === 0 ? [] : (this.data.children.get(parent) ?? []).slice(0, offset);
    const all = before.concat(calls);
    this.data.children.set(parent, all);
    const total = parent === null ? undefined : this.findCall(parent)?.childCount;
    const hasMore =
      total !== undefined ? all.length < total : calls.length > 0 && calls.length % PAGE_SIZE === 0;
    if (hasMore) this.data.more.add(parent);
    else this.data.more.delete(parent);
    this.queueRender();
  }

  private findCall(id: number): CallRow | undefined {
    for (const calls of this.data.children.values()) {
      const found = calls.find((c) => c.id === id);
      if (found) return found;
    }
    return undefined;
  }

  private queueRender(): void {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      renderCallTree(this.tree, this.data);
      const roots = this.data.children.get(null) ?? [];
      this.emptyEl.hidden = roots.length > 0;
      if (this.restoredScroll !== undefined && roots.length) {
        this.tree.scrollTop = this.restoredScroll;
        this.restoredScroll = undefined;
      }
    });
  }

  private renderSummary(): void {
    const s = this.summary;
    if (!s) return;
    const el = this.summaryEl;
    delete el.dataset.error;
    el.dataset.calls = String(s.calls);
    el.dataset.dropped = String(s.dropped);
    el.dataset.running = String(s.running);
    const parts = [
      `${formatCount(s.calls)} ${s.calls === 1 ? 'call' : 'calls'}`,
      `${formatCount(s.dropped)} dropped`,
    ];
    parts.push(s.running ? 'running' : s.processes ? 'finished' : 'no trace');
    el.textContent = parts.join(' · ');
  }

  private toggle(id: number, open?: boolean): void {
    const isOpen = this.data.expanded.has(id);
    const want = open ?? !isOpen;
    if (want === isOpen) return;
    if (want) {
      this.data.expanded.add(id);
      this.request(id, 0, PAGE_SIZE);
    } else {
      this.data.expanded.delete(id);
    }
    this.saveState();
    this.queueRender();
  }

  private select(id: number, reveal: boolean): void {
    this.data.selected = id;
    for (const row of visibleRows(this.tree)) {
      const on = row.dataset.callId === String(id);
      row.classList.toggle('selected', on);
      row.setAttribute('aria-selected', String(on));
      row.tabIndex = on ? 0 : -1;
      if (on) {
        row.focus({ preventScroll: true });
        row.scrollIntoView({ block: 'nearest' });
      }
    }
    this.saveState();
    if (reveal) vscode.postMessage({ type: 'reveal', callId: id });
  }

  private onClick(e: MouseEvent): void {
    const target = e.target as HTMLElement;
    const more = target.closest<HTMLElement>('.call-more');
    if (more) {
      const parent = more.dataset.parent === 'root' ? null : Number(more.dataset.parent);
      this.request(parent, Number(more.dataset.offset), PAGE_SIZE);
      return;
    }
    const row = target.closest<HTMLElement>('.call-row');
    if (!row) return;
    const id = Number(row.dataset.callId);
    if (target.classList.contains('twisty')) this.toggle(id);
    else this.select(id, true);
  }

  private onKey(e: KeyboardEvent): void {
    const rows = visibleRows(this.tree);
    if (!rows.length) return;
    const index = rows.findIndex((r) => r.dataset.callId === String(this.data.selected));
    const current = index >= 0 ? rows[index] : undefined;
    const id = current ? Number(current.dataset.callId) : undefined;
    const move = (i: number) => {
      const row = rows[Math.max(0, Math.min(rows.length - 1, i))];
      this.select(Number(row.dataset.callId), false);
    };
    switch (e.key) {
      case 'ArrowDown':
        move(index + 1);
        break;
      case 'ArrowUp':
        move(index < 0 ? 0 : index - 1);
        break;
      case 'Home':
        move(0);
        break;
      case 'End':
        move(rows.length - 1);
        break;
      case 'ArrowRight':
        if (id !== undefined && current?.classList.contains('expandable')) {
          if (!this.data.expanded.has(id)) this.toggle(id, true);
          else move(index + 1);
        }
        break;
      case 'ArrowLeft':
        if (id === undefined) break;
        if (this.data.expanded.has(id)) this.toggle(id, false);
        else {
          const parentRow = current?.parentElement?.parentElement
            ?.closest<HTMLElement>('.call-node')
            ?.querySelector<HTMLElement>(':scope > .call-row');
          if (parentRow) this.select(Number(parentRow.dataset.callId), false);
        }
        break;
      case 'Enter':
      case ' ':
        if (id !== undefined) this.select(id, true);
        break;
      default:
        return;
    }
    e.preventDefault();
  }

  private saveState(): void {
    vscode.setState({
      expanded: [...this.data.expanded],
      selected: this.data.selected,
      scrollTop: this.tree.scrollTop,
    });
  }
}

function byId(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`timeline: #${id} missing from the page`);
  return el;
}

new TimelineApp(byId('tree'), byId('summary'), byId('empty'));
