// The timeline's flame chart, details pane and filter box in a real Chromium against a real store
// fed a recorded stream (test/unit/fixtures/handmade.jsonl): boxes drawn where their times and
// depths say (read from the chart's offscreen list of drawn boxes), keys zoom and pan, clicks and
// arrow keys select, details show arguments, result and timing, the selection is shared both
// ways, the filter dims and counts, bad filters show their error with its column, completion,
// matches, the by-function table, and live growth while the program runs.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { StoreClient } from '../../extension/store/storeClient';
import { readStream, replay, startStore } from '../unit/fixtures/storeStreams';
import {
  drawnBoxes,
  flameView,
  openTimeline,
  startTimelineHost,
  waitForValue,
  type DrawnBox,
  type TimelineHost,
} from './timelinePage';

const stream = readStream('handmade.jsonl');
let host: TimelineHost;
const stores: StoreClient[] = [];

before(async () => {
  host = await startTimelineHost();
});

after(async () => {
  await host?.close();
  for (const s of stores) await s.dispose();
});

async function storeWith(messages = stream): Promise<StoreClient> {
  const store = startStore({ onError: (m) => assert.fail(m) });
  stores.push(store);
  replay(store, messages);
  await store.summary();
  return store;
}

// The handmade trace's calls on thread 1 (MainThread) and 2 (worker): [id, name, depth, start, end].
const CALLS: [number, string, number, number, number, number][] = [
  [1, '<module>', 1, 0, 1000, 4400],
  [2, 'gen', 1, 1, 1100, 1200],
  [3, 'gen', 1, 1, 1300, 1400],
  [4, 'gen', 1, 1, 1500, 1600],
  [5, 'fact', 1, 1, 2000, 2500],
  [8, 'safe', 1, 1, 3000, 3500],
  [10, 'check', 1, 1, 3600, 3900],
  [11, 'fail', 1, 1, 4000, 4200],
  [6, 'fact', 1, 2, 2100, 2400],
  [9, 'fail', 1, 2, 3100, 3300],
  [7, 'fact', 1, 3, 2200, 2300],
  [12, 'fact', 2, 0, 4060, 4070],
];
const RAISED = new Set([1, 9, 11]);
/** Where each lane's depth 0 is drawn: the axis (20 px), then lanes of header + rows + gap. */
const ROWS_TOP: Record<number, number> = { 1: 20 + 18, 2: 20 + 18 + 4 * 18 + 6 + 18 };

/** What the chart must list for a window [s, e] (ns since the start) on a chart W px wide. */
function expectedBoxes(
  s: number,
  e: number,
  W: number,
  match?: (id: number) => boolean,
): DrawnBox[] {
  const origin = 1000;
  const out: DrawnBox[] = [];
  for (const [id, name, thread, depth, start, end] of CALLS) {
    if (end - origin < s || start - origin > e) continue;
    const px = (t: number) => ((t - origin - s) / (e - s)) * W;
    const x0 = Math.max(-2, px(start));
    const x1 = Math.max(Math.min(W + 2, px(end)), x0 + 1);
    const box: DrawnBox = {
      id,
      name,
      thread,
      depth,
      x: Math.round(x0),
      y: ROWS_TOP[thread] + depth * 18,
      w: Math.round(x1 - x0),
    };
    if (match) box.match = String(match(id));
    if (RAISED.has(id)) box.exception = true;
    out.push(box);
  }
  return out;
}

const text = (page: Page, selector: string) => page.locator(selector).textContent();

