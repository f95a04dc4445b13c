// Where the flame chart draws what is not a call: probe marks in their lane's header strip (an
// audit or other probe event as a small tick, a garbage collection as a bar from its start to
// its end) and the regions where the tracer dropped records, hatched across the lane's rows; the
// texts their tooltips show; and which mark is under the pointer. No DOM and no vscode imports;
// unit-tested in test/unit/flameMarks.test.ts.

import type { DropRegion, FlameMark } from '../../extension/store/api';
import { formatDuration } from '../../extension/format';
import { LANE_HEADER, type Rect } from './flameLayout';
import { xOf, type TimeWindow } from './viewport';

/** Half the width of an instant mark's tick (css px). */
export const TICK = 3;

export interface MarkRect extends Rect {
  mark: FlameMark;
}

export interface DropRect extends Rect {
  drop: DropRegion;
}

/** Rectangles of the marks in view, in a lane whose header starts at `top` (css px). */
export function markRects(
  marks: readonly FlameMark[],
  w: TimeWindow,
  widthPx: number,
  top: number,
  liveEndNs: number,
): MarkRect[] {
  const out: MarkRect[] = [];
  const h = LANE_HEADER - 2;
  for (const mark of marks) {
    const end = mark.kind === 'gc' ? (mark.endNs ?? liveEndNs) : (mark.endNs ?? mark.startNs);
    if (end < w.startNs || mark.startNs > w.endNs) continue;
    const x0 = xOf(mark.startNs, w, widthPx);
    const x1 = xOf(end, w, widthPx);
    if (mark.kind === 'gc' || x1 - x0 >= 2 * TICK) {
      // A span (or instants merged over a few pixels): at least a tick wide.
      const a = Math.max(-2, x0);
      const b = Math.min(widthPx + 2, Math.max(x1, x0 + 2 * TICK));
      out.push({ x: a, y: top, w: Math.max(2 * TICK, b - a), h, mark });
    } else {
      out.push({ x: x0 - TICK, y: top, w: 2 * TICK, h, mark });
    }
  }
  return out;
}

/** Rectangles of the dropped regions in view over a lane's rows (at least 3 px wide). */
export function dropRects(
  drops: readonly DropRegion[],
  w: TimeWindow,
  widthPx: number,
  rowsTop: number,
  rowsHeight: number,
): DropRect[] {
  const out: DropRect[] = [];
  for (const drop of drops) {
    if (drop.endNs < w.startNs || drop.startNs > w.endNs) continue;
    const x0 = Math.max(-2, xOf(drop.startNs, w, widthPx));
    const x1 = Math.min(widthPx + 2, xOf(drop.endNs, w, widthPx));
    const width = Math.max(3, x1 - x0);
    out.push({ x: x1 - x0 < 3 ? x0 - 1 : x0, y: rowsTop, w: width, h: rowsHeight, drop });
  }
  return out;
}

/** The mark under (x, y): the narrowest containing it, so a tick on a GC bar wins. */
export function hitMark(rects: readonly MarkRect[], x: number, y: number): MarkRect | undefined {
  let best: MarkRect | undefined;
  for (const r of rects) {
    if (y < r.y || y >= r.y + r.h || x < r.x - 1 || x >= r.x + r.w + 1) continue;
    if (!best || r.w < best.w) best = r;
  }
  return best;
}

export function hitDrop(rects: readonly DropRect[], x: number, y: number): DropRect | undefined {
  return rects.find((r) => y >= r.y && y < r.y + r.h && x >= r.x && x < r.x + r.w);
}

function place(m: FlameMark): string {
  if (!m.file) return '';
  const name = m.file.split(/[\\/]/).pop();
  return m.line ? ` · ${name}:${m.line}` : ` · ${name}`;
}

/** One line saying what a mark is, for its tooltip and the screen-reader list. */
export function markText(m: FlameMark): string {
  const more = m.count > 1 ? ` (+${m.count - 1} more within a pixel)` : '';
  if (m.kind === 'gc') {
    const parts = ['Garbage collection'];
    if (m.generation !== undefined) parts.push(`generation ${m.generation}`);
    if (m.collected !== undefined) parts.push(`${m.collected} collected`);
    parts.push(m.endNs === null ? 'end not recorded' : formatDuration(m.endNs - m.startNs));
    return parts.join(' · ') + place(m) + more;
  }
  if (m.kind === 'audit') return `Audit event ${m.detail || m.name}${place(m)}${more}`;
  return `Probe ${m.name}${m.detail ? ` ${m.detail}` : ''}${place(m)}${more}`;
}

/** What a hatched region says: how many records the tracer could not keep, and over how long. */
export function dropText(d: DropRegion): string {
  const n = `${d.records.toLocaleString('en-US')} record${d.records === 1 ? '' : 's'} lost`;
  const over = d.endNs > d.startNs ? ` over ${formatDuration(d.endNs - d.startNs)}` : '';
  return `${n}${over}: the tracer's buffer was full, so calls here may be missing or cut short`;
}

/** The short label drawn inside a hatched region when it is wide enough. */
export function dropLabel(d: DropRegion): string {
  return `${d.records.toLocaleString('en-US')} lost`;
}
