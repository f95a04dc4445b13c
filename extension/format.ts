// Pure text formatting shared by the editor decorations, the hovers and the timeline webview:
// durations with units, values shortened to a width, arguments as `name=value`, exceptions.
// Imports nothing (no vscode, no DOM) so it is bundled into both sides and unit-tested in Node.

import type { CallArg } from './store/api';
import { valueText } from './valueSnapshot';

const ELLIPSIS = '…';

/** Collapses runs of whitespace (newlines included) to one space, so a value fits on one line. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * The value on one line, cut to at most `max` characters (the last one an ellipsis if cut). A
 * structured snapshot (`--values structured`) shows as its repr.
 */
export function shortenValue(text: string, max = 60): string {
  const flat = oneLine(valueText(text));
  if (max < 1) return '';
  if (flat.length <= max) return flat;
  return flat.slice(0, max - 1) + ELLIPSIS;
}

function significant(value: number): string {
  // Three significant digits, trailing zeros dropped: 1.5, 12.3, 123.
  if (value >= 100) return String(Math.round(value));
  if (value >= 10) return String(Math.round(value * 10) / 10);
  return String(Math.round(value * 100) / 100);
}

/** A duration in nanoseconds as a short human string: "850 ns", "12.3 µs", "1.5 ms", "2.35 s". */
export function formatDuration(ns: number): string {
  if (!Number.isFinite(ns) || ns < 0) return '?';
  if (ns < 1_000) return `${Math.round(ns)} ns`;
  // Rounding can push a value up to the next unit (999.96 µs -> "1000 µs"); step up instead.
  if (ns < 999_500) return `${significant(ns / 1_000)} µs`;
  if (ns < 999_500_000) return `${significant(ns / 1_000_000)} ms`;
  if (ns < 59_500_000_000) return `${significant(ns / 1_000_000_000)} s`;
  const totalSeconds = Math.round(ns / 1_000_000_000);
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  if (minutes < 60) return `${minutes} min ${seconds} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** A call's duration, or "running" while it has no end. */
export function formatCallDuration(startNs: number, endNs: number | null): string {
  return endNs === null ? 'running' : formatDuration(endNs - startNs);
}

/** Arguments as `name=value, name=value`, each value shortened to `maxEach`. */
export function formatArgs(args: readonly CallArg[], maxEach = 40): string {
  return args.map((a) => `${a.name}=${shortenValue(a.value, maxEach)}`).join(', ');
}

/** `Type: message`, or just `Type` when the message is empty; on one line. */
export function formatException(type: string, message: string): string {
  const m = oneLine(message);
  return m ? `${type}: ${m}` : type;
}

/** 1234567 -> "1,234,567" (fixed grouping, independent of the host's locale). */
export function formatCount(n: number): string {
  return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
