// Zoom and pan of the flame chart's visible time window: pure arithmetic on nanosecond ranges
// (wheel zoom around the cursor, drag and key pans, zoom to a call, follow the live edge).
// No DOM and no vscode imports; unit-tested in test/unit/flameViewport.test.ts.

export interface TimeWindow {
  startNs: number;
  endNs: number;
}

/** The narrowest window the chart zooms to (a few nanoseconds per screen is useless). */
export const MIN_SPAN_NS = 20;

export function span(w: TimeWindow): number {
  return w.endNs - w.startNs;
}

/** The window moved and shrunk to lie inside `bounds`, at least MIN_SPAN_NS wide. */
export function clampWindow(w: TimeWindow, bounds: TimeWindow): TimeWindow {
  const boundSpan = Math.max(span(bounds), MIN_SPAN_NS);
  const s = Math.min(Math.max(span(w), MIN_SPAN_NS), boundSpan);
  let start = w.startNs;
  if (start < bounds.startNs) start = bounds.startNs;
  if (start + s > bounds.startNs + boundSpan) start = bounds.startNs + boundSpan - s;
  return { startNs: start, endNs: start + s };
}

/** Time at pixel x of a chart `widthPx` wide showing `w`. */
export function timeAt(x: number, w: TimeWindow, widthPx: number): number {
  return w.startNs + (x / widthPx) * span(w);
}

/** Pixel x of time `ns`. */
export function xOf(ns: number, w: TimeWindow, widthPx: number): number {
  return ((ns - w.startNs) / span(w)) * widthPx;
}

/**
 * Zooms by `factor` (< 1 zooms in) keeping the time under `anchor` (a fraction 0..1 of the width)
 * where it is on screen.
 */
export function zoomAt(
  w: TimeWindow,
  factor: number,
  anchor: number,
  bounds: TimeWindow,
): TimeWindow {
  const a = Math.min(1, Math.max(0, anchor));
  const pivot = w.startNs + a * span(w);
  const s = Math.max(MIN_SPAN_NS, span(w) * factor);
  return clampWindow({ startNs: pivot - a * s, endNs: pivot - a * s + s }, bounds);
}

/** Pans by `fraction` of the window's width (positive: later in time). */
export function panBy(w: TimeWindow, fraction: number, bounds: TimeWindow): TimeWindow {
  const d = span(w) * fraction;
  return clampWindow({ startNs: w.startNs + d, endNs: w.endNs + d }, bounds);
}

/** Pans by a drag of `dx` pixels (dragging right shows earlier times). */
export function panByPixels(
  w: TimeWindow,
  dx: number,
  widthPx: number,
  bounds: TimeWindow,
): TimeWindow {
  return panBy(w, -dx / widthPx, bounds);
}

/** A window showing `range` with `pad` (fraction of its span) of room on each side. */
export function zoomTo(range: TimeWindow, bounds: TimeWindow, pad = 0.05): TimeWindow {
  const s = Math.max(span(range), MIN_SPAN_NS);
  const margin = s * pad;
  return clampWindow(
    { startNs: range.startNs - margin, endNs: range.startNs + s + margin },
    bounds,
  );
}

/** The same span, moved so that it ends at the live edge (the newest event). */
export function followEdge(w: TimeWindow, bounds: TimeWindow): TimeWindow {
  const s = span(w);
  return clampWindow({ startNs: bounds.endNs - s, endNs: bounds.endNs }, bounds);
}

/** Whether `w` shows the end of `bounds` (within a pixel of `widthPx`). */
export function showsEnd(w: TimeWindow, bounds: TimeWindow, widthPx: number): boolean {
  return bounds.endNs - w.endNs <= span(w) / Math.max(1, widthPx);
}

/** `w` widened by `fraction` of its span on each side (what is fetched around what is shown). */
export function overscan(w: TimeWindow, fraction: number, bounds: TimeWindow): TimeWindow {
  const m = span(w) * fraction;
  return {
    startNs: Math.max(bounds.startNs, w.startNs - m),
    endNs: Math.min(bounds.endNs, w.endNs + m),
  };
}

/** Whether `outer` contains `inner`. */
export function covers(outer: TimeWindow, inner: TimeWindow): boolean {
  return outer.startNs <= inner.startNs && outer.endNs >= inner.endNs;
}
