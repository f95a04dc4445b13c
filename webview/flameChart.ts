// The flame chart's interactive part: owns the visible time window, turns wheel, drag, clicks and
// keys (W/S/A/D, F, 0/Escape, arrows, Enter) into zooms, pans and selections, asks for the data
// of what it shows (overscanned, about a pixel's resolution, stale answers dropped) and draws it
// once per animation frame. Lanes are threads and asyncio tasks; hovering a probe mark or a
// dropped region says what it is, clicking a mark selects it (and the call it happened in). Browser only; the maths lives in webview/flame/, the drawing in
// flameRenderer.ts; it talks to the rest of the panel only through FlameChartEvents.

import type { FlameBox, FlameMark, TrackInfo } from '../extension/store/api';
import { formatDuration } from '../extension/format';
import { NavIndex, type NavDirection } from './flame/callNavigation';
import { flameAction, wheelZoomFactor, type FlameAction } from './flame/flameKeys';
import { hitTest, layoutLanes, ROW_HEIGHT, type LaneLayout } from './flame/flameLayout';
import { dropText, hitDrop, hitMark, markText } from './flame/markLayout';
import {
  covers,
  followEdge,
  overscan,
  panBy,
  panByPixels,
  span,
  zoomAt,
  zoomTo,
  type TimeWindow,
} from './flame/viewport';
import { renderBoxMirror } from './boxMirror';
import { AXIS_HEIGHT, drawFlame, type DrawnLane } from './flameRenderer';
import type { LaneRef, LaneWindow } from './protocol';
import type { ThemeColours } from './themeColours';

export interface FlameChartEvents {
  /** Ask the extension for these lanes' window (with marks); returns the request id. */
  fetch(w: TimeWindow, minDurationNs: number, lanes: LaneRef[]): number;
  /** The visible window changed (to save the state and move the overview's mark). */
  viewChanged(): void;
  select(box: FlameBox | null): void;
  reveal(callId: number): void;
  /** The arrow key's target is not among the loaded boxes: ask the store. */
  navigateFallback(callId: number, direction: NavDirection): void;
  followChanged(on: boolean): void;
  /** A probe mark was selected (null: none); `call` is the call it happened in, if known. */
  selectMark?(mark: FlameMark | null): void;
}

/** Where a call is, enough to bring it into view. */
export interface CallPlace {
  id: number;
  thread: number;
  /** A task lane's key when the call is drawn there (CallRow.lane). */
  lane?: number;
  /** The call's depth (CallRow.depth; a task lane starts at its depthBase). */
  depth: number;
  startNs: number;
  endNs: number | null;
}

const FETCH_DELAY_MS = 40;
/** A window request unanswered this long is given up: the next fetch asks again (an answer that
 * was lost, or is far behind the store, must not leave the chart on what it had). */
const PENDING_LIMIT_MS = 3000;
const MIRROR_DELAY_MS = 120;
const OVERSCAN = 0.5;

export class FlameChart {
  private tracks: TrackInfo[] = [];
  private layout: LaneLayout = { lanes: [], height: 0 };
  private originNs = 0;
  private liveEndNs = 0;
  private running = false;
  /** null: the whole trace (it grows while the program runs). */
  private view: TimeWindow | null = null;
  private lanes = new Map<number, LaneWindow>();
  private navIndex = new Map<number, NavIndex>();
  private loaded: { window: TimeWindow; minDurationNs: number; filter: string } | undefined;
  private pending: { requestId: number; minDurationNs: number; sentAt: number } | undefined;
  private filter = '';
  private selected: number | null = null;
  /** Where the selected call is (from its details), for zooming to it when its box is not loaded
   * (under a pixel at this scale). */
  private selectedPlace: CallPlace | null = null;
  private selectedMark: FlameMark | null = null;
  private follow = false;
  private drawn: DrawnLane[] = [];
  private theme: ThemeColours | undefined;
  private charWidth = 7;
  private frameQueued = false;
  private fetchTimer: ReturnType<typeof setTimeout> | undefined;
  private mirrorTimer: ReturnType<typeof setTimeout> | undefined;
  private drag:
    { x: number; y: number; view: TimeWindow; scrollTop: number; moved: boolean } | undefined;
  private pointerX: number | undefined;
  private firstBoxesMarked = false;

