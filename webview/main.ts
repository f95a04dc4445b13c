// The timeline webview's entry: wires the flame chart, overview strip, call tree, "by function"
// table, details pane and filter box to the extension's typed messages (webview/protocol.ts),
// keeps one selection for all of them (shared with the editor through the extension), re-reads
// what it shows when the store changes, and keeps its state across hide/show and reloads with
// vscode.getState/setState. Runs in the browser only.

import type { CallRow, FlameBox, StoreSummary } from '../extension/store/api';
import { formatCount } from '../extension/format';
import { renderCallTree, visibleRows, type TreeData } from './callTree';
import { DetailsPane } from './detailsPane';
import { FilterBox } from './filterBox';
import { FlameChart, type CallPlace } from './flameChart';
import { resetColourCache } from './flameRenderer';
import { FunctionsView } from './functionsView';
import { OverviewStrip } from './overviewStrip';
import {
  PAGE_SIZE,
  type CallDetails,
  type FromWebview,
  type LaneWindow,
  type PackedLane,
  type TimelineView,
  type ToWebview,
} from './protocol';
import { onThemeChange, readThemeColours, type ThemeColours } from './themeColours';
import { vscode } from './vscodeApi';
import { unpackWindow } from './flame/packedWindow';
import { span } from './flame/viewport';

type SelectFrom = 'tree' | 'flame' | 'details' | 'match' | 'host' | 'restore';

/** Overview answers are asked for at most this often while a program runs. */
const OVERVIEW_INTERVAL_MS = 1000;
/** The filter's count is re-read at most this often while a program runs. */
const RECHECK_INTERVAL_MS = 1000;

function unpackLanes(lanes: PackedLane[]): LaneWindow[] {
  return lanes.map((l) => ({
    thread: l.thread,
    ...(l.lane !== undefined ? { lane: l.lane } : {}),
    ...unpackWindow(l.window),
  }));
}

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`timeline: #${id} missing from the page`);
  return el as T;
}

class TimelineApp {
  private readonly data: TreeData = {
    children: new Map(),
    more: new Set(),
    expanded: new Set(),
    selected: null,
  };
  private summary: StoreSummary | undefined;
  private nextRequest = 1;
  /** The newest children request per parent; older answers are ignored. */
  private readonly latest = new Map<number | null, number>();
  /** The newest request of each other kind. */
  private readonly newest = new Map<string, number>();
  private renderQueued = false;
  private restoredScroll: number | undefined;
  private scrollToSelected = false;
  private readonly tree = byId('tree');
  private readonly summaryEl = byId('summary');
  private readonly emptyEl = byId('empty');
  private readonly functionsEl = byId('functions');
  private readonly followBox = byId<HTMLInputElement>('follow');
  private theme: ThemeColours = readThemeColours();
  private readonly flame: FlameChart;
  private readonly overview: OverviewStrip;
  private readonly details: DetailsPane;
  private readonly filter: FilterBox;
  private readonly functions: FunctionsView;
  private view: TimelineView = 'calls';
  private originNs = 0;
  private running = false;
  private lastGeneration = -1;
  private matchIndex = -1;
  /** Bring the selected call into the flame chart's view when its details arrive. */
  private showSelected = false;
  private lastOverview = 0;
  private overviewAsked = false;
  private overviewTimer: ReturnType<typeof setTimeout> | undefined;
  private lastRecheck = 0;

