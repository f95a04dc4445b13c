// Draws the flame chart on its canvas: the time axis with grid lines, one lane per thread and per
// asyncio task (a header, then boxes by depth, buckets of tiny calls as blocks), exceptions edged
// in red, probe marks in the header (GC bars, audit ticks), dropped regions hatched, the
// selection outlined, non-matching calls dimmed under a filter, the live edge while running.
// Returns the rectangles it drew for hit testing. Browser canvas only; layout math is in flame/.

import type { LaneWindow } from './protocol';
import {
  boxRects,
  bucketRects,
  fitLabel,
  LANE_HEADER,
  type BoxRect,
  type LaneLayout,
} from './flame/flameLayout';
import { dropLabel, dropRects, markRects, type DropRect, type MarkRect } from './flame/markLayout';
import { moduleColour, type BoxColours } from './flame/moduleColor';
import { axisTicks } from './flame/timeAxis';
import { xOf, type TimeWindow } from './flame/viewport';
import type { ThemeColours } from './themeColours';

export const AXIS_HEIGHT = 20;

export interface FlameScene {
  widthPx: number;
  heightPx: number;
  view: TimeWindow;
  originNs: number;
  liveEndNs: number;
  running: boolean;
  layout: LaneLayout;
  scrollTop: number;
  lanes: ReadonlyMap<number, LaneWindow>;
  selected: number | null;
  filterActive: boolean;
  /** The selected probe mark's id (probes.id), if any. */
  selectedMark?: number | null;
}

export interface DrawnLane {
  thread: number;
  /** The lane's key (thread id, or a task lane's key). */
  key: number;
  /** Position of the lane from the top. */
  index: number;
  task?: string;
  rects: BoxRect[];
  marks: MarkRect[];
  drops: DropRect[];
}

/** Per module: its colours normal and dimmed, for the current theme (reset when it changes). */
const colourCache = new Map<string, [BoxColours, BoxColours]>();

function colours(module: string, theme: ThemeColours, dim: boolean): BoxColours {
  let c = colourCache.get(module);
  if (!c) {
    c = [moduleColour(module, theme.kind, false), moduleColour(module, theme.kind, true)];
    colourCache.set(module, c);
  }
  return c[dim ? 1 : 0];
}

export function resetColourCache(): void {
  colourCache.clear();
}

/**
 * Fills rectangles, merging each into the previous one when it has the same colour and row and
 * touches it; also skips setting a fill style that is already set.
 */
class RunFiller {
  private x0 = 0;
  private x1 = 0;
  private y = NaN;
  private h = 0;
  private colour = '';
  private current = '';

  constructor(private readonly ctx: CanvasRenderingContext2D) {}

  fill(colour: string): void {
    if (colour !== this.current) this.ctx.fillStyle = this.current = colour;
  }

  add(x: number, y: number, w: number, h: number, colour: string): void {
    if (
      y === this.y &&
      h === this.h &&
      colour === this.colour &&
      x <= this.x1 + 0.5 &&
      x + w >= this.x0
    ) {
      if (x + w > this.x1) this.x1 = x + w;
      return;
    }
    this.flush();
    this.x0 = x;
    this.x1 = x + w;
    this.y = y;
    this.h = h;
    this.colour = colour;
  }

  flush(): void {
    if (this.y !== this.y) return;
    this.fill(this.colour);
    this.ctx.fillRect(this.x0, this.y, this.x1 - this.x0, this.h);
    this.y = NaN;
  }
}