  constructor(
    private readonly root: HTMLElement,
    private readonly canvas: HTMLCanvasElement,
    private readonly spacer: HTMLElement,
    private readonly mirror: HTMLElement,
    private readonly tip: HTMLElement,
    private readonly events: FlameChartEvents,
  ) {
    root.addEventListener('scroll', () => this.requestDraw(), { passive: true });
    root.addEventListener('keydown', (e) => this.onKey(e));
    root.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    canvas.addEventListener('pointerdown', (e) => this.onPointerDown(e));
    canvas.addEventListener('pointermove', (e) => this.onPointerMove(e));
    canvas.addEventListener('pointerup', (e) => this.onPointerUp(e));
    canvas.addEventListener('pointerleave', () => {
      this.pointerX = undefined;
      if (!this.selectedMark) this.tip.hidden = true;
    });
    canvas.addEventListener('dblclick', (e) => {
      const hit = hitTest(this.allRects(), e.offsetX, e.offsetY);
      if (hit) this.setView(zoomTo(this.boxRange(hit.box), this.bounds()));
    });
    new ResizeObserver(() => {
      this.requestDraw();
      this.scheduleFetch();
    }).observe(root);
  }

  // ---- state in -------------------------------------------------------------------------------

  setTheme(theme: ThemeColours): void {
    this.theme = theme;
    const ctx = this.canvas.getContext('2d');
    if (ctx) {
      ctx.font = theme.monoFont;
      this.charWidth = ctx.measureText('abcdefghijklmnopqrstuvwxyz').width / 26 || 7;
    }
    this.requestDraw();
  }

  setTracks(tracks: TrackInfo[], originNs: number, liveEndNs: number, running: boolean): void {
    const key = (ts: TrackInfo[]) => ts.map((t) => `${t.thread}/${t.lane ?? ''}`).join(' ');
    const grew =
      liveEndNs !== this.liveEndNs || running !== this.running || key(tracks) !== key(this.tracks);
    this.tracks = tracks;
    this.layout = layoutLanes(tracks);
    this.originNs = originNs;
    this.liveEndNs = Math.max(liveEndNs, this.liveEndNs);
    this.running = running;
    this.spacer.style.height = `${Math.max(0, AXIS_HEIGHT + this.layout.height - this.root.clientHeight + 8)}px`;
    this.root.dataset.lanes = String(tracks.length);
    if (this.follow && this.view) this.view = followEdge(this.view, this.bounds());
    if (grew) this.scheduleFetch(true);
    this.requestDraw();
  }

  /** The store changed: what is loaded may be stale. */
  invalidate(): void {
    this.scheduleFetch(true);
  }

  clear(): void {
    this.tracks = [];
    this.layout = { lanes: [], height: 0 };
    this.lanes.clear();
    this.navIndex.clear();
    this.loaded = undefined;
    this.pending = undefined;
    this.fetchWanted = false;
    this.view = null;
    this.liveEndNs = 0;
    this.originNs = 0;
    this.selected = null;
    this.selectedPlace = null;
    this.selectedMark = null;
    this.root.dataset.selectedMark = '';
    this.tip.hidden = true;
    // What was drawn belongs to the previous trace: neither hit testing nor the mirror may offer
    // its boxes and marks (their ids mean other calls and probes in the new trace).
    this.drawn = [];
    if (this.mirrorTimer) clearTimeout(this.mirrorTimer);
    this.mirrorTimer = undefined;
    renderBoxMirror(this.mirror, [], null);
    this.requestDraw();
  }

  setFilter(filter: string): void {
    if (filter === this.filter) return;
    this.filter = filter;
    this.scheduleFetch(true);
  }

