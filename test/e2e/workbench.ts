// Shared helpers for the editor, timeline-in-VS-Code and attach end-to-end tests, on top of
// test/e2e/harness.ts (which it does not change): polling, cursor moves, hovers, CodeLens texts,
// the heat gutter, the status bar, the QuickPick, and the timeline webview's flame chart.
// Reads what a person sees in code-server; touches no sources.
import assert from 'node:assert/strict';
import type { FrameLocator } from 'playwright-core';
import type { Workbench } from './harness';

/** Polls `probe` until it returns something truthy; fails after `timeoutMs` saying what it saw. */
export async function poll<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 30_000,
  intervalMs = 250,
  seen?: () => unknown,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const shown = seen ? `; last seen: ${JSON.stringify(seen())}` : '';
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${shown}` +
          (last ? ` (last error: ${(last as Error).message ?? last})` : ''),
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Polls `read` until its value deep-equals `expected`; fails showing the last value. */
export async function waitForEqual<T>(
  what: string,
  read: () => Promise<T>,
  expected: T,
  timeoutMs = 30_000,
): Promise<void> {
  let last: T | undefined;
  try {
    await poll(
      what,
      async () => {
        last = await read();
        return JSON.stringify(last) === JSON.stringify(expected);
      },
      timeoutMs,
    );
  } catch {
    assert.deepEqual(last, expected, `${what} (after ${timeoutMs} ms)`);
  }
}

/** Moves the cursor of the active editor to a 1-based line (Go to Line). */
export async function goToLine(wb: Workbench, line: number): Promise<void> {
  const page = wb.page;
  await page.keyboard.press('Escape');
  await page.locator('.editor-group-container.active .monaco-editor textarea').first().focus();
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(`:${line}`);
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
  await page
    .locator('.statusbar-item', { hasText: new RegExp(`^Ln ${line}, Col \\d+`) })
    .first()
    .waitFor({ timeout: 10_000 });
}

/**
 * Runs a command by its palette title for commands that open a QuickPick of their own (the
 * harness's runCommand waits for the palette to close, which such a command never lets happen).
 */
export async function runPickerCommand(wb: Workbench, title: string): Promise<void> {
  const page = wb.page;
  const input = page.locator('.quick-input-widget input');
  await poll(
    `the command "${title}" in the palette`,
    async () => {
      if (!(await input.isVisible())) await page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: 5000 });
      await input.fill(`>${title}`);
      const rows = page.locator('.quick-input-list .monaco-list-row');
      await rows.first().waitFor({ timeout: 3000 });
      const labels = await rows.evaluateAll((els) =>
        els.map((e) => e.getAttribute('aria-label') ?? ''),
      );
      const i = labels.findIndex((l) => l === title || l.startsWith(`${title},`));
      if (i < 0) return false;
      await rows.nth(i).click();
      return true;
    },
    30_000,
    500,
  );
  // The palette's text is replaced by the command's own picker.
  await poll(
    "the command's picker",
    async () => !(await input.inputValue()).startsWith('>'),
    10_000,
  );
}

/**
 * "Tracelens: Open Trace…" with `file` typed into its path box. The dialog fills the box with its
 * start folder a moment after it shows, so the path is typed again until it is the box's text.
 */
export async function openTraceFile(wb: Workbench, file: string): Promise<void> {
  await runPickerCommand(wb, 'Tracelens: Open Trace…');
  const input = wb.page.locator('.quick-input-widget input');
  await poll(
    'the trace path in the open dialog',
    async () => {
      await input.fill(file);
      await new Promise((resolve) => setTimeout(resolve, 300));
      return (await input.inputValue()) === file;
    },
    15_000,
    0,
  );
  await wb.page.keyboard.press('Enter');
}

/** Hides the bottom panel (the Debug Console opens with each session) with its toggle, Ctrl+J. */
export async function hidePanel(wb: Workbench): Promise<void> {
  const panel = wb.page.locator('.part.panel');
  if (!(await panel.isVisible())) return;
  await wb.page.locator('.editor-group-container.active .monaco-editor textarea').first().focus();
  await wb.page.keyboard.press('Control+J');
  await panel.waitFor({ state: 'hidden', timeout: 10_000 });
}

/** The visible text of the status bar (every item, space separated). */
export async function statusBarText(wb: Workbench): Promise<string> {
  const texts = await wb.page
    .locator('.statusbar .statusbar-item')
    .evaluateAll((els) => els.map((e) => (e as HTMLElement).innerText.trim()));
  return texts.filter(Boolean).join(' | ');
}

/** Waits until the status bar shows text that passes the test; returns the whole status bar text. */
export async function waitForStatusBar(
  wb: Workbench,
  test: (text: string) => boolean,
  timeoutMs = 30_000,
): Promise<string> {
  let last = '';
  return poll(
    'the status bar',
    async () => {
      last = await statusBarText(wb);
      return test(last) ? last : undefined;
    },
    timeoutMs,
    100,
    () => last,
  );
}

/** The CodeLens titles shown in the active editor, in line order. */
export async function codeLensTexts(wb: Workbench): Promise<string[]> {
  return wb.page
    .locator('.editor-group-container.active .monaco-editor .contentWidgets .codelens-decoration')
    .evaluateAll((els) =>
      els
        .map((e) => ({ top: e.getBoundingClientRect().top, text: (e as HTMLElement).innerText }))
        .sort((a, b) => a.top - b.top)
        .map((e) => e.text.trim()),
    );
}

/** Where a 1-based line of the active editor is on screen (its line number's box), if visible. */
async function lineBox(
  wb: Workbench,
  line: number,
): Promise<{ x: number; y: number; height: number; textX: number } | undefined> {
  return wb.page.evaluate((line) => {
    const editor = document.querySelector(
      '.editor-group-container.active .editor-instance .monaco-editor',
    );
    if (!editor) return undefined;
    for (const el of Array.from(
      editor.querySelectorAll<HTMLElement>('.margin-view-overlays > div'),
    )) {
      if (el.querySelector('.line-numbers')?.textContent?.trim() !== String(line)) continue;
      const view = Array.from(
        editor.querySelectorAll<HTMLElement>('.view-lines > .view-line'),
      ).find((v) => v.style.top === el.style.top);
      const r = el.getBoundingClientRect();
      // The first non-blank token of the line: hovers answer over code, not over indentation.
      const spans = view ? Array.from(view.querySelectorAll<HTMLElement>('span > span')) : [];
      const token = spans.find((s) => (s.textContent ?? '').trim() !== '');
      const t = token?.getBoundingClientRect();
      return {
        x: r.left,
        y: r.top + r.height / 2,
        height: r.height,
        textX: t ? t.left + Math.min(t.width / 2, 12) : r.right + 40,
      };
    }
    return undefined;
  }, line);
}

/** Hovers the first token of a 1-based line of the active editor; returns the hover's text. */
export async function hoverLine(
  wb: Workbench,
  line: number,
  test: (text: string) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<string> {
  const page = wb.page;
  let last = '';
  const text = await poll(
    `a hover on line ${line}`,
    async () => {
      const box = await lineBox(wb, line);
      if (!box) return undefined;
      // Move away first so each attempt starts a new hover.
      await page.mouse.move(5, 5);
      await page.waitForTimeout(100);
      await page.mouse.move(box.textX, box.y, { steps: 3 });
      const hover = page.locator('.monaco-hover:not(.hidden)').last();
      await hover.waitFor({ state: 'visible', timeout: 4000 });
      await page.waitForTimeout(300); // hovers fill in as providers answer
      last = await hover.innerText();
      return test(last) ? last : undefined;
    },
    timeoutMs,
    250,
    () => last,
  );
  await page.mouse.move(5, 5);
  await page.keyboard.press('Escape');
  return text;
}

/** Heat gutter bars of the active editor: 1-based line -> level (from the bar's SVG). */
export async function heatGutter(wb: Workbench): Promise<Map<number, number>> {
  const pairs = await wb.page.evaluate(() => {
    const editor = document.querySelector(
      '.editor-group-container.active .editor-instance .monaco-editor',
    );
    if (!editor) return [];
    const lines: { top: number; bottom: number; n: number }[] = [];
    for (const el of Array.from(
      editor.querySelectorAll<HTMLElement>('.margin-view-overlays > div'),
    )) {
      const n = el.querySelector('.line-numbers')?.textContent?.trim();
      if (!n || !/^\d+$/.test(n)) continue;
      const r = el.getBoundingClientRect();
      lines.push({ top: r.top, bottom: r.bottom, n: Number(n) });
    }
    const out: [number, number][] = [];
    for (const el of Array.from(editor.querySelectorAll<HTMLElement>('.margin *'))) {
      const bg = getComputedStyle(el).backgroundImage;
      const m = /base64,([A-Za-z0-9+/=]+)/.exec(bg);
      if (!m) continue;
      const level = /tracelens-heat-(\d+)/.exec(atob(m[1]));
      if (!level) continue;
      const r = el.getBoundingClientRect();
      const mid = r.top + r.height / 2;
      const line = lines.find((l) => mid >= l.top && mid < l.bottom);
      if (line) out.push([line.n, Number(level[1])]);
    }
    return out;
  });
  return new Map(pairs.sort((a, b) => a[0] - b[0]));
}

/** The rows a QuickPick lists now (aria labels), for pickers that fill while they scan. */
export async function quickPickRows(wb: Workbench): Promise<string[]> {
  return wb.page
    .locator('.quick-input-widget .quick-input-list .monaco-list-row')
    .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
}

/** The timeline webview's content frame. */
export function timeline(wb: Workbench): FrameLocator {
  return wb.webview();
}

/** A box the flame chart lists as drawn (its offscreen mirror). */
export interface FlameBox {
  id: number;
  name: string;
  depth: number;
  x: number;
  y: number;
  w: number;
  h: number;
  match?: string;
}

export async function flameBoxes(frame: FrameLocator): Promise<FlameBox[]> {
  return frame.locator('#flame-boxes > li.flame-box').evaluateAll((els) =>
    els.map((e) => {
      const d = (e as HTMLElement).dataset;
      const box: Record<string, unknown> = {
        id: Number(d.callId),
        name: d.name,
        depth: Number(d.depth),
        x: Number(d.x),
        y: Number(d.y),
        w: Number(d.w),
        h: Number(d.h),
      };
      if (d.match !== undefined) box.match = d.match;
      return box as unknown as FlameBox;
    }),
  );
}

/** The flame chart's visible window [start, end] in ns since the trace's start. */
export async function flameWindow(frame: FrameLocator): Promise<[number, number]> {
  const [s, e] = await frame
    .locator('#flame')
    .evaluate((el) => [(el as HTMLElement).dataset.viewStart, (el as HTMLElement).dataset.viewEnd]);
  return [Number(s), Number(e)];
}

/** The timeline's summary figures (data attributes of #summary). */
export async function timelineSummary(
  frame: FrameLocator,
): Promise<{ calls: number; running: boolean; text: string }> {
  return frame.locator('#summary').evaluate((el) => ({
    calls: Number((el as HTMLElement).dataset.calls ?? -1),
    running: (el as HTMLElement).dataset.running === 'true',
    text: el.textContent ?? '',
  }));
}