  constructor() {
    this.flame = new FlameChart(
      byId('flame'),
      byId<HTMLCanvasElement>('flame-canvas'),
      byId('flame-spacer'),
      byId('flame-boxes'),
      byId('flame-tip'),
      {
        fetch: (w, minDurationNs, lanes) =>
          this.send('view', (requestId) => ({
            type: 'getWindow',
            requestId,
            purpose: 'view',
            threads: [...new Set(lanes.map((l) => l.thread))],
            lanes,
            marks: true,
            startNs: w.startNs,
            endNs: w.endNs,
            minDurationNs,
            filter: this.filter.appliedFilter,
          })),
        viewChanged: () => {
          this.overview.update(this.flame.bounds(), this.flame.visible(), this.theme);
          this.saveState();
        },
        select: (box) => this.selectBox(box),
        // A probe mark's details stay in the chart's tooltip; the call it happened in is selected.
        selectMark: (mark) => {
          if (mark && mark.call !== null) this.select(mark.call, 'flame', {});
        },
        reveal: (callId) => vscode.postMessage({ type: 'reveal', callId }),
        navigateFallback: (callId, direction) =>
          this.send('navigate', (requestId) => ({
            type: 'navigate',
            requestId,
            callId,
            direction,
          })),
        followChanged: (on) => {
          this.followBox.checked = on;
          this.saveState();
        },
      },
    );
    this.overview = new OverviewStrip(byId<HTMLCanvasElement>('overview'), (w) =>
      this.flame.setView(w),
    );
    this.details = new DetailsPane(byId('details'), {
      select: (id) => this.select(id, 'details', { show: true }),
      reveal: (id) => vscode.postMessage({ type: 'reveal', callId: id }),
    });
    this.filter = new FilterBox(
      byId<HTMLInputElement>('filter'),
      byId<HTMLButtonElement>('filter-mode'),
      byId('completions'),
      byId('filter-problems'),
      byId('match-count'),
      byId<HTMLButtonElement>('prev-match'),
      byId<HTMLButtonElement>('next-match'),
      {
        check: (text) =>
          this.send('check', (requestId) => ({ type: 'checkFilter', requestId, text })),
        complete: (text, offset) =>
          this.send('complete', (requestId) => ({ type: 'complete', requestId, text, offset })),
        apply: (filter) => {
          this.matchIndex = -1;
          this.flame.setFilter(filter);
          if (this.view === 'functions') this.requestFunctions();
        },
        findMatch: (step) => this.findMatch(step),
        changed: () => this.saveState(),
      },
    );
    this.functions = new FunctionsView(this.functionsEl, (f) =>
      this.filter.setText(
        `function == ${JSON.stringify(f.qualname)} and module == ${JSON.stringify(f.module)}`,
      ),
    );

    this.flame.setTheme(this.theme);
    onThemeChange(() => {
      this.theme = readThemeColours();
      resetColourCache();
      this.flame.setTheme(this.theme);
      this.overview.update(this.flame.bounds(), this.flame.visible(), this.theme);
    });

    const state = vscode.getState();
    if (state) {
      state.expanded.forEach((id) => this.data.expanded.add(id));
      this.data.selected = state.selected;
      this.restoredScroll = state.scrollTop;
      if (state.filter) this.filter.restore(state.filter, state.filterMode ?? 'query');
      if (state.window) this.flame.setView(state.window);
      if (state.follow) {
        this.followBox.checked = true;
        this.flame.setFollow(true);
      }
      this.setView(state.view ?? 'calls', false);
      if (state.selected !== null) this.select(state.selected, 'restore', {});
    } else {
      this.setView('calls', false);
    }

    window.addEventListener('message', (e: MessageEvent<ToWebview>) => {
      const t0 = performance.now();
      this.onMessage(e.data);
      // Visible in the browser's performance tools; the frame-time test reads them too.
      if (e.data.type === 'window') {
        performance.measure('tracelens-message', { start: t0, end: performance.now() });
        if (performance.getEntriesByName('tracelens-message').length > 2000)
          performance.clearMeasures('tracelens-message');
      }
    });
    this.tree.addEventListener('click', (e) => this.onTreeClick(e));
    this.tree.addEventListener('keydown', (e) => this.onTreeKey(e));
    this.tree.addEventListener('scroll', () => this.saveState(), { passive: true });
    this.followBox.addEventListener('change', () => {
      this.flame.setFollow(this.followBox.checked);
      this.saveState();
    });
    for (const tab of Array.from(document.querySelectorAll<HTMLElement>('[role="tab"]'))) {
      tab.addEventListener('click', () => this.setView(tab.dataset.view as TimelineView, true));
      tab.addEventListener('keydown', (e) => {
        if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
        const next = this.view === 'calls' ? 'functions' : 'calls';
        this.setView(next, true);
        byId(`tab-${next}`).focus();
        e.preventDefault();
      });
    }
    vscode.postMessage({ type: 'ready' });
  }

  /** Posts a request with a fresh id, remembered as the newest of its kind. */
  private send(kind: string, make: (requestId: number) => FromWebview): number {
    const requestId = this.nextRequest++;
    this.newest.set(kind, requestId);
    vscode.postMessage(make(requestId));
    return requestId;
  }

  private isNewest(kind: string, requestId: number): boolean {
    return this.newest.get(kind) === requestId;
  }