test(
  'the flame chart draws, zooms, selects, navigates and filters',
  { timeout: 90_000 },
  async () => {
    const store = await storeWith();
    // The state a reload brings back: a window of 0..4 µs after the trace's start.
    const { page, selection, revealed } = await openTimeline(host, store, {
      state: { expanded: [], selected: null, scrollTop: 0, window: { startNs: 1000, endNs: 5000 } },
    });
    const W = await page.locator('#flame').evaluate((el) => el.clientWidth);
    assert.equal(W, 900);
    await waitForValue(() => drawnBoxes(page), expectedBoxes(0, 4000, W));
    assert.deepEqual(await flameView(page), [0, 4000]);
    assert.equal(await page.locator('#flame').getAttribute('data-lanes'), '3');

    // Keys zoom and pan around the centre (the pointer is not over the chart).
    await page.locator('#flame').focus();
    await page.keyboard.press('w');
    await waitForValue(() => flameView(page), [600, 3400]);
    await waitForValue(() => drawnBoxes(page), expectedBoxes(600, 3400, W));
    await page.keyboard.press('s');
    await waitForValue(() => flameView(page), [0, 4000]);
    await page.keyboard.press('d');
    await waitForValue(() => flameView(page), [800, 4800]);
    await page.keyboard.press('a');
    await waitForValue(() => flameView(page), [0, 4000]);
    await waitForValue(() => drawnBoxes(page), expectedBoxes(0, 4000, W));

    // A click on fact(n=3) selects it: details, the tree and the shared selection follow.
    const fact = expectedBoxes(0, 4000, W).find((b) => b.id === 5)!;
    await page
      .locator('#flame-canvas')
      .click({ position: { x: fact.x + fact.w / 2, y: fact.y + 8 } });
    await page.locator('#details[data-call-id="5"]').waitFor();
    assert.equal(await text(page, '.detail-qualname'), 'fact');
    assert.equal(await text(page, '.detail-arg[data-name="n"]'), '3');
    assert.equal(await text(page, '.detail-return'), '6');
    assert.equal(await text(page, '.detail-duration'), '500 ns');
    assert.equal(await text(page, '.detail-own'), '200 ns');
    assert.equal(await text(page, '.detail-start'), '+1 µs');
    assert.equal(await text(page, '.detail-thread'), 'MainThread · process 1');
    assert.equal(await text(page, '.detail-parent'), '↑ <module>');
    assert.deepEqual(await page.locator('.detail-child').allTextContents(), ['fact']);
    assert.equal(selection.callId, 5);
    await waitForValue(() => page.locator('.call-row.selected').getAttribute('data-call-id'), '5');
    await waitForValue(
      () => page.locator('#flame-boxes li[aria-current="true"]').getAttribute('data-call-id'),
      '5',
    );

    // Arrow keys: first child, parent, next and previous sibling; Enter reveals the source.
    const selected = () => page.locator('#details').getAttribute('data-call-id');
    await page.mouse.move(450, 690); // off the chart: W/S zoom around the centre again
    for (const [key, id] of [
      ['ArrowDown', '6'],
      ['ArrowDown', '7'],
      ['ArrowUp', '6'],
      ['ArrowUp', '5'],
      ['ArrowRight', '8'],
      ['ArrowLeft', '5'],
      ['ArrowLeft', '4'],
      ['ArrowUp', '1'],
    ] as const) {
      await page.keyboard.press(key);
      await waitForValue(selected, id);
    }
    await page.keyboard.press('Enter');
    await waitForValue(async () => revealed, [1]);

    // The editor selects a call: the panel follows and brings it into view.
    selection.select(9, 'editor');
    await waitForValue(selected, '9');
    assert.equal(await text(page, '.detail-exception'), 'ValueError: bad 1');
    // F zooms to it (5% room each side), 0 shows the whole trace.
    await page.locator('#flame').focus();
    await page.keyboard.press('f');
    await waitForValue(() => flameView(page), [2090, 2310]);
    await page.keyboard.press('0');
    await waitForValue(() => flameView(page), [0, 1047596]);

    // A filter: counted, non-matching boxes dimmed.
    await page.keyboard.press('d'); // nothing to pan: the whole trace is shown
    await page.evaluate(() => {
      const s = JSON.parse(sessionStorage.getItem('state')!);
      sessionStorage.setItem(
        'state',
        JSON.stringify({ ...s, window: { startNs: 1000, endNs: 5000 } }),
      );
    });
    await page.reload();
    await waitForValue(() => drawnBoxes(page), expectedBoxes(0, 4000, W));
    assert.equal(
      await page.locator('#details').getAttribute('data-call-id'),
      '9',
      'selection restored',
    );
    await page.locator('#filter').fill('function == fact');
    await waitForValue(() => text(page, '#match-count'), '4 matches');
    const facts = new Set([5, 6, 7, 12]);
    await waitForValue(
      () => drawnBoxes(page),
      expectedBoxes(0, 4000, W, (id) => facts.has(id)),
    );
    // Enter goes to the next match, Shift+Enter back.
    await page.locator('#filter').press('Enter');
    await waitForValue(() => text(page, '#match-count'), '1 of 4');
    await waitForValue(selected, '5');
    await page.locator('#filter').press('Enter');
    await waitForValue(selected, '6');
    await page.locator('#filter').press('Shift+Enter');
    await waitForValue(selected, '5');
    assert.equal(await text(page, '#match-count'), '1 of 4');

    // By function: the matching calls grouped.
    await page.locator('#tab-functions').click();
    await waitForValue(
      () =>
        page
          .locator('tr.function-row')
          .evaluateAll((rows) =>
            rows.map((r) => Array.from(r.children, (c) => c.textContent).join('|')),
          ),
      ['fact|__main__|4|510 ns|510 ns|'],
    );
    assert.equal(await page.locator('#tree').isHidden(), true);
    await page.locator('#tab-calls').click();
    assert.equal(await page.locator('#functions').isHidden(), true);

    // A bad filter: the error with its column, the input marked, nothing dimmed or counted.
    await page.locator('#filter').fill('function == ');
    await waitForValue(
      () => page.locator('#filter-problems .problem').allTextContents(),
      ["Column 13: expected a value after '=='function ==  "],
    );
    assert.equal(await page.locator('#filter').getAttribute('aria-invalid'), 'true');
    assert.equal(await text(page, '#filter-problems .problem mark'), ' ');
    assert.equal(await text(page, '#match-count'), '');
    await waitForValue(() => drawnBoxes(page), expectedBoxes(0, 4000, W));
    await page.locator('#filter').fill('fucntion == fact');
    await waitForValue(
      () => page.locator('#filter-problems .problem').allTextContents(),
      ["Column 1: unknown field 'fucntion' (did you mean 'function'?)fucntion == fact"],
    );
    assert.equal(await text(page, '#filter-problems .problem mark'), 'fucntion');

    // Completion: names from the trace, keyboard navigable.
    await page.locator('#filter').fill('');
    await page.locator('#filter').pressSequentially('function == f');
    await waitForValue(
      () => page.locator('#completions .completion-label').allTextContents(),
      ['fact', 'fail'],
    );
    await page.locator('#filter').press('ArrowDown');
    await page.locator('#filter').press('Enter');
    assert.equal(await page.locator('#filter').inputValue(), 'function == fail');
    await waitForValue(() => text(page, '#match-count'), '2 matches');

    // Text search across names and values.
    await page.locator('#filter-mode').click();
    await page.locator('#filter').fill('caught');
    await waitForValue(() => text(page, '#match-count'), '1 match');
    await page.locator('#filter').press('Enter');
    await waitForValue(selected, '8');

    // Hidden and shown again: filter, its mode, the view tab and the selection come back.
    await page.locator('#tab-functions').click();
    await page.reload();
    await waitForValue(() => text(page, '#match-count'), '1 match');
    assert.equal(await page.locator('#filter').inputValue(), 'caught');
    assert.equal(await text(page, '#filter-mode'), 'Text');
    assert.equal(await page.locator('#tab-functions').getAttribute('aria-selected'), 'true');
    await waitForValue(selected, '8');
    assert.deepEqual(host.cspViolations, []);
  },
);

