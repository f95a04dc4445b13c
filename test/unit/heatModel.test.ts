// Unit tests of line heat quantization (extension/editor/heatModel.ts): levels from own time (or
// hits), exact figures winning over sampled ones, the hottest line at the top level, the legend,
// the hover text and the gutter bars.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  buildHeat,
  groupByLevel,
  heatGutterDataUri,
  heatGutterSvg,
  heatHoverText,
  heatLabel,
  heatLegend,
  heatLevel,
  HEAT_LEVELS,
  levelThresholds,
} from '../../extension/editor/heatModel';
import type { LineStats } from '../../extension/store/api';

const line = (n: number, ownNs: number, hits = 1, sampled = false, totalNs = ownNs): LineStats => ({
  line: n,
  hits,
  ownNs,
  totalNs,
  sampled,
});

test('levels: square root of the share of the hottest line, in five steps', () => {
  assert.equal(HEAT_LEVELS, 5);
  assert.equal(heatLevel(100, 100), 5);
  assert.equal(heatLevel(64, 100), 4);
  assert.equal(heatLevel(64.01, 100), 5);
  assert.equal(heatLevel(36.01, 100), 4);
  assert.equal(heatLevel(36, 100), 3);
  assert.equal(heatLevel(16, 100), 2);
  assert.equal(heatLevel(4.01, 100), 2);
  assert.equal(heatLevel(4, 100), 1);
  assert.equal(heatLevel(0, 100), 1);
  assert.equal(heatLevel(5, 0), 1);
  assert.deepEqual(levelThresholds(100), [0, 4, 16, 36, 64]);
});

test('a file with one hot loop: the loop body gets the top level, setup lines level 1', () => {
  const heat = buildHeat([
    line(3, 2_000, 1), // n = 0
    line(4, 3_000_000, 100_001), // for i in range(...)
    line(5, 9_000_000, 100_000), // total += i * i   (the hot line)
    line(6, 1_000, 1), // return total
  ]);
  assert.equal(heat.sampled, false);
  assert.equal(heat.metric, 'own');
  assert.equal(heat.max, 9_000_000);
  assert.deepEqual(
    heat.lines.map((l) => [l.line, l.level]),
    [
      [3, 1],
      [4, 3],
      [5, 5],
      [6, 1],
    ],
  );
  assert.equal(heat.totalOwnNs, 12_003_000);
  assert.deepEqual(
    groupByLevel(heat.lines).map((g) => g.map((l) => l.line)),
    [[3, 6], [], [4], [], [5]],
  );
});

test('exact figures win over sampled ones; several processes add up per line', () => {
  const heat = buildHeat([
    line(1, 500, 5, true),
    line(2, 1_000, 10, false),
    line(2, 3_000, 20, false, 4_000),
    line(7, 99_999, 99, true),
  ]);
  assert.equal(heat.sampled, false);
  assert.deepEqual(
    heat.lines.map((l) => [l.line, l.stats.hits, l.stats.ownNs, l.stats.totalNs, l.level]),
    [[2, 30, 4_000, 5_000, 5]],
  );
});

test('sampled heat is labelled; without times, hits rank the lines', () => {
  const heat = buildHeat([line(10, 0, 40, true), line(11, 0, 10, true), line(0, 0, 500, true)]);
  assert.equal(heat.sampled, true);
  assert.equal(heat.metric, 'hits');
  assert.deepEqual(
    heat.lines.map((l) => [l.line, l.level]),
    [
      [10, 5],
      [11, 3],
    ],
  );
  assert.equal(heatLabel(heat), 'heat: sampled');
  assert.equal(heatLabel(buildHeat([])), '');
  assert.deepEqual(heatLegend(heat), [
    '█ level 5: ≥ 26 hits',
    '▆ level 4: ≥ 15 hits',
    '▄ level 3: ≥ 7 hits',
    '▂ level 2: ≥ 2 hits',
    '▁ level 1: below 2 hits',
  ]);
});

test('hover text: hits, own and total time, share of the file, exact or sampled', () => {
  const exact = buildHeat([line(5, 9_000_000, 100_000, false, 12_500_000), line(6, 1_000_000, 1)]);
  assert.equal(
    heatHoverText(exact, exact.lines[0]),
    'Line heat (exact): level 5 of 5 · 100,000 hits · own 9 ms (90% of the file) · total 12.5 ms',
  );
  const sampled = buildHeat([line(5, 4_000_000, 4, true, 6_000_000)]);
  assert.equal(
    heatHoverText(sampled, sampled.lines[0]),
    'Line heat (sampled): level 5 of 5 · 4 samples · own ≈ 4 ms (100% of the file) · total ≈ 6 ms',
  );
  assert.deepEqual(heatLegend(exact).slice(0, 2), [
    '█ level 5: ≥ 5.76 ms own time',
    '▆ level 4: ≥ 3.24 ms own time',
  ]);
});

test('gutter bars: one SVG per level, wider when hotter, named by level', () => {
  const widths = [1, 2, 3, 4, 5].map((k) =>
    Number(/<rect[^>]* width="(\d+)"/.exec(heatGutterSvg(k))![1]),
  );
  assert.deepEqual(widths, [4, 6, 8, 10, 12]);
  const uri = heatGutterDataUri(5);
  assert.ok(uri.startsWith('data:image/svg+xml;base64,'));
  const svg = Buffer.from(uri.split('base64,')[1], 'base64').toString('utf8');
  assert.equal(svg, heatGutterSvg(5));
  assert.ok(svg.includes('id="tracelens-heat-5"'));
});
