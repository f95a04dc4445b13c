// Frame time of the timeline on a synthetic trace of a million calls, in headless Chromium against
// the real store: time to the first frame with boxes, draw time per zoom/pan frame (median, p95,
// max), time to handle each window answer, and the webview's JavaScript heap (CDP). The figures
// are printed, not asserted as timings (they depend on the machine); what is asserted is that the
// chart draws, the view changes with the keys and the webview never holds the whole trace.
// TRACELENS_FRAME_CALLS changes the size (default 1,000,000).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { StoreClient } from '../../extension/store/storeClient';
import { startStore } from '../unit/fixtures/storeStreams';
import { feedSyntheticTrace } from './timelineSynthetic';
import {
  drawnBoxes,
  flameView,
  openTimeline,
  startTimelineHost,
  type TimelineHost,
} from './timelinePage';

const CALLS = Number(process.env.TRACELENS_FRAME_CALLS ?? 1_000_000);

let host: TimelineHost;
let store: StoreClient;

before(async () => {
  host = await startTimelineHost();
});

after(async () => {
  await host?.close();
  await store?.dispose();
});

function stats(values: number[]): {
  n: number;
  median: number;
  p95: number;
  max: number;
  over16: number;
} {
  const v = [...values].sort((a, b) => a - b);
  const at = (q: number) => v[Math.min(v.length - 1, Math.floor(q * v.length))] ?? NaN;
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    n: v.length,
    median: r(at(0.5)),
    p95: r(at(0.95)),
    max: r(v[v.length - 1] ?? NaN),
    over16: v.filter((x) => x > 16).length,
  };
}

test(
  `frame time on ${CALLS.toLocaleString('en')} calls (reported)`,
  { timeout: 10 * 60_000 },
  async () => {
    store = startStore({ onError: (m) => assert.fail(m) });
    const t0 = Date.now();
    feedSyntheticTrace(store, CALLS);
    let summary = await store.summary();
    while (summary.running || summary.calls < CALLS) {
      await new Promise((r) => setTimeout(r, 200));
      summary = await store.summary();
    }
    const ingestMs = Date.now() - t0;
    assert.equal(summary.calls, CALLS);

    const { page } = await openTimeline(host, store, { viewport: { width: 1280, height: 800 } });
    await page.waitForFunction(
      () => performance.getEntriesByName('tracelens-first-boxes').length > 0,
      null,
      {
        timeout: 60_000,
      },
    );
    const firstFrameMs = await page.evaluate(
      () => performance.getEntriesByName('tracelens-first-boxes')[0].startTime,
    );
    await page.locator('#flame-boxes > li').first().waitFor({ state: 'attached' });
    assert.ok((await drawnBoxes(page)).length > 0);
    await page.waitForTimeout(500);
    const whole = await flameView(page);

    // Zoom and pan: keys and the wheel, each followed by two animation frames.
    await page.evaluate(() => {
      performance.clearMeasures('tracelens-frame');
      performance.clearMeasures('tracelens-message');
    });
    await page.locator('#flame').focus();
    const frame = () =>
      page.evaluate(
        () =>
          new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))),
      );
    const keys = [
      ...'wwwwwwwwwwww',
      ...'dddddaaaaa',
      ...'wwwwww',
      ...'ddddd',
      ...'ssssssssssss',
      ...'aaaaa',
    ];
    for (const k of keys) {
      await page.keyboard.press(k);
      await frame();
    }
    await page.mouse.move(640, 300);
    for (let i = 0; i < 30; i++) {
      await page.mouse.wheel(0, i < 15 ? -120 : 120);
      await frame();
    }
    // Drag to pan.
    await page.mouse.down();
    for (let i = 0; i < 30; i++) {
      await page.mouse.move(640 - i * 10, 300);
      await frame();
    }
    await page.mouse.up();
    await page.waitForTimeout(300);
    const zoomed = await flameView(page);
    assert.notDeepEqual(zoomed, whole);
    const timings = await page.evaluate(() => ({
      frames: performance.getEntriesByName('tracelens-frame').map((e) => e.duration),
      messages: performance.getEntriesByName('tracelens-message').map((e) => e.duration),
    }));
    const cdp = await page.context().newCDPSession(page);
    const heap = (await cdp.send('Runtime.getHeapUsage')) as {
      usedSize: number;
      totalSize: number;
    };
    await cdp.send('HeapProfiler.collectGarbage');
    const heapAfterGc = (await cdp.send('Runtime.getHeapUsage')) as {
      usedSize: number;
      totalSize: number;
    };
    const mb = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;
    const report = {
      calls: CALLS,
      ingestMs,
      firstFrameMs: Math.round(firstFrameMs),
      drawMs: stats(timings.frames),
      windowAnswerMs: stats(timings.messages),
      heapUsedMB: mb(heap.usedSize),
      heapUsedAfterGcMB: mb(heapAfterGc.usedSize),
      mirroredBoxes: Number(await page.locator('#flame-boxes').getAttribute('data-total')),
    };
    console.log(`timeline frames: ${JSON.stringify(report)}`);
    // The webview holds a window's worth, never the trace: far less than one object per call.
    assert.ok(heapAfterGc.usedSize < 150 * 1024 * 1024, `heap ${mb(heapAfterGc.usedSize)} MB`);
  },
);