  setSelected(id: number | null): void {
    this.selected = id;
    if (this.selectedPlace?.id !== id) this.selectedPlace = null;
    this.requestDraw();
  }

  /** Where the selected call is (its details arrived). */
  setSelectedPlace(place: CallPlace): void {
    if (place.id === this.selected) this.selectedPlace = place;
  }

  setFollow(on: boolean): void {
    this.follow = on;
    if (on && this.view) this.setView(followEdge(this.view, this.bounds()));
  }

  /** The visible window; null restores the whole trace. */
  setView(w: TimeWindow | null): void {
    this.view = w;
    this.events.viewChanged();
    this.requestDraw();
    this.scheduleFetch();
  }

  /** The saved form of the view (null: the whole trace). */
  savedView(): TimeWindow | null {
    return this.view;
  }

  bounds(): TimeWindow {
    return { startNs: this.originNs, endNs: Math.max(this.liveEndNs, this.originNs + 1000) };
  }

  visible(): TimeWindow {
    const b = this.bounds();
    if (!this.view) return b;
    return this.view;
  }

  threads(): number[] {
    return [...new Set(this.tracks.map((t) => t.thread))];
  }

  /** Every lane (threads and their tasks), as windows are asked for. */
  laneRefs(): LaneRef[] {
    return this.tracks.map((t) =>
      t.lane !== undefined ? { thread: t.thread, lane: t.lane } : { thread: t.thread },
    );
  }

  /** The probe mark selected (clicked), if any. */
  get markSelected(): FlameMark | null {
    return this.selectedMark;
  }

  /** An answer to a fetch; older answers than the newest request are dropped. */
  accept(requestId: number, w: TimeWindow, filter: string, lanes: LaneWindow[]): boolean {
    if (!this.pending || this.pending.requestId !== requestId) return false;
    this.loaded = { window: w, minDurationNs: this.pending.minDurationNs, filter };
    this.pending = undefined;
    // One request at a time: what the view needs now is asked for once this one is in.
    this.fetchIfWanted();
    // Row by row, left to right: the renderer merges touching blocks of one colour.
    const order = (a: { depth: number; startNs: number }, b: { depth: number; startNs: number }) =>
      a.depth - b.depth || a.startNs - b.startNs;
    for (const l of lanes) {
      l.boxes.sort(order);
      l.buckets.sort(order);
    }
    this.lanes = new Map(lanes.map((l) => [l.lane ?? l.thread, l]));
    this.navIndex.clear();
    for (const l of lanes) {
      for (const b of l.boxes) {
        const end = b.endNs ?? b.startNs;
        if (end > this.liveEndNs) this.liveEndNs = end;
      }
    }
    this.requestDraw();
    return true;
  }

  // ---- moving the window ---------------------------------------------------------------------

  private widthPx(): number {
    return this.root.clientWidth || 1;
  }

  apply(action: FlameAction): void {
    const b = this.bounds();
    const v = this.visible();
    switch (action.kind) {
      case 'zoom': {
        const anchor = this.follow
          ? 1
          : this.pointerX !== undefined
            ? this.pointerX / this.widthPx()
            : 0.5;
        this.setView(zoomAt(v, action.factor, anchor, b));
        break;
      }
      case 'pan':
        this.stopFollowing();
        this.setView(panBy(v, action.fraction, b));
        break;
      case 'reset':
        this.setView(null);
        break;
      case 'zoomToSelection': {
        const box = this.selectedBox();
        const place = this.selectedPlace;
        if (box) this.setView(zoomTo(this.boxRange(box), b));
        else if (place && place.id === this.selected)
          this.setView(zoomTo({ startNs: place.startNs, endNs: place.endNs ?? this.liveEndNs }, b));
        break;
      }
      case 'reveal':
        if (this.selected !== null) this.events.reveal(this.selected);
        break;
      case 'navigate':
        this.navigate(action.direction);
        break;
    }
  }

  private stopFollowing(): void {
    if (!this.follow) return;
    this.follow = false;
    this.events.followChanged(false);
  }

