// The timeline webview in a real Chromium without VS Code: the page the extension builds
// (timelineHtml, its CSP included), the bundled dist/webview.js, and the real TimelineController
// answering from a real store (sql.js worker) fed a recorded stream. Only acquireVsCodeApi is
// provided by the test, as VS Code provides it. Checks rows, lazy children, reveal, keys, state
// across a reload, live updates and clearing.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { StoreClient } from '../../extension/store/storeClient';
import { TimelineController } from '../../extension/timeline/timelineController';
import type { FromWebview } from '../../webview/protocol';
import { readStream, replay, startStore } from '../unit/fixtures/storeStreams';
import { startTimelineHost, type TimelineHost } from './timelinePage';

const stream = readStream('handmade.jsonl');

let host: TimelineHost;
let store: StoreClient;
const cspViolations: string[] = [];

before(async () => {
  host = await startTimelineHost();
});

after(async () => {
  await host?.close();
  await store?.dispose();
});

/** A page running the timeline against `store`; reveals are recorded. */
async function openTimeline(
  revealed: number[],
): Promise<{ page: Page; controller: TimelineController }> {
  const context = await host.browser.newContext({ viewport: { width: 900, height: 600 } });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  page.on('pageerror', (e) => assert.fail(`webview error: ${e.message}`));
  const controller = new TimelineController(
    store,
    { reveal: async (id) => void revealed.push(id) },
    (message) => void page.evaluate((m) => window.postMessage(m, '*'), message).catch(() => {}),
    (m) => assert.fail(m),
  );
  await page.exposeFunction('__tracelensHost', (m: FromWebview) => controller.handle(m));
  // A string, not a function: the test's own transpiled helpers do not exist in the page.
  await page.addInitScript(`
    window.acquireVsCodeApi = () => ({
      postMessage: (m) => window.__tracelensHost(m),
      getState: () => JSON.parse(sessionStorage.getItem('state') ?? 'null') ?? undefined,
      setState: (s) => sessionStorage.setItem('state', JSON.stringify(s)),
    });
  `);
  await page.goto(host.origin);
  return { page, controller };
}

const rowTexts = (page: Page) =>
  page
    .locator('.call-row')
    .evaluateAll((els) =>
      els.map(
        (e) =>
          e.getAttribute('data-call-id') + '@' + e.getAttribute('data-depth') + ' ' + e.textContent,
      ),
    );

async function waitForRows(page: Page, expected: string[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  let seen: string[] = [];
  while (Date.now() < deadline) {
    seen = await rowTexts(page);
    if (JSON.stringify(seen) === JSON.stringify(expected)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(seen, expected);
}

test(
  'the timeline shows, expands, reveals, keeps state, updates live and clears',
  { timeout: 60_000 },
  async () => {
    store = startStore({ onError: (m) => assert.fail(m) });
    replay(store, stream.slice(0, 2));
    const revealed: number[] = [];
    const { page, controller } = await openTimeline(revealed);

    // While the program runs: one top-level call, still running.
    await waitForRows(page, ['1@0 <module>() running']);
    assert.equal(await page.locator('#summary').textContent(), '10 calls · 0 dropped · running');
    assert.equal(await page.locator('#summary').getAttribute('data-running'), 'true');
    assert.equal(await page.locator('#empty').isHidden(), true);

    // Expanding loads the children from the store.
    await page.locator('.call-row[data-call-id="1"] .twisty').click();
    const children = [
      '1@0 <module>() running',
      '2@1 gen() ⏸ 1 100 ns',
      '3@1 gen() ⏸ 2 100 ns',
      '4@1 gen() → None 100 ns',
      '5@1 fact(n=3) → 6 500 ns',
      "8@1 safe() → 'caught' 500 ns",
      '10@1 check() → None 300 ns',
    ];
    await waitForRows(page, children);
    assert.equal(
      await page.locator('.call-row[data-call-id="1"]').getAttribute('aria-expanded'),
      'true',
    );

    // A click on a row selects it and asks the extension to reveal it.
    await page.locator('.call-row[data-call-id="2"]').click();
    assert.equal(await page.locator('.call-row.selected').getAttribute('data-call-id'), '2');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    const selected = await page.locator('.call-row.selected').getAttribute('data-call-id');
    assert.equal(selected, '3');
    assert.deepEqual(revealed, [2, 3]);

    // Hidden and shown again (the page reloads): expansion and selection come back.
    await page.reload();
    await waitForRows(page, children);
    assert.equal(await page.locator('.call-row.selected').getAttribute('data-call-id'), selected);

    // The rest of the stream arrives: rows and summary follow.
    replay(store, stream.slice(2));
    await controller.pushSummary();
    await page.waitForFunction(
      () => document.querySelector('#summary')?.getAttribute('data-running') === 'false',
    );
    await waitForRows(page, [
      '1@0 <module>() ⚠ ValueError: bad 2 3.4 µs',
      ...children.slice(1),
      '11@1 fail(x=2) ⚠ ValueError: bad 2 200 ns',
      '12@0 fact(n=1) → 1 10 ns',
      '13@0 <module>() → None 10 ns',
    ]);
    assert.equal(await page.locator('#summary').textContent(), '13 calls · 5 dropped · finished');
    assert.equal(
      await page.locator('.call-row[data-call-id="11"] .result').getAttribute('class'),
      'result exception',
    );

    // A new trace: the store is emptied and the panel shows nothing.
    await store.clear();
    await controller.cleared();
    await waitForRows(page, []);
    assert.equal(await page.locator('#empty').isVisible(), true);
    assert.equal(await page.locator('#summary').textContent(), '0 calls · 0 dropped · no trace');
    assert.deepEqual(cspViolations, []);
  },
);