/** Diagonal hatching over a dropped region, edged, with its label when the region is wide enough. */
function drawHatch(
  ctx: CanvasRenderingContext2D,
  r: DropRect,
  theme: ThemeColours,
  charWidth: number,
): void {
  ctx.save();
  ctx.beginPath();
  ctx.rect(r.x, r.y, r.w, r.h);
  ctx.clip();
  ctx.fillStyle = theme.background;
  ctx.globalAlpha = 0.55;
  ctx.fillRect(r.x, r.y, r.w, r.h);
  ctx.globalAlpha = 1;
  ctx.strokeStyle = theme.dropped;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let x = r.x - r.h; x < r.x + r.w; x += 6) {
    ctx.moveTo(x, r.y + r.h);
    ctx.lineTo(x + r.h, r.y);
  }
  ctx.stroke();
  ctx.fillStyle = theme.dropped;
  ctx.fillRect(r.x, r.y, 1, r.h);
  ctx.fillRect(r.x + r.w - 1, r.y, 1, r.h);
  const label = dropLabel(r.drop);
  if (r.w > (label.length + 2) * charWidth) {
    const tw = label.length * charWidth + 6;
    const x = r.x + (r.w - tw) / 2;
    ctx.fillStyle = theme.background;
    ctx.fillRect(x, r.y + 2, tw, 14);
    ctx.fillStyle = theme.foreground;
    ctx.fillText(label, x + 3, r.y + 9.5);
  }
  ctx.restore();
}