  /** Brings a call into view: zooms out to it if it is wider than the view, else centres it. */
  reveal(place: CallPlace): void {
    const b = this.bounds();
    const v = this.visible();
    const range = { startNs: place.startNs, endNs: place.endNs ?? this.liveEndNs };
    if (!covers(v, range)) {
      if (span(range) > span(v) * 0.8) this.setView(zoomTo(range, b));
      else {
        const mid = (range.startNs + range.endNs) / 2;
        this.setView(panBy(v, (mid - (v.startNs + v.endNs) / 2) / span(v), b));
      }
    }
    const key = place.lane ?? place.thread;
    const lane = this.layout.lanes.find((l) => (l.key ?? l.thread) === key);
    if (lane) {
      const y = lane.rowsTop + (place.depth - (lane.depthBase ?? 0)) * ROW_HEIGHT;
      const room = this.root.clientHeight - AXIS_HEIGHT;
      if (y < this.root.scrollTop || y + ROW_HEIGHT > this.root.scrollTop + room) {
        this.root.scrollTop = Math.max(0, y - room / 2);
      }
    }
  }

  private boxRange(box: FlameBox): TimeWindow {
    return { startNs: box.startNs, endNs: box.endNs ?? this.liveEndNs };
  }

  private selectedBox(): FlameBox | undefined {
    if (this.selected === null) return undefined;
    for (const lane of this.lanes.values()) {
      const found = lane.boxes.find((b) => b.id === this.selected);
      if (found) return found;
    }
    return undefined;
  }

  /** The key of the lane whose loaded boxes hold call `id`. */
  private laneOfBox(id: number): number | undefined {
    for (const [key, lane] of this.lanes) if (lane.boxes.some((b) => b.id === id)) return key;
    return undefined;
  }

  private navigate(direction: NavDirection): void {
    if (this.selected === null) {
      // Nothing selected yet: start at the first top-level call in view.
      const first = this.drawn[0]?.rects.find((r) => r.box.depth === 0)?.box;
      if (first) this.events.select(first);
      return;
    }
    const key = this.laneOfBox(this.selected);
    if (key === undefined) {
      this.events.navigateFallback(this.selected, direction);
      return;
    }
    let index = this.navIndex.get(key);
    if (!index) this.navIndex.set(key, (index = new NavIndex(this.lanes.get(key)!.boxes)));
    const target = index.move(this.selected, direction);
    if (target) {
      this.events.select(target);
      const lane = this.layout.lanes.find((l) => (l.key ?? l.thread) === key);
      const data = this.lanes.get(key)!;
      this.reveal({
        ...target,
        thread: data.thread,
        ...(data.lane !== undefined ? { lane: data.lane } : {}),
        depth: target.depth + (lane?.depthBase ?? 0),
      });
    } else {
      this.events.navigateFallback(this.selected, direction);
    }
  }

  // ---- input ---------------------------------------------------------------------------------

  private onKey(e: KeyboardEvent): void {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const action = flameAction(e.key, e.shiftKey);
    if (!action) return;
    e.preventDefault();
    this.apply(action);
  }

  private onWheel(e: WheelEvent): void {
    if (e.altKey) return; // Alt+wheel scrolls the lanes.
    e.preventDefault();
    const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? this.widthPx() : 1;
    const dx = e.deltaX * unit;
    const dy = e.deltaY * unit;
    const b = this.bounds();
    if (Math.abs(dx) > Math.abs(dy) || e.shiftKey) {
      this.stopFollowing();
      this.setView(panByPixels(this.visible(), -(dx || dy), this.widthPx(), b));
    } else {
      const anchor = this.follow ? 1 : e.offsetX / this.widthPx();
      this.setView(zoomAt(this.visible(), wheelZoomFactor(dy), anchor, b));
    }
  }

  private onPointerDown(e: PointerEvent): void {
    if (e.button !== 0) return;
    this.root.focus({ preventScroll: true });
    this.drag = {
      x: e.clientX,
      y: e.clientY,
      view: this.visible(),
      scrollTop: this.root.scrollTop,
      moved: false,
    };
    this.canvas.setPointerCapture(e.pointerId);
  }

