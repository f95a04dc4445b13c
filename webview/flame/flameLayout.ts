// Where the flame chart draws things: lanes (one per thread, and one per asyncio task right
// under its thread) stacked downwards, each call's box
// as a pixel rectangle (time across, depth down), buckets of tiny calls, labels clipped to their
// box, and which box is under the pointer. No DOM and no vscode imports; unit-tested.

import type { FlameBox, FlameBucket, TrackInfo } from '../../extension/store/api';
import { xOf, type TimeWindow } from './viewport';

export const ROW_HEIGHT = 18;
export const LANE_HEADER = 18;
export const LANE_GAP = 6;

export interface Lane {
  thread: number;
  /** A task's lane: its (negative) key, which its windows are asked and kept by. */
  key?: number;
  /** A task's lane: the task's name. */
  task?: string;
  /** A task's lane: the call depth drawn in its top row (TrackInfo.depthBase). */
  depthBase?: number;
  label: string;
  /** Top of the lane's header (css px from the chart's top, before scrolling). */
  top: number;
  /** Top of depth 0. */
  rowsTop: number;
  /** Header plus rows. */
  height: number;
}

export interface LaneLayout {
  lanes: Lane[];
  height: number;
}

export function laneLabel(t: TrackInfo): string {
  if (t.lane !== undefined) return `↳ task ${t.task ?? t.name}`;
  return `${t.name} (pid ${t.pid})`;
}

/** The key a track's windows are asked and kept by (laneKey of a thread: its id). */
export function laneKey(t: TrackInfo): number {
  return t.lane ?? t.thread;
}

/** Lanes for the tracks in order, each tall enough for its deepest call. */
export function layoutLanes(tracks: readonly TrackInfo[], rowHeight = ROW_HEIGHT): LaneLayout {
  const lanes: Lane[] = [];
  let y = 0;
  for (const t of tracks) {
    const height = LANE_HEADER + (Math.max(0, t.maxDepth) + 1) * rowHeight;
    const lane: Lane = {
      thread: t.thread,
      label: laneLabel(t),
      top: y,
      rowsTop: y + LANE_HEADER,
      height,
    };
    if (t.lane !== undefined) {
      lane.key = t.lane;
      lane.task = t.task ?? t.name;
      lane.depthBase = t.depthBase ?? 0;
    }
    lanes.push(lane);
    y += height + LANE_GAP;
  }
  return { lanes, height: Math.max(0, y - LANE_GAP) };
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface BoxRect extends Rect {
  box: FlameBox;
}

export interface BucketRect extends Rect {
  bucket: FlameBucket;
}

/** Left and right pixel of [startNs, endNs] clipped to a little beyond the chart's edges. */
function span(
  startNs: number,
  endNs: number,
  w: TimeWindow,
  widthPx: number,
): [number, number] | null {
  if (endNs < w.startNs || startNs > w.endNs) return null;
  const x0 = Math.max(-2, xOf(startNs, w, widthPx));
  const x1 = Math.min(widthPx + 2, xOf(endNs, w, widthPx));
  return [x0, Math.max(x1, x0 + 1)];
}

/**
 * Rectangles of the boxes that fall in `w`; a running call (no end) reaches `liveEndNs`. Every
 * box is at least one pixel wide so none disappears.
 */
export function boxRects(
  boxes: readonly FlameBox[],
  w: TimeWindow,
  widthPx: number,
  rowsTop: number,
  liveEndNs: number,
  rowHeight = ROW_HEIGHT,
): BoxRect[] {
  const out: BoxRect[] = [];
  for (const box of boxes) {
    const s = span(box.startNs, box.endNs ?? liveEndNs, w, widthPx);
    if (!s) continue;
    out.push({
      x: s[0],
      y: rowsTop + box.depth * rowHeight,
      w: s[1] - s[0],
      h: rowHeight - 1,
      box,
    });
  }
  return out;
}

export function bucketRects(
  buckets: readonly FlameBucket[],
  w: TimeWindow,
  widthPx: number,
  rowsTop: number,
  rowHeight = ROW_HEIGHT,
): BucketRect[] {
  const out: BucketRect[] = [];
  for (const bucket of buckets) {
    const s = span(bucket.startNs, bucket.endNs, w, widthPx);
    if (!s) continue;
    out.push({
      x: s[0],
      y: rowsTop + bucket.depth * rowHeight,
      w: s[1] - s[0],
      h: rowHeight - 1,
      bucket,
    });
  }
  return out;
}

/**
 * The label that fits a box `widthPx` wide with characters `charWidth` wide (monospace): the
 * whole text, the text cut with an ellipsis, or '' when fewer than three characters fit.
 */
export function fitLabel(text: string, widthPx: number, charWidth: number, padding = 3): string {
  const room = Math.floor((widthPx - 2 * padding) / charWidth);
  if (room >= text.length) return text;
  if (room < 3) return '';
  return text.slice(0, room - 1) + '…';
}

/** The topmost box under (x, y), if any; a one-pixel box is hit within two pixels. */
export function hitTest(rects: readonly BoxRect[], x: number, y: number): BoxRect | undefined {
  let near: BoxRect | undefined;
  for (const r of rects) {
    if (y < r.y || y >= r.y + r.h + 1) continue;
    if (x >= r.x && x < r.x + r.w) return r;
    if (!near && r.w < 3 && x >= r.x - 2 && x < r.x + r.w + 2) near = r;
  }
  return near;
}

/** The lane whose rows or header contain y. */
export function laneAt(layout: LaneLayout, y: number): Lane | undefined {
  return layout.lanes.find((l) => y >= l.top && y < l.top + l.height);
}
