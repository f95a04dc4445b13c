// Line heat as plain data: per-line figures (exact from line mode, or sampled) quantized to a few
// levels, so the editor needs one decoration type per level (never one per line); the legend, the
// hover's text and the gutter bars' SVG. Pure; no vscode import, unit-tested in Node.

import { formatCount, formatDuration } from '../format';
import type { LineStats } from '../store/api';

/** Levels 1 (coolest drawn) to HEAT_LEVELS (hottest). */
export const HEAT_LEVELS = 5;

export interface HeatLine {
  /** 1-based line as recorded. */
  line: number;
  level: number;
  stats: LineStats;
}

export interface HeatMap {
  lines: HeatLine[];
  /** The figures are samples (estimates), not exact counts. */
  sampled: boolean;
  /** What the levels rank: own time, or hits when no time was recorded. */
  metric: 'own' | 'hits';
  /** The hottest line's value of the metric. */
  max: number;
  /** Own time of every line of the file together (ns). */
  totalOwnNs: number;
}

export const EMPTY_HEAT: HeatMap = {
  lines: [],
  sampled: false,
  metric: 'own',
  max: 0,
  totalOwnNs: 0,
};

/**
 * The level of a value: the square root of its share of the hottest line's, in HEAT_LEVELS equal
 * steps (so a line at 64% of the hottest or more is at the top level, at 4% or less at level 1).
 * Any recorded line gets at least level 1; the hottest line always gets the top level.
 */
export function heatLevel(value: number, max: number): number {
  if (!(max > 0) || !(value > 0)) return 1;
  const level = Math.ceil(HEAT_LEVELS * Math.sqrt(Math.min(1, value / max)) - 1e-9);
  return Math.min(HEAT_LEVELS, Math.max(1, level));
}

/** The smallest value of the metric at each level (index 0: level 1), for the legend. */
export function levelThresholds(max: number): number[] {
  const out: number[] = [];
  for (let k = 1; k <= HEAT_LEVELS; k++) out.push((max * (k - 1) ** 2) / HEAT_LEVELS ** 2);
  return out;
}

/**
 * Quantizes a file's line figures. When the file has exact figures, sampled ones are left out
 * (exact wins); figures for the same line (several processes) are summed.
 */
export function buildHeat(stats: readonly LineStats[]): HeatMap {
  if (stats.length === 0) return EMPTY_HEAT;
  const exact = stats.some((s) => !s.sampled);
  const byLine = new Map<number, LineStats>();
  for (const s of stats) {
    if (exact && s.sampled) continue;
    if (!Number.isInteger(s.line) || s.line < 1) continue;
    const seen = byLine.get(s.line);
    if (seen) {
      byLine.set(s.line, {
        line: s.line,
        hits: seen.hits + s.hits,
        ownNs: seen.ownNs + s.ownNs,
        totalNs: seen.totalNs + s.totalNs,
        sampled: seen.sampled,
      });
    } else byLine.set(s.line, { ...s });
  }
  let maxOwn = 0;
  let maxHits = 0;
  let totalOwnNs = 0;
  for (const s of byLine.values()) {
    maxOwn = Math.max(maxOwn, s.ownNs);
    maxHits = Math.max(maxHits, s.hits);
    totalOwnNs += s.ownNs;
  }
  const metric = maxOwn > 0 ? 'own' : 'hits';
  const max = metric === 'own' ? maxOwn : maxHits;
  const lines: HeatLine[] = [];
  for (const s of byLine.values()) {
    lines.push({
      line: s.line,
      level: heatLevel(metric === 'own' ? s.ownNs : s.hits, max),
      stats: s,
    });
  }
  lines.sort((a, b) => a.line - b.line);
  return { lines, sampled: !exact, metric, max, totalOwnNs };
}

/** Groups lines by level: index 0 holds level 1. Every level present (empty clears its type). */
export function groupByLevel<T extends { level: number }>(lines: readonly T[]): T[][] {
  const groups: T[][] = Array.from({ length: HEAT_LEVELS }, () => []);
  for (const l of lines) groups[l.level - 1].push(l);
  return groups;
}

function metricText(value: number, metric: HeatMap['metric']): string {
  return metric === 'own' ? formatDuration(value) : `${formatCount(Math.ceil(value))} hits`;
}

/** The figures of one line for its hover (Markdown-safe plain text). */
export function heatHoverText(heat: HeatMap, line: HeatLine): string {
  const s = line.stats;
  const kind = heat.sampled ? 'sampled' : 'exact';
  const share =
    heat.totalOwnNs > 0 ? ` (${Math.round((100 * s.ownNs) / heat.totalOwnNs)}% of the file)` : '';
  const hits = heat.sampled
    ? `${formatCount(s.hits)} ${s.hits === 1 ? 'sample' : 'samples'}`
    : `${formatCount(s.hits)} ${s.hits === 1 ? 'hit' : 'hits'}`;
  const approx = heat.sampled ? '≈ ' : '';
  return (
    `Line heat (${kind}): level ${line.level} of ${HEAT_LEVELS} · ${hits} · ` +
    `own ${approx}${formatDuration(s.ownNs)}${share} · total ${approx}${formatDuration(s.totalNs)}`
  );
}

/** One legend row per level, hottest first: "█ level 5: ≥ 1.2 ms own". */
export function heatLegend(heat: HeatMap): string[] {
  if (heat.lines.length === 0) return [];
  const t = levelThresholds(heat.max);
  const bars = ['▁', '▂', '▄', '▆', '█'];
  const rows: string[] = [];
  for (let k = HEAT_LEVELS; k >= 1; k--) {
    const what = heat.metric === 'own' ? 'own time' : '';
    const bound = k === 1 ? 'below' : '≥';
    const value = k === 1 ? t[1] : t[k - 1];
    rows.push(
      `${bars[k - 1]} level ${k}: ${bound} ${metricText(value, heat.metric)} ${what}`.trim(),
    );
  }
  return rows;
}

/** The short status bar label, e.g. "heat: exact" or "heat: sampled". */
export function heatLabel(heat: HeatMap): string {
  return heat.lines.length ? `heat: ${heat.sampled ? 'sampled' : 'exact'}` : '';
}

/** The gutter bar of a level: an SVG whose bar widens with the level (id names the level). */
export function heatGutterSvg(level: number): string {
  const width = 2 + level * 2;
  const opacity = (0.35 + (0.65 * level) / HEAT_LEVELS).toFixed(2);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="14" height="14" viewBox="0 0 14 14">` +
    `<title>tracelens-heat-${level}</title>` +
    `<rect id="tracelens-heat-${level}" x="0" y="0" width="${width}" height="14" ` +
    `fill="#f06c28" fill-opacity="${opacity}"/></svg>`
  );
}

/** The SVG as a data URI (base64, so no character of it needs escaping in a URI). */
export function heatGutterDataUri(level: number): string {
  return `data:image/svg+xml;base64,${Buffer.from(heatGutterSvg(level), 'utf8').toString('base64')}`;
}