export function drawFlame(
  ctx: CanvasRenderingContext2D,
  scene: FlameScene,
  theme: ThemeColours,
  charWidth: number,
): DrawnLane[] {
  const { widthPx: W, heightPx: H, view } = scene;
  ctx.fillStyle = theme.background;
  ctx.fillRect(0, 0, W, H);
  const axis = axisTicks(view, W, scene.originNs);

  // Grid lines under everything.
  ctx.fillStyle = theme.grid;
  for (const t of axis.ticks) ctx.fillRect(Math.round(t.x), AXIS_HEIGHT, 1, H - AXIS_HEIGHT);

  const drawn: DrawnLane[] = [];
  let selectedRect: BoxRect | undefined;
  let selectedMark: MarkRect | undefined;
  ctx.textBaseline = 'middle';
  scene.layout.lanes.forEach((lane, index) => {
    const top = AXIS_HEIGHT + lane.top - scene.scrollTop;
    if (top > H || top + lane.height < AXIS_HEIGHT) return;
    ctx.fillStyle = theme.laneHeader;
    ctx.fillRect(lane.task !== undefined ? 12 : 0, top, W, LANE_HEADER - 2);
    ctx.fillStyle = lane.task !== undefined ? theme.muted : theme.foreground;
    ctx.font = theme.font;
    ctx.fillText(lane.label, lane.task !== undefined ? 16 : 6, top + (LANE_HEADER - 2) / 2);
    const data = scene.lanes.get(lane.key ?? lane.thread);
    if (!data) return;
    const rowsTop = top + LANE_HEADER;

    // Buckets: blocks in their module's colour, translucent; touching blocks of one colour in one
    // row are filled as one rectangle (thousands of pixel-wide slots become a few runs).
    const buckets = bucketRects(data.buckets, view, W, rowsTop);
    ctx.globalAlpha = 0.6;
    const run = new RunFiller(ctx);
    for (const r of buckets) {
      if (r.y + r.h < AXIS_HEIGHT || r.y > H) continue;
      run.add(
        r.x,
        r.y,
        r.w,
        r.h,
        colours(r.bucket.module, theme, scene.filterActive && !r.bucket.matches).fill,
      );
    }
    run.flush();
    ctx.globalAlpha = 1;

    const rects = boxRects(data.boxes, view, W, rowsTop, scene.liveEndNs);
    ctx.font = theme.monoFont;
    for (const r of rects) {
      if (r.y + r.h < AXIS_HEIGHT || r.y > H) continue;
      const b = r.box;
      const c = colours(b.module, theme, scene.filterActive && b.match === false);
      if (r.w < 3 && !b.exception) {
        // Thin boxes merge into runs like buckets; no gap, no label.
        run.add(r.x, r.y, r.w, r.h, c.fill);
        if (b.id === scene.selected) selectedRect = r;
        continue;
      }
      run.flush();
      const w = r.w > 2 ? r.w - 1 : r.w;
      run.fill(c.fill);
      ctx.fillRect(r.x, r.y, w, r.h);
      if (b.exception) {
        run.fill(theme.exception);
        ctx.fillRect(r.x, r.y + r.h - 2, w, 2);
        ctx.fillRect(r.x + w - Math.min(3, w), r.y, Math.min(3, w), r.h);
      }
      if (r.w > 20) {
        const label = fitLabel(b.qualname, Math.min(r.x + r.w, W) - Math.max(r.x, 0), charWidth);
        if (label) {
          run.fill(c.text);
          ctx.fillText(label, Math.max(r.x, 0) + 3, r.y + r.h / 2 + 0.5);
        }
      }
      if (b.id === scene.selected) selectedRect = r;
    }
    run.flush();

    // Dropped regions: hatched across the rows, with how many records were lost when it fits.
    const rowsHeight = lane.height - LANE_HEADER;
    const drops = dropRects(data.drops ?? [], view, W, rowsTop, rowsHeight);
    for (const r of drops) drawHatch(ctx, r, theme, charWidth);

    // Probe marks in the header: GC bars along its bottom, instants as ticks.
    const marks = markRects(data.marks ?? [], view, W, top, scene.liveEndNs);
    for (const r of marks) {
      const m = r.mark;
      if (m.kind === 'gc') {
        ctx.fillStyle = theme.gcMark;
        ctx.fillRect(r.x, r.y + r.h - 5, r.w, 5);
        ctx.globalAlpha = 0.12;
        ctx.fillRect(r.x, rowsTop, r.w, rowsHeight);
        ctx.globalAlpha = 1;
      } else {
        ctx.fillStyle = m.kind === 'audit' ? theme.auditMark : theme.muted;
        ctx.beginPath();
        ctx.moveTo(r.x, r.y + 2);
        ctx.lineTo(r.x + r.w, r.y + 2);
        ctx.lineTo(r.x + r.w / 2, r.y + r.h - 2);
        ctx.closePath();
        ctx.fill();
      }
      if (m.id === scene.selectedMark) selectedMark = r;
    }
    const entry: DrawnLane = {
      thread: lane.thread,
      key: lane.key ?? lane.thread,
      index,
      rects,
      marks,
      drops,
    };
    if (lane.task !== undefined) entry.task = lane.task;
    drawn.push(entry);
  });

  if (selectedMark) {
    ctx.strokeStyle = theme.selection;
    ctx.lineWidth = 2;
    ctx.strokeRect(selectedMark.x - 1, selectedMark.y, selectedMark.w + 2, selectedMark.h);
  }

  if (selectedRect) {
    ctx.strokeStyle = theme.selection;
    ctx.lineWidth = 2;
    ctx.strokeRect(
      selectedRect.x + 1,
      selectedRect.y + 1,
      Math.max(1, selectedRect.w - 3),
      selectedRect.h - 2,
    );
  }

  if (scene.running) {
    const x = xOf(scene.liveEndNs, view, W);
    if (x >= 0 && x <= W) {
      ctx.fillStyle = theme.liveEdge;
      ctx.fillRect(Math.round(x) - 1, AXIS_HEIGHT, 2, H - AXIS_HEIGHT);
    }
  }

  // The axis band last, over lanes scrolled under it.
  ctx.fillStyle = theme.background;
  ctx.fillRect(0, 0, W, AXIS_HEIGHT);
  ctx.fillStyle = theme.grid;
  ctx.fillRect(0, AXIS_HEIGHT - 1, W, 1);
  ctx.font = theme.font;
  ctx.fillStyle = theme.muted;
  for (const t of axis.ticks) {
    ctx.fillRect(Math.round(t.x), AXIS_HEIGHT - 6, 1, 5);
    ctx.fillText(t.label, Math.round(t.x) + 3, AXIS_HEIGHT / 2 - 1);
  }
  return drawn;
}
