// End to end, the editor in code-server with the packaged VSIX: values and arguments at the right
// lines, caught, uncaught and propagated exception marks, the hover's figures and recent calls,
// Previous / Next Call, the CodeLens titles, and exact line heat on a hot loop (gutter levels, the
// hover, the status bar legend, toggling it off and on). One workbench for every step; touches no
// sources.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Workbench } from './harness';
import {
  codeLensTexts,
  goToLine,
  hidePanel,
  heatGutter,
  hoverLine,
  poll,
  waitForEqual,
  waitForStatusBar,
} from './workbench';

let wb: Workbench;

before(
  async () => {
    wb = await Workbench.start({ name: 'editor' });
  },
  { timeout: 180_000 },
);

after(async () => {
  await wb?.dispose();
});

/** Every visible line with an end-of-line text, as [line, texts] pairs. */
async function decorated(file: string): Promise<[number, string[]][]> {
  return [...(await wb.lineDecorations(file))].filter(([, texts]) => texts.length > 0);
}

async function trace(file: string, lastLine: number, lastText: string): Promise<void> {
  await wb.openFile(file);
  await wb.runCommand('Tracelens: Trace This File');
  // The last decoration the program produces: once it is drawn, the trace has ended.
  await wb.waitForLineDecoration(file, lastLine, (t) => t === lastText, 60_000);
}

/**
 * The editor showing `file` becomes the active group again (the timeline opens beside it), with
 * the bottom panel (the Debug Console opens with each session) closed so that every line of the
 * short fixtures is rendered: only rendered lines can be read.
 */
async function focusEditor(file: string): Promise<void> {
  await wb.openFile(file);
  await hidePanel(wb);
}

test(
  'recursion.py: arguments on def lines, returns on return lines, CodeLens, hover, previous / next call',
  { timeout: 150_000 },
  () =>
    wb.guard('recursion', async () => {
      await trace('recursion.py', 15, '→ 3');
      await focusEditor('recursion.py');
      // The default call shown is each function's last: factorial(n=1), fib(n=0).
      await waitForEqual('recursion.py decorations', () => decorated('recursion.py'), [
        [6, ['▸ n=1']],
        [8, ['→ 1']],
        [9, ['→ 24']],
        [12, ['▸ n=0']],
        [14, ['→ 0']],
        [15, ['→ 3']],
      ]);

      const lenses = await poll('two CodeLenses', async () => {
        const t = await codeLensTexts(wb);
        return t.length === 2 && t.every((text) => text !== '') ? t : undefined; // texts rendered
      });
      assert.match(lenses[0], /^4 calls · total \d+(\.\d+)? (ns|µs|ms)$/);
      assert.match(lenses[1], /^9 calls · total \d+(\.\d+)? (ns|µs|ms)$/);

      const hover = await hoverLine(wb, 6, (t) => t.includes('Call 4 of 4'));
      for (const part of [
        'factorial called with (call 5, returned 1)',
        'factorial · 4 calls · total',
        'Last 4 calls:',
        'factorial(n=4) → 24',
        'factorial(n=3) → 6',
        'factorial(n=2) → 2',
        'factorial(n=1) → 1',
        'Call 4 of 4 · ◀ Previous call · Show in timeline',
      ]) {
        assert.ok(hover.includes(part), `the hover shows "${part}":\n${hover}`);
      }
      await wb.screenshot('editor-recursion-hover').catch(() => undefined);

      // Previous Call from inside factorial: its third call (n=2) is shown instead.
      await goToLine(wb, 7);
      await wb.runCommand('Tracelens: Previous Call');
      await waitForStatusBar(wb, (t) => t.includes('Tracelens: factorial call 3 of 4 (n=2)'));
      await waitForEqual('decorations after Previous Call', () => decorated('recursion.py'), [
        [6, ['▸ n=2']],
        [9, ['→ 2']],
        [12, ['▸ n=0']],
        [14, ['→ 0']],
        [15, ['→ 3']],
      ]);
      await wb.screenshot('editor-recursion-previous').catch(() => undefined);
      const previous = await hoverLine(wb, 6, (t) => t.includes('Call 3 of 4'));
      assert.match(previous, /Call 3 of 4 · ◀ Previous call · Next call ▶ · Show in timeline/);

      // Next Call: the last call (n=1), which returned at line 8; now that a call is selected,
      // the function's lines show that call's values only (line 9 is n=4's).
      await goToLine(wb, 7);
      await wb.runCommand('Tracelens: Next Call');
      await waitForStatusBar(wb, (t) => t.includes('Tracelens: factorial call 4 of 4 (n=1)'));
      await waitForEqual('decorations after Next Call', () => decorated('recursion.py'), [
        [6, ['▸ n=1']],
        [8, ['→ 1']],
        [12, ['▸ n=0']],
        [14, ['→ 0']],
        [15, ['→ 3']],
      ]);
      // There is no later call: the editor says so and keeps what it shows.
      await wb.runCommand('Tracelens: Next Call');
      await poll('the "no later call" notification', async () =>
        (await wb.page.locator('.notifications-toasts .notification-toast').allInnerTexts()).some(
          (t) => t.includes('Tracelens: there is no later call of factorial.'),
        ),
      );
      await wb.page.keyboard.press('Escape');
    }),
);