  private onMessage(msg: ToWebview): void {
    switch (msg.type) {
      case 'summary':
        this.summary = msg.summary;
        this.renderSummary();
        this.storeChanged(msg.summary);
        break;
      case 'children':
        if (this.latest.get(msg.parent) !== msg.requestId) return;
        this.latest.delete(msg.parent);
        this.acceptChildren(msg.parent, msg.offset, msg.calls);
        break;
      case 'tracks':
        if (!this.isNewest('tracks', msg.requestId)) return;
        this.originNs = msg.originNs;
        this.flame.setTracks(msg.tracks, msg.originNs, msg.liveEndNs, this.running);
        this.overview.update(this.flame.bounds(), this.flame.visible(), this.theme);
        if (this.overviewAsked) this.scheduleOverview();
        break;
      case 'window':
        if (msg.purpose === 'overview') {
          if (this.isNewest('overview', msg.requestId)) this.overview.set(unpackLanes(msg.lanes));
        } else if (this.flame.accept(msg.requestId, msg, msg.filter, unpackLanes(msg.lanes))) {
          // The overview waits for the first view so that the two do not queue in the store.
          if (!this.overviewAsked) this.scheduleOverview();
        }
        break;
      case 'details':
        if (!this.isNewest('details', msg.requestId) || msg.callId !== this.data.selected) return;
        this.showDetails(msg.details);
        break;
      case 'functions':
        if (this.isNewest('functions', msg.requestId)) this.functions.set(msg.stats);
        break;
      case 'filterChecked':
        this.filter.checked(msg.requestId, msg.text, msg.problems, msg.total);
        break;
      case 'completions':
        this.filter.completions(msg.requestId, msg.result);
        break;
      case 'match':
        if (!this.isNewest('match', msg.requestId)) return;
        this.filter.showPosition(msg.index, msg.total);
        if (msg.call) {
          this.matchIndex = msg.index;
          this.select(msg.call.id, 'match', { show: true });
        }
        break;
      case 'navigated':
        if (this.isNewest('navigate', msg.requestId) && msg.call) {
          this.select(msg.call.id, 'flame', { show: true });
        }
        break;
      case 'select':
        if (msg.callId !== this.data.selected) this.select(msg.callId, 'host', { show: true });
        break;
      case 'setFilter':
        this.filter.setText(msg.filter, 'query');
        break;
      case 'cleared':
        this.data.children.clear();
        this.data.more.clear();
        this.data.expanded.clear();
        this.data.selected = null;
        this.latest.clear();
        this.lastGeneration = -1;
        this.overviewAsked = false;
        this.flame.clear();
        this.overview.set([]);
        this.details.show(null, 0);
        this.functions.set([]);
        this.saveState();
        this.queueRender();
        break;
      case 'error':
        this.summaryEl.dataset.error = 'true';
        this.summaryEl.textContent = msg.message;
        break;
    }
  }

  /** A new summary: re-read what changed (tree, lanes, counts, the selected call if running). */
  private storeChanged(s: StoreSummary): void {
    const wasRunning = this.running;
    this.running = s.running;
    if (s.generation === this.lastGeneration && wasRunning === s.running) return;
    this.lastGeneration = s.generation;
    this.reload();
    this.send('tracks', (requestId) => ({ type: 'getTracks', requestId }));
    this.flame.invalidate();
    if (this.view === 'functions') this.requestFunctions();
    const now = Date.now();
    if (!s.running || now - this.lastRecheck > RECHECK_INTERVAL_MS) {
      this.lastRecheck = now;
      this.filter.recheck();
    }
    if (this.data.selected !== null) this.requestDetails(this.data.selected);
  }

  private scheduleOverview(): void {
    this.overviewAsked = true;
    if (this.overviewTimer) return;
    const wait = Math.max(0, this.lastOverview + OVERVIEW_INTERVAL_MS - Date.now());
    this.overviewTimer = setTimeout(() => {
      this.overviewTimer = undefined;
      this.lastOverview = Date.now();
      const b = this.flame.bounds();
      const width = byId('overview').clientWidth || 800;
      this.send('overview', (requestId) => ({
        type: 'getWindow',
        requestId,
        purpose: 'overview',
        threads: this.flame.threads(),
        lanes: this.flame.laneRefs(),
        startNs: b.startNs,
        endNs: b.endNs,
        minDurationNs: span(b) / width,
        maxBoxes: 2000,
        filter: '',
      }));
    }, wait);
  }

  private requestFunctions(): void {
    const filter = this.filter.appliedFilter;
    this.send('functions', (requestId) => ({ type: 'getFunctions', requestId, filter }));
  }

  private requestDetails(callId: number): void {
    this.send('details', (requestId) => ({ type: 'getDetails', requestId, callId }));
  }

