// The overview strip above the flame chart: the whole trace in a few pixels per lane, with the
// visible window marked; dragging the mark (or pressing outside it) moves the flame chart's window.
// Browser only; draws what webview/main.ts gives it and reports moves through a callback.

import type { LaneWindow } from './protocol';
import { moduleColour } from './flame/moduleColor';
import { clampWindow, span, timeAt, xOf, type TimeWindow } from './flame/viewport';
import type { ThemeColours } from './themeColours';

const ROW = 3;

export class OverviewStrip {
  private lanes: LaneWindow[] = [];
  private bounds: TimeWindow = { startNs: 0, endNs: 1 };
  private view: TimeWindow = { startNs: 0, endNs: 1 };
  private theme: ThemeColours | undefined;
  private drag: { offsetNs: number } | undefined;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly onMove: (w: TimeWindow) => void,
  ) {
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.moveTo(e));
    canvas.addEventListener('pointerup', (e) => {
      this.drag = undefined;
      canvas.releasePointerCapture(e.pointerId);
    });
  }

  set(lanes: LaneWindow[]): void {
    this.lanes = lanes;
    this.draw();
  }

  update(bounds: TimeWindow, view: TimeWindow, theme: ThemeColours): void {
    this.bounds = bounds;
    this.view = view;
    this.theme = theme;
    this.draw();
  }

  private width(): number {
    return this.canvas.clientWidth || 1;
  }

  private down(e: PointerEvent): void {
    const t = timeAt(e.offsetX, this.bounds, this.width());
    const inside = t >= this.view.startNs && t <= this.view.endNs;
    // Pressing outside the mark centres the window there, then drags it.
    this.drag = { offsetNs: inside ? t - this.view.startNs : span(this.view) / 2 };
    this.canvas.setPointerCapture(e.pointerId);
    this.moveTo(e);
  }

  private moveTo(e: PointerEvent): void {
    if (!this.drag) return;
    const t = timeAt(e.offsetX, this.bounds, this.width());
    const s = span(this.view);
    const start = t - this.drag.offsetNs;
    this.onMove(clampWindow({ startNs: start, endNs: start + s }, this.bounds));
  }

  draw(): void {
    const theme = this.theme;
    if (!theme) return;
    const dpr = window.devicePixelRatio || 1;
    const W = this.canvas.clientWidth;
    const H = this.canvas.clientHeight;
    if (!W || !H) return;
    if (this.canvas.width !== Math.round(W * dpr) || this.canvas.height !== Math.round(H * dpr)) {
      this.canvas.width = Math.round(W * dpr);
      this.canvas.height = Math.round(H * dpr);
    }
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = theme.background;
    ctx.fillRect(0, 0, W, H);
    const laneH = this.lanes.length ? Math.max(ROW, Math.floor(H / this.lanes.length)) : H;
    this.lanes.forEach((lane, i) => {
      const top = i * laneH;
      const rows = Math.max(1, Math.floor(laneH / ROW));
      const x = (ns: number) => xOf(ns, this.bounds, W);
      for (const b of lane.buckets) {
        if (b.depth >= rows) continue;
        ctx.fillStyle = moduleColour(b.module, theme.kind).fill;
        const x0 = x(b.startNs);
        ctx.fillRect(x0, top + b.depth * ROW, Math.max(1, x(b.endNs) - x0), ROW - 1);
      }
      for (const b of lane.boxes) {
        if (b.depth >= rows) continue;
        ctx.fillStyle = b.exception ? theme.exception : moduleColour(b.module, theme.kind).fill;
        const x0 = x(b.startNs);
        ctx.fillRect(
          x0,
          top + b.depth * ROW,
          Math.max(1, x(b.endNs ?? this.bounds.endNs) - x0),
          ROW - 1,
        );
      }
    });
    const x0 = xOf(this.view.startNs, this.bounds, W);
    const x1 = Math.max(x0 + 2, xOf(this.view.endNs, this.bounds, W));
    ctx.fillStyle = theme.overviewWindow;
    ctx.fillRect(x0, 0, x1 - x0, H);
    ctx.fillStyle = theme.selection;
    ctx.fillRect(x0, 0, 1, H);
    ctx.fillRect(x1 - 1, 0, 1, H);
    this.canvas.dataset.windowX = String(Math.round(x0));
    this.canvas.dataset.windowW = String(Math.round(x1 - x0));
  }
}