test(
  'exceptions.py: raising lines, caught versus uncaught, the propagated mark, the arguments',
  { timeout: 120_000 },
  () =>
    wb.guard('exceptions', async () => {
      await trace('exceptions.py', 21, '⚠ AppError: giving up');
      await focusEditor('exceptions.py');
      await waitForEqual('exceptions.py decorations', () => decorated('exceptions.py'), [
        [9, ["▸ text='x'"]],
        [10, ['⚠ ValueError: invalid literal for int() with base 10… (caught)']],
        [13, ["▸ text='x'"]],
        [15, ['→ 12']],
        [17, ['→ -1']],
        [20, ["▸ reason='giving up'"]],
        [21, ['⚠ AppError: giving up']],
        [25, ['⇡ AppError: giving up']],
      ]);
      // The hover tells caught from uncaught, with the full message.
      const caught = await hoverLine(wb, 10, (t) => t.includes('ValueError'));
      assert.match(caught, /ValueError raised here and was caught \(call 6\)/);
      assert.ok(caught.includes("invalid literal for int() with base 10: 'x'"), caught);
      const uncaught = await hoverLine(wb, 21, (t) => t.includes('AppError'));
      assert.match(uncaught, /AppError raised here and was not caught \(call 7\)/);
      const propagated = await hoverLine(wb, 25, (t) => t.includes('AppError'));
      assert.match(propagated, /AppError passed through here and was not caught/);
      await wb.screenshot('editor-exceptions').catch(() => undefined);
    }),
);

test(
  'hot_loop.py with exact line heat: the hot line at the top level, hover, legend, toggled off and on',
  { timeout: 150_000 },
  () =>
    wb.guard('heat', async () => {
      await wb.openFile('hot_loop.py');
      await wb.runCommand('Tracelens: Trace This File with Line Heat');
      await wb.waitForLineDecoration('hot_loop.py', 13, (t) => t.startsWith('→ '), 90_000);
      await focusEditor('hot_loop.py');
      let heat = new Map<number, number>();
      await poll(
        'heat gutter bars with line 12 hottest',
        async () => {
          heat = await heatGutter(wb);
          return heat.get(12) === 5;
        },
        30_000,
        250,
        () => [...heat],
      );
      // Only lines that ran are marked; none is hotter than the loop body.
      for (const [line, level] of heat) {
        assert.ok(level >= 1 && level <= 5, `line ${line} level ${level}`);
        assert.ok(
          [5, 6, 9, 10, 11, 12, 13, 16].includes(line),
          `line ${line} ran: ${JSON.stringify([...heat])}`,
        );
      }
      // Every line that ran is marked; the loop (its header and body) is the hottest part.
      assert.deepEqual([...heat.keys()], [5, 6, 9, 10, 11, 12, 13, 16]);
      for (const cool of [5, 6, 9, 10, 13, 16]) {
        assert.ok(heat.get(cool)! < 5, `line ${cool} is cooler: ${JSON.stringify([...heat])}`);
      }
      const hover = await hoverLine(wb, 12, (t) => t.includes('Line heat'));
      assert.match(
        hover,
        /^Line heat \(exact\): level 5 of 5 · 200,000 hits · own [^·]+ \(\d+% of the file\) · total /,
      );
      await waitForStatusBar(wb, (t) => t.includes('heat: exact'));
      await wb.screenshot('editor-heat').catch(() => undefined);

      await wb.runCommand('Tracelens: Toggle Line Heat');
      await poll('no heat gutter bars', async () => (await heatGutter(wb)).size === 0);
      await waitForStatusBar(wb, (t) => !t.includes('heat: exact'));
      // Values stay while heat is off.
      assert.ok((await wb.lineDecorations('hot_loop.py')).get(13)?.[0]?.startsWith('→ '));
      await wb.screenshot('editor-heat-off').catch(() => undefined);

      await wb.runCommand('Tracelens: Toggle Line Heat');
      await poll('the heat gutter bars back', async () => {
        heat = await heatGutter(wb);
        return heat.get(12) === 5;
      });
      await waitForStatusBar(wb, (t) => t.includes('heat: exact'));
    }),
);
