// Unit tests of the flame chart's time axis (webview/flame/timeAxis.ts) and module colours
// (webview/flame/moduleColor.ts): exact ticks, labels with units, stable colours.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashString, HUES, moduleColour, paletteIndex } from '../../webview/flame/moduleColor';
import { axisTicks, niceStep, tickLabel } from '../../webview/flame/timeAxis';

test('steps are 1, 2 or 5 times a power of ten', () => {
  assert.equal(niceStep(0.3), 1);
  assert.equal(niceStep(1), 1);
  assert.equal(niceStep(1.5), 2);
  assert.equal(niceStep(3), 5);
  assert.equal(niceStep(7), 10);
  assert.equal(niceStep(120), 200);
  assert.equal(niceStep(4_100_000), 5_000_000);
  assert.equal(niceStep(1e9), 1e9);
});

test('labels use the unit of the step with the decimals it needs', () => {
  assert.equal(tickLabel(0, 100), '0 ns');
  assert.equal(tickLabel(0, 500), '0 µs');
  assert.equal(tickLabel(500, 500), '0.5 µs');
  assert.equal(tickLabel(300, 100), '300 ns');
  assert.equal(tickLabel(1500, 500), '1.5 µs');
  assert.equal(tickLabel(1500, 100), '1500 ns');
  assert.equal(tickLabel(2000, 1000), '2 µs');
  assert.equal(tickLabel(1_500_000, 500_000), '1.5 ms');
  assert.equal(tickLabel(1_250_000, 50_000), '1250 µs');
  assert.equal(tickLabel(1_400_000, 200_000), '1.4 ms');
  assert.equal(tickLabel(3_000_000_000, 1_000_000_000), '3 s');
  assert.equal(tickLabel(2_200_000_000, 200_000_000), '2.2 s');
  assert.equal(tickLabel(12_345_000, 5_000), '12345 µs');
});

test('ticks cover the window, spaced and labelled from the trace start', () => {
  // 1 ms over 1000 px, ticks at least 90 px apart: a 100 µs step.
  const axis = axisTicks({ startNs: 1_000_050_000, endNs: 1_001_050_000 }, 1000, 1_000_000_000);
  assert.equal(axis.stepNs, 100_000);
  assert.deepEqual(
    axis.ticks.map((t) => t.label),
    [
      '100 µs',
      '200 µs',
      '300 µs',
      '400 µs',
      '500 µs',
      '600 µs',
      '700 µs',
      '800 µs',
      '900 µs',
      '1000 µs',
    ],
  );
  assert.equal(axis.ticks[0].x, 50);
  assert.equal(axis.ticks[9].x, 950);
  assert.deepEqual(axisTicks({ startNs: 0, endNs: 0 }, 100, 0).ticks, []);
});

test('module colours are stable, spread, and dim under a filter', () => {
  assert.equal(hashString(''), 0x811c9dc5);
  assert.equal(hashString('a'), 0xe40c292c);
  assert.equal(paletteIndex('app.models'), paletteIndex('app.models'));
  const used = new Set(
    ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((m) => paletteIndex(`mod_${m}`)),
  );
  assert.ok(used.size >= 5, `8 modules use ${used.size} hues`);
  const hue = HUES[paletteIndex('__main__')];
  assert.deepEqual(moduleColour('__main__', 'dark'), {
    fill: `hsl(${hue} 45% 36%)`,
    text: 'hsl(0 0% 96%)',
  });
  assert.deepEqual(moduleColour('__main__', 'light', true), {
    fill: `hsl(${hue} 15% 92%)`,
    text: 'hsl(0 0% 55%)',
  });
  for (const h of HUES) assert.ok(h > 20 && h < 330, 'no hue near the exception red');
});
