// End to end: in code-server with the packaged VSIX, "Tracelens: Trace This File" from the palette
// on the fixtures, checking what a person sees: return values and exceptions at the end of their
// lines, the program's output in the Debug Console, the calls in the timeline, reveal on click.
// One workbench for all cases (each trace replaces the last); touches no sources.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Workbench, type TimelineRow } from './harness';

let wb: Workbench;

before(
  async () => {
    wb = await Workbench.start({ name: 'traceFile' });
  },
  { timeout: 180_000 },
);

after(async () => {
  await wb?.dispose();
});

/**
 * The lines of a file that show a return value (→), a yielded value (⤴) or an exception (⚠), as
 * [line, texts] pairs for exact comparison. Other end-of-line texts (the arguments a function
 * was called with, on its `def` line) are the editor tests' business.
 */
async function decorated(file: string): Promise<[number, string[]][]> {
  return [...(await wb.lineDecorations(file))]
    .map(([line, texts]): [number, string[]] => [line, texts.filter((t) => /^[→⤴⚠]/.test(t))])
    .filter(([, texts]) => texts.length > 0);
}

async function trace(file: string, lastLine: number, lastText: string): Promise<void> {
  await wb.openFile(file);
  await wb.runCommand('Tracelens: Trace This File');
  // The last decoration the program produces: once it is drawn, the trace has ended.
  await wb.waitForLineDecoration(file, lastLine, (t) => t === lastText, 60_000);
}

const row = (id: number, depth: number, qualname: string, args: string, result: string) =>
  ({ id, depth, qualname, args, result }) satisfies TimelineRow;

test('hello.py: the return value at its line, the output, the calls', { timeout: 120_000 }, () =>
  wb.guard('hello', async () => {
    await trace('hello.py', 6, '→ 5');
    assert.deepEqual(await decorated('hello.py'), [[6, ['→ 5']]]);
    await wb.waitForDebugConsole(
      (t) => t.includes('sum: 5') && t.includes('Program exited with code 0.'),
    );
    const rows = await wb.waitForTimeline((r) => r.some((c) => c.qualname === 'add'));
    assert.deepEqual(rows, [
      row(1, 0, '<module>', '()', '→ None'),
      row(2, 1, 'add', '(a=2, b=3)', '→ 5'),
    ]);
  }),
);

test(
  'exceptions.py: the raising lines show the exceptions, the returns their values',
  { timeout: 120_000 },
  () =>
    wb.guard('exceptions', async () => {
      await trace('exceptions.py', 21, '⚠ AppError: giving up');
      assert.deepEqual(await decorated('exceptions.py'), [
        [10, ['⚠ ValueError: invalid literal for int() with base 10… (caught)']],
        [15, ['→ 12']],
        [17, ['→ -1']],
        [21, ['⚠ AppError: giving up']],
      ]);
      const output = await wb.waitForDebugConsole((t) => t.includes('exited with code 1'));
      assert.match(output, /AppError: giving up/);
      assert.match(output, /^Program exited with code 1\.$/m);
      assert.match(output, /^parsed 12 -1$/m);
      assert.match(output, /^Traceback \(most recent call last\):$/m);
      assert.match(output, /line 21, in fail/);
      const rows = await wb.waitForTimeline((r) => r.some((c) => c.qualname === 'fail'));
      assert.deepEqual(rows, [
        row(1, 0, '<module>', '()', '⚠ AppError: giving up'),
        row(2, 1, 'AppError', '()', '→ None'),
        row(3, 1, 'safe_parse', "(text='12')", '→ 12'),
        row(4, 2, 'parse', "(text='12')", '→ 12'),
        row(5, 1, 'safe_parse', "(text='x')", '→ -1'),
        row(
          6,
          2,
          'parse',
          "(text='x')",
          "⚠ ValueError: invalid literal for int() with base 10: 'x'",
        ),
        row(7, 1, 'fail', "(reason='giving up')", '⚠ AppError: giving up'),
      ]);
      // The README's screenshot: more room for the code without the side bar.
      await wb.runCommand('View: Close Primary Side Bar');
      await wb.screenshot('traceFile-exceptions');
    }),
);

test(
  'recursion.py: every level in the timeline; clicking a call reveals its line',
  { timeout: 120_000 },
  () =>
    wb.guard('recursion', async () => {
      await trace('recursion.py', 15, '→ 3');
      assert.deepEqual(await decorated('recursion.py'), [
        [8, ['→ 1']],
        [9, ['→ 24']],
        [14, ['→ 0']],
        [15, ['→ 3']],
      ]);
      const output = await wb.waitForDebugConsole((t) => t.includes('fib 3'));
      assert.match(output, /^factorial 24$/m);
      const rows = await wb.waitForTimeline((r) => r.length === 14);
      assert.deepEqual(
        rows.map((r) => `${'  '.repeat(r.depth)}${r.qualname}${r.args} ${r.result}`),
        [
          '<module>() → None',
          '  factorial(n=4) → 24',
          '    factorial(n=3) → 6',
          '      factorial(n=2) → 2',
          '        factorial(n=1) → 1',
          '  fib(n=4) → 3',
          '    fib(n=3) → 2',
          '      fib(n=2) → 1',
          '        fib(n=1) → 1',
          '        fib(n=0) → 0',
          '      fib(n=1) → 1',
          '    fib(n=2) → 1',
          '      fib(n=1) → 1',
          '      fib(n=0) → 0',
        ],
      );
      const fib = wb.webview().locator('.call-row[data-call-id="6"] .qualname');
      await fib.click();
      await wb.page
        .locator('.statusbar-item', { hasText: /^Ln 12, Col \d+/ })
        .waitFor({ timeout: 15_000 });
    }),
);