test('the chart grows while the program runs', { timeout: 60_000 }, async () => {
  const store = await storeWith(stream.slice(0, 2));
  const { page, controller } = await openTimeline(host, store);
  // While running, the whole trace ends at the newest call (check, 3600..3900 ns).
  await waitForValue(() => flameView(page), [0, 2900]);
  const W = await page.locator('#flame').evaluate((el) => el.clientWidth);
  // <module> is still running: drawn to the live edge.
  await waitForValue(async () => (await drawnBoxes(page)).find((b) => b.id === 1), {
    id: 1,
    name: '<module>',
    thread: 1,
    depth: 0,
    x: 0,
    y: 38,
    w: W,
  });
  assert.equal(await page.locator('#summary').textContent(), '10 calls · 0 dropped · running');

  // Zoomed in, "follow" keeps the newest events in view.
  await page.locator('#flame').focus();
  await page.keyboard.press('w');
  await waitForValue(() => flameView(page), [435, 2465]);
  await page.locator('#follow').check();
  await waitForValue(() => flameView(page), [870, 2900]);

  replay(store, stream.slice(2));
  await controller.pushSummary();
  await waitForValue(() => flameView(page), [1047596 - 2030, 1047596]);
  await page.locator('#follow').uncheck();
  await page.locator('#flame').focus();
  await page.keyboard.press('0');
  await waitForValue(() => flameView(page), [0, 1047596]);
  await waitForValue(
    () => page.locator('#summary').textContent(),
    '13 calls · 5 dropped · finished',
  );
  assert.equal(await page.locator('#flame').getAttribute('data-lanes'), '3');
});