  private findMatch(step: 1 | -1): void {
    const filter = this.filter.appliedFilter;
    const total = this.filter.matches;
    if (!filter || !total) return;
    const index =
      this.matchIndex < 0
        ? step > 0
          ? 0
          : total - 1
        : (((this.matchIndex + step) % total) + total) % total;
    this.send('match', (requestId) => ({ type: 'findMatch', requestId, filter, index }));
  }

  private setView(view: TimelineView, save: boolean): void {
    this.view = view;
    for (const tab of Array.from(document.querySelectorAll<HTMLElement>('[role="tab"]'))) {
      const on = tab.dataset.view === view;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
    }
    this.tree.hidden = view !== 'calls';
    this.functionsEl.hidden = view !== 'functions';
    this.emptyEl.classList.toggle('off-tab', view !== 'calls');
    if (view === 'functions') this.requestFunctions();
    if (save) this.saveState();
  }

  // ---- selection -----------------------------------------------------------------------------

  private selectBox(box: FlameBox | null): void {
    this.select(box?.id ?? null, 'flame', {});
  }

  private select(
    id: number | null,
    from: SelectFrom,
    opts: { reveal?: boolean; show?: boolean },
  ): void {
    const changed = id !== this.data.selected;
    this.data.selected = id;
    this.flame.setSelected(id);
    for (const row of visibleRows(this.tree)) {
      const on = id !== null && row.dataset.callId === String(id);
      row.classList.toggle('selected', on);
      row.setAttribute('aria-selected', String(on));
      row.tabIndex = on ? 0 : -1;
      if (on && from === 'tree') {
        row.focus({ preventScroll: true });
        row.scrollIntoView({ block: 'nearest' });
      }
    }
    this.saveState();
    if (from !== 'host' && from !== 'restore' && (changed || from === 'tree')) {
      vscode.postMessage({ type: 'select', callId: id });
    }
    if (opts.reveal && id !== null) vscode.postMessage({ type: 'reveal', callId: id });
    if (id === null) {
      this.details.show(null, this.originNs);
      return;
    }
    this.showSelected = !!opts.show;
    this.scrollToSelected = from !== 'tree';
    this.requestDetails(id);
  }

  private showDetails(details: CallDetails | null): void {
    this.details.show(details, this.originNs);
    if (!details) return;
    const c = details.call;
    const place: CallPlace = {
      id: c.id,
      thread: c.thread,
      ...(c.lane !== undefined ? { lane: c.lane } : {}),
      depth: c.depth,
      startNs: c.startNs,
      endNs: c.endNs,
    };
    this.flame.setSelectedPlace(place);
    if (this.showSelected) {
      this.showSelected = false;
      this.flame.reveal(place);
    }
    if (this.scrollToSelected) {
      // Open the call's ancestors in the tree so its row is there.
      for (const id of details.ancestors) {
        if (!this.data.expanded.has(id)) {
          this.data.expanded.add(id);
          this.request(id, 0, PAGE_SIZE);
        }
      }
      this.saveState();
      this.queueRender();
    }
  }

  // ---- call tree -----------------------------------------------------------------------------

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
      if (this.scrollToSelected && this.data.selected !== null) {
        const row = this.tree.querySelector<HTMLElement>(
          `.call-row[data-call-id="${this.data.selected}"]`,
        );
        if (row) {
          row.scrollIntoView({ block: 'nearest' });
          this.scrollToSelected = false;
        }
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
    el.title = s.dropped
      ? `${formatCount(s.dropped)} events were dropped by the tracer (its buffer was full); the trace has gaps.`
      : '';
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

  private onTreeClick(e: MouseEvent): void {
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
    else this.select(id, 'tree', { reveal: true, show: true });
  }

  private onTreeKey(e: KeyboardEvent): void {
    const rows = visibleRows(this.tree);
    if (!rows.length) return;
    const index = rows.findIndex((r) => r.dataset.callId === String(this.data.selected));
    const current = index >= 0 ? rows[index] : undefined;
    const id = current ? Number(current.dataset.callId) : undefined;
    const move = (i: number) => {
      const row = rows[Math.max(0, Math.min(rows.length - 1, i))];
      this.select(Number(row.dataset.callId), 'tree', { show: true });
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
          if (parentRow) this.select(Number(parentRow.dataset.callId), 'tree', { show: true });
        }
        break;
      case 'Enter':
      case ' ':
        if (id !== undefined) this.select(id, 'tree', { reveal: true });
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
      window: this.flame?.savedView() ?? null,
      filter: this.filter?.text ?? '',
      filterMode: this.filter?.filterMode ?? 'query',
      view: this.view,
      follow: this.followBox.checked,
    });
  }
}

new TimelineApp();
