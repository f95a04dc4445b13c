// Hosts the timeline webview in a real Chromium without VS Code, for the timeline browser tests:
// the page the extension builds (timelineHtml, its CSP included), the bundled dist/webview.js and
// media/timeline.css served from a loopback test server, and the real TimelineController answering
// from a real store. Only acquireVsCodeApi is provided, as VS Code provides it (state kept in
// sessionStorage so it survives reloads). Test-only; touches nothing outside dist/.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CallSelection } from '../../extension/callSelection';
import type { ITraceStore } from '../../extension/store/api';
import { TimelineController } from '../../extension/timeline/timelineController';
import { timelineHtml } from '../../extension/timeline/timelineHtml';
import type { FromWebview, TimelineState } from '../../webview/protocol';
import { buildWorker } from '../unit/fixtures/storeStreams';

const root = path.resolve(__dirname, '..', '..');
export const chromiumPath = process.env.TRACELENS_CHROMIUM || '/usr/bin/chromium';

export interface TimelineHost {
  origin: string;
  browser: Browser;
  cspViolations: string[];
  close(): Promise<void>;
}

/** Builds the webview and the store worker, starts the page server and Chromium. */
export async function startTimelineHost(): Promise<TimelineHost> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium not found at ${chromiumPath}; install it (apt-get install chromium)`);
  }
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), 'webview'], {
    cwd: root,
    stdio: 'pipe',
  });
  buildWorker();
  let origin = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        timelineHtml({
          cspSource: origin,
          styleUri: `${origin}/media/timeline.css`,
          scriptUri: `${origin}/dist/webview.js`,
        }),
      );
      return;
    }
    const file = path.join(root, url.pathname);
    if (!/^\/(media|dist)\/[\w.-]+$/.test(url.pathname) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    const type = file.endsWith('.css') ? 'text/css' : 'text/javascript';
    res.writeHead(200, { 'content-type': type });
    res.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--enable-precise-memory-info'],
  });
  return {
    origin,
    browser,
    cspViolations: [],
    async close() {
      await browser.close();
      server.close();
    },
  };
}

export interface TimelinePage {
  page: Page;
  controller: TimelineController;
  selection: CallSelection;
  revealed: number[];
}

/** A page running the timeline against `store`; reveals are recorded; `state` is restored. */
export async function openTimeline(
  host: TimelineHost,
  store: ITraceStore,
  options: { state?: TimelineState; viewport?: { width: number; height: number } } = {},
): Promise<TimelinePage> {
  const context = await host.browser.newContext({
    viewport: options.viewport ?? { width: 900, height: 700 },
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) host.cspViolations.push(m.text());
  });
  page.on('pageerror', (e) => assert.fail(`webview error: ${e.message}`));
  const revealed: number[] = [];
  const selection = new CallSelection();
  const controller = new TimelineController(
    store,
    { reveal: async (id) => void revealed.push(id) },
    // As VS Code does, the message crosses as JSON text.
    (message) =>
      void page
        .evaluate((json) => window.postMessage(JSON.parse(json), '*'), JSON.stringify(message))
        .catch(() => {}),
    (m) => assert.fail(m),
    selection,
  );
  await page.exposeFunction('__tracelensHost', async (m: FromWebview) => {
    const t0 = Date.now();
    await controller.handle(m);
    if (process.env.TRACELENS_TRACE_MESSAGES) console.log(`${m.type} ${Date.now() - t0} ms`);
  });
  const initial = options.state ? JSON.stringify(JSON.stringify(options.state)) : 'null';
  // A string, not a function: the test's own transpiled helpers do not exist in the page.
  await page.addInitScript(`
    if (${initial} !== null && sessionStorage.getItem('state') === null) {
      sessionStorage.setItem('state', ${initial});
    }
    window.acquireVsCodeApi = () => ({
      postMessage: (m) => window.__tracelensHost(m),
      getState: () => JSON.parse(sessionStorage.getItem('state') ?? 'null') ?? undefined,
      setState: (s) => sessionStorage.setItem('state', JSON.stringify(s)),
    });
  `);
  await page.goto(host.origin);
  return { page, controller, selection, revealed };
}

/** Polls `read` until it deep-equals `expected` (10 s), else fails showing the last value. */
export async function waitForValue<T>(
  read: () => Promise<T>,
  expected: T,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen: T = await read();
  while (Date.now() < deadline) {
    seen = await read();
    if (JSON.stringify(seen) === JSON.stringify(expected)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(seen, expected);
}

/** The boxes the flame chart lists as drawn (its offscreen mirror), in lane, depth, time order. */
export interface DrawnBox {
  id: number;
  name: string;
  thread: number;
  depth: number;
  x: number;
  y: number;
  w: number;
  match?: string;
  exception?: boolean;
}

export function drawnBoxes(page: Page): Promise<DrawnBox[]> {
  return page.locator('#flame-boxes > li.flame-box').evaluateAll((els) =>
    els.map((e) => {
      const d = (e as HTMLElement).dataset;
      const box: Record<string, unknown> = {
        id: Number(d.callId),
        name: d.name,
        thread: Number(d.thread),
        depth: Number(d.depth),
        x: Number(d.x),
        y: Number(d.y),
        w: Number(d.w),
      };
      if (d.match !== undefined) box.match = d.match;
      if (d.exception) box.exception = true;
      return box as unknown as DrawnBox;
    }),
  );
}

/** The flame chart's visible window, in ns since the trace's start. */
export async function flameView(page: Page): Promise<[number, number]> {
  const [s, e] = await page
    .locator('#flame')
    .evaluate((el) => [(el as HTMLElement).dataset.viewStart, (el as HTMLElement).dataset.viewEnd]);
  return [Number(s), Number(e)];
}
