// Draws the flame chart on its canvas: the time axis with grid lines, one lane per thread (a
// header, then boxes by depth, buckets of tiny calls as blocks), exceptions edged in red, the
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
}

export interface DrawnLane {
  thread: number;
  rects: BoxRect[];
}

const colourCache = new Map<string, BoxColours>();

function colours(module: string, theme: ThemeColours, dim: boolean): BoxColours {
  const key = `${theme.kind}\u0000${dim ? 1 : 0}\u0000${module}`;
  let c = colourCache.get(key);
  if (!c) colourCache.set(key, (c = moduleColour(module, theme.kind, dim)));
  return c;
}

export function resetColourCache(): void {
  colourCache.clear();
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
  ctx.textBaseline = 'middle';
  for (const lane of scene.layout.lanes) {
    const top = AXIS_HEIGHT + lane.top - scene.scrollTop;
    if (top > H || top + lane.height < AXIS_HEIGHT) continue;
    ctx.fillStyle = theme.laneHeader;
    ctx.fillRect(0, top, W, LANE_HEADER - 2);
    ctx.fillStyle = theme.foreground;
    ctx.font = theme.font;
    ctx.fillText(lane.label, 6, top + (LANE_HEADER - 2) / 2);
    const data = scene.lanes.get(lane.thread);
    if (!data) continue;
    const rowsTop = top + LANE_HEADER;

    for (const r of bucketRects(data.buckets, view, W, rowsTop)) {
      const dim = scene.filterActive && !r.bucket.matches;
      ctx.fillStyle = colours(r.bucket.module, theme, dim).fill;
      ctx.globalAlpha = 0.7;
      ctx.fillRect(r.x, r.y, r.w, r.h);
      ctx.globalAlpha = 1;
      ctx.fillStyle = theme.bucket;
      ctx.fillRect(r.x, r.y + r.h - 3, r.w, 3);
    }

    const rects = boxRects(data.boxes, view, W, rowsTop, scene.liveEndNs);
    ctx.font = theme.monoFont;
    for (const r of rects) {
      if (r.y + r.h < AXIS_HEIGHT || r.y > H) continue;
      const b = r.box;
      const c = colours(b.module, theme, scene.filterActive && b.match === false);
      ctx.fillStyle = c.fill;
      const w = r.w > 2 ? r.w - 1 : r.w;
      ctx.fillRect(r.x, r.y, w, r.h);
      if (b.exception) {
        ctx.fillStyle = theme.exception;
        ctx.fillRect(r.x, r.y + r.h - 2, w, 2);
        ctx.fillRect(r.x + w - Math.min(3, w), r.y, Math.min(3, w), r.h);
      }
      if (r.w > 20) {
        const label = fitLabel(b.qualname, Math.min(r.x + r.w, W) - Math.max(r.x, 0), charWidth);
        if (label) {
          ctx.fillStyle = c.text;
          ctx.fillText(label, Math.max(r.x, 0) + 3, r.y + r.h / 2 + 0.5);
        }
      }
      if (b.id === scene.selected) selectedRect = r;
    }
    drawn.push({ thread: lane.thread, rects });
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
