// Ticks of the flame chart's time axis: a 1-2-5 step that leaves room for each label, and labels
// in the unit that fits the step (ns, µs, ms, s), counted from the trace's start.
// No DOM and no vscode imports; unit-tested in test/unit/flameTimeAxis.test.ts.

import type { TimeWindow } from './viewport';

export interface Tick {
  /** Pixel x of the tick. */
  x: number;
  /** Time since the trace's start. */
  ns: number;
  label: string;
}

export interface Axis {
  stepNs: number;
  ticks: Tick[];
}

const UNITS: [number, string][] = [
  [1e9, 's'],
  [1e6, 'ms'],
  [1e3, 'µs'],
  [1, 'ns'],
];

/** The smallest 1, 2 or 5 × 10^k nanoseconds that is at least `minNs`. */
export function niceStep(minNs: number): number {
  if (!(minNs > 1)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(minNs)));
  for (const m of [1, 2, 5, 10]) if (m * p >= minNs) return m * p;
  return 10 * p;
}

/** `ns` written in the unit that fits `stepNs`, with just the decimals the step needs. */
export function tickLabel(ns: number, stepNs: number): string {
  // A step of 200 µs or more reads as 0.2 ms; below that the smaller unit keeps whole numbers.
  const [div, unit] = UNITS.find(([d]) => stepNs * 5 >= d) ?? UNITS[UNITS.length - 1];
  const stepInUnit = stepNs / div;
  const decimals = stepInUnit >= 1 ? 0 : Math.min(9, Math.ceil(-Math.log10(stepInUnit) - 1e-9));
  const value = ns / div;
  const text = value === 0 ? '0' : value.toFixed(decimals);
  return `${text} ${unit}`;
}

/**
 * Ticks for a chart `widthPx` wide showing `w`; times are labelled relative to `originNs` (the
 * trace's start). Ticks are at least `minSpacingPx` apart.
 */
export function axisTicks(
  w: TimeWindow,
  widthPx: number,
  originNs: number,
  minSpacingPx = 90,
): Axis {
  const spanNs = w.endNs - w.startNs;
  if (!(widthPx > 0) || !(spanNs > 0)) return { stepNs: 1, ticks: [] };
  const stepNs = niceStep((spanNs / widthPx) * minSpacingPx);
  const ticks: Tick[] = [];
  const first = Math.ceil((w.startNs - originNs) / stepNs) * stepNs;
  for (let rel = first; originNs + rel <= w.endNs; rel += stepNs) {
    const x = ((originNs + rel - w.startNs) / spanNs) * widthPx;
    ticks.push({ x, ns: rel, label: tickLabel(rel, stepNs) });
    if (ticks.length > 1000) break;
  }
  return { stepNs, ticks };
}