  private onPointerMove(e: PointerEvent): void {
    this.pointerX = e.offsetX;
    const d = this.drag;
    if (!d) {
      this.hover(e.offsetX, e.offsetY);
      return;
    }
    const dx = e.clientX - d.x;
    const dy = e.clientY - d.y;
    if (!d.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    d.moved = true;
    this.tip.hidden = true;
    if (dx) this.stopFollowing();
    this.root.scrollTop = d.scrollTop - dy;
    this.setView(panByPixels(d.view, dx, this.widthPx(), this.bounds()));
  }

  private onPointerUp(e: PointerEvent): void {
    const d = this.drag;
    this.drag = undefined;
    if (this.canvas.hasPointerCapture(e.pointerId)) this.canvas.releasePointerCapture(e.pointerId);
    if (!d || d.moved) return;
    const mark = hitMark(this.allMarks(), e.offsetX, e.offsetY);
    if (mark) {
      this.selectMark(mark.mark);
      this.showTip(markText(mark.mark), e.offsetX, e.offsetY);
      return;
    }
    if (this.selectedMark) {
      this.selectMark(null);
      this.tip.hidden = true;
    }
    const hit = hitTest(this.allRects(), e.offsetX, e.offsetY);
    this.events.select(hit?.box ?? null);
  }

  /** Selects a probe mark (null: none): outlined, its details kept in the tooltip. */
  selectMark(mark: FlameMark | null): void {
    this.selectedMark = mark;
    this.root.dataset.selectedMark = mark ? String(mark.id) : '';
    this.events.selectMark?.(mark);
    this.requestDraw();
  }

  private showTip(text: string, x: number, y: number): void {
    this.tip.textContent = text;
    this.tip.hidden = false;
    const left = Math.min(x + 12, this.widthPx() - this.tip.offsetWidth - 4);
    this.tip.style.left = `${Math.max(0, left)}px`;
    this.tip.style.top = `${y + 14}px`;
  }

  private hover(x: number, y: number): void {
    const mark = y > AXIS_HEIGHT ? hitMark(this.allMarks(), x, y) : undefined;
    const hit = y > AXIS_HEIGHT && !mark ? hitTest(this.allRects(), x, y) : undefined;
    const drop =
      y > AXIS_HEIGHT && !mark && !hit
        ? hitDrop(
            this.drawn.flatMap((l) => l.drops),
            x,
            y,
          )
        : undefined;
    this.canvas.style.cursor = hit || mark ? 'pointer' : 'default';
    if (mark) {
      this.showTip(markText(mark.mark), x, y);
      return;
    }
    if (drop) {
      this.showTip(dropText(drop.drop), x, y);
      return;
    }
    if (!hit) {
      // A selected mark keeps its details shown.
      if (this.selectedMark) this.tip.textContent = markText(this.selectedMark);
      else this.tip.hidden = true;
      return;
    }
    const b = hit.box;
    const dur = b.endNs === null ? 'running' : formatDuration(b.endNs - b.startNs);
    this.showTip(`${b.qualname} · ${dur} · ${b.module}${b.exception ? ' · raised' : ''}`, x, y);
  }

  private allRects() {
    return this.drawn.flatMap((l) => l.rects);
  }

  private allMarks() {
    return this.drawn.flatMap((l) => l.marks);
  }

  // ---- fetching and drawing ------------------------------------------------------------------

  /** Asks for data when what is loaded does not cover the view at about a pixel's resolution. */
  scheduleFetch(force = false): void {
    if (this.fetchTimer) clearTimeout(this.fetchTimer);
    this.fetchTimer = setTimeout(() => {
      this.fetchTimer = undefined;
      this.fetchNow(force);
    }, FETCH_DELAY_MS);
    if (force) this.forceNext = true;
  }

  private forceNext = false;

  private fetchWanted = false;

  /** The fetch asked for while a request was out, if any. */
  private fetchIfWanted(): void {
    if (!this.fetchWanted) return;
    this.fetchWanted = false;
    this.fetchNow(false);
  }

  private fetchNow(force: boolean): void {
    if (this.pending) {
      const age = performance.now() - this.pending.sentAt;
      if (age < PENDING_LIMIT_MS) {
        // The store is still answering the last request: ask again when it is in, never queue;
        // or, should it never come, once it is too late.
        this.fetchWanted = true;
        if (force) this.forceNext = true;
        if (this.fetchTimer) clearTimeout(this.fetchTimer);
        this.fetchTimer = setTimeout(
          () => {
            this.fetchTimer = undefined;
            this.fetchIfWanted();
          },
          PENDING_LIMIT_MS - age + 1,
        );
        return;
      }
      this.pending = undefined; // given up: its answer, if it comes, is dropped
      this.fetchWanted = false;
    }
    force = force || this.forceNext;
    this.forceNext = false;
    if (!this.tracks.length) return;
    const v = this.visible();
    const minDurationNs = span(v) / this.widthPx();
    const l = this.loaded;
    const fine =
      l &&
      l.filter === this.filter &&
      covers(l.window, v) &&
      l.minDurationNs <= minDurationNs * 1.5 &&
      l.minDurationNs >= minDurationNs / 3;
    if (fine && !force) return;
    const w = overscan(v, OVERSCAN, this.bounds());
    const requestId = this.events.fetch(w, minDurationNs, this.laneRefs());
    this.pending = { requestId, minDurationNs, sentAt: performance.now() };
  }

  get currentFilter(): string {
    return this.filter;
  }

  requestDraw(): void {
    if (this.frameQueued) return;
    this.frameQueued = true;
    requestAnimationFrame(() => {
      this.frameQueued = false;
      this.draw();
    });
  }

  private draw(): void {
    const theme = this.theme;
    if (!theme) return;
    const t0 = performance.now();
    const W = this.root.clientWidth;
    const H = this.root.clientHeight;
    if (!W || !H) return;
    const dpr = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(W * dpr) || this.canvas.height !== Math.round(H * dpr)) {
      this.canvas.width = Math.round(W * dpr);
      this.canvas.height = Math.round(H * dpr);
      this.canvas.style.width = `${W}px`;
      this.canvas.style.height = `${H}px`;
    }
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const view = this.visible();
    this.drawn = drawFlame(
      ctx,
      {
        widthPx: W,
        heightPx: H,
        view,
        originNs: this.originNs,
        liveEndNs: this.liveEndNs,
        running: this.running,
        layout: this.layout,
        scrollTop: this.root.scrollTop,
        lanes: this.lanes,
        selected: this.selected,
        selectedMark: this.selectedMark?.id ?? null,
        filterActive: this.filter !== '' && this.loaded?.filter === this.filter,
      },
      theme,
      this.charWidth,
    );
    this.root.dataset.viewStart = String(Math.round(view.startNs - this.originNs));
    this.root.dataset.viewEnd = String(Math.round(view.endNs - this.originNs));
    performance.measure('tracelens-frame', { start: t0, end: performance.now() });
    if (performance.getEntriesByName('tracelens-frame').length > 2000) {
      performance.clearMeasures('tracelens-frame');
    }
    if (!this.firstBoxesMarked && this.drawn.some((l) => l.rects.length)) {
      this.firstBoxesMarked = true;
      performance.mark('tracelens-first-boxes');
    }
    if (this.mirrorTimer) clearTimeout(this.mirrorTimer);
    this.mirrorTimer = setTimeout(() => {
      renderBoxMirror(this.mirror, this.drawn, this.selected);
      this.mirror.dataset.viewStart = this.root.dataset.viewStart;
      this.mirror.dataset.viewEnd = this.root.dataset.viewEnd;
      this.mirror.dataset.filter = this.loaded?.filter ?? '';
    }, MIRROR_DELAY_MS);
  }
}
