// End to end, the timeline panel inside code-server with the packaged VSIX: after tracing
// recursion.py the flame chart lists its calls, W zooms, clicking a box shows its details and the
// editor follows the selected call; the filter box completes and applies a query, counts and
// dims, and shows errors with their column; a running program's calls grow live. One workbench
// for every step; touches no sources.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Workbench } from './harness';
import {
  flameBoxes,
  flameWindow,
  poll,
  timelineSummary,
  waitForEqual,
  type FlameBox,
} from './workbench';

let wb: Workbench;

before(
  async () => {
    wb = await Workbench.start({ name: 'timelineInVsCode' });
  },
  { timeout: 180_000 },
);

after(async () => {
  await wb?.dispose();
});

/** recursion.py's calls by id (the order the tracer numbers them): name and depth. */
const CALLS: Record<number, [string, number]> = {
  1: ['<module>', 0],
  2: ['factorial', 1],
  3: ['factorial', 2],
  4: ['factorial', 3],
  5: ['factorial', 4],
  6: ['fib', 1],
  7: ['fib', 2],
  8: ['fib', 3],
  9: ['fib', 4],
  10: ['fib', 4],
  11: ['fib', 3],
  12: ['fib', 2],
  13: ['fib', 3],
  14: ['fib', 3],
};

/** Waits until the chart's list of drawn boxes passes the test and has settled (zoom animates). */
async function boxesWhere(
  what: string,
  test: (boxes: FlameBox[]) => boolean,
  timeoutMs = 20_000,
): Promise<FlameBox[]> {
  let last: FlameBox[] = [];
  let previous = '';
  return poll(
    what,
    async () => {
      last = await flameBoxes(wb.webview());
      const key = JSON.stringify(last);
      const settled = key === previous;
      previous = key;
      return settled && test(last) ? last : undefined;
    },
    timeoutMs,
    300,
    () => last,
  );
}

/** Selects a call in the call tree and zooms the chart to it (F) until its box is wide. */
async function zoomToCall(id: number): Promise<FlameBox[]> {
  const frame = wb.webview();
  await wb.timelineRows(); // every row expanded
  await frame.locator(`.call-row[data-call-id="${id}"] .qualname`).click();
  await frame.locator(`#details[data-call-id="${id}"]`).waitFor({ timeout: 15_000 });
  await poll(`call ${id} zoomed to with F`, async () => {
    await frame.locator('#flame').focus();
    await frame.locator('#flame').press('f');
    await new Promise((r) => setTimeout(r, 400));
    return ((await flameBoxes(frame)).find((x) => x.id === id)?.w ?? 0) > 100;
  });
  return boxesWhere(`call ${id} zoomed to`, (b) => (b.find((x) => x.id === id)?.w ?? 0) > 100);
}

/** Every visible line of the file with an end-of-line text. */
async function decorated(file: string): Promise<[number, string[]][]> {
  return [...(await wb.lineDecorations(file))].filter(([, texts]) => texts.length > 0);
}

test(
  'recursion.py: the flame chart lists the calls, W zooms, a clicked box shows its details and the editor follows',
  { timeout: 150_000 },
  () =>
    wb.guard('flame', async () => {
      await wb.openFile('recursion.py');
      await wb.runCommand('Tracelens: Trace This File');
      await wb.waitForLineDecoration('recursion.py', 15, (t) => t === '→ 3', 60_000);
      const frame = wb.webview();
      await waitForEqual(
        'the summary once the program ended',
        async () => {
          const s = await timelineSummary(frame);
          return [s.calls, s.running];
        },
        [14, false],
      );
      assert.equal(
        await frame.locator('#summary').textContent(),
        '14 calls · 0 dropped · finished',
      );

      // The whole trace: <module> spans the chart (the recursions take a few µs of its ms, so
      // their boxes may be under a pixel wide and left out of the list at this scale).
      const whole = await boxesWhere('the flame boxes', (b) => b.some((x) => x.id === 1));
      const width = await frame.locator('#flame').evaluate((el) => el.clientWidth);
      const module = whole.find((b) => b.id === 1)!;
      assert.deepEqual([module.name, module.depth, module.x, module.w], ['<module>', 0, 0, width]);
      // Zoomed to factorial(n=4), then to fib(n=4): every listed box is its call, named and at
      // its depth (one row of 18 px per level).
      const check = (boxes: FlameBox[]) => {
        for (const b of boxes) {
          assert.deepEqual(
            [b.name, b.depth, b.y],
            [CALLS[b.id][0], CALLS[b.id][1], module.y + 18 * CALLS[b.id][1]],
            `call ${b.id}`,
          );
        }
      };
      const fibs = await zoomToCall(6);
      check(fibs);
      assert.deepEqual(
        fibs.filter((b) => b.name === 'fib' && b.w >= 2).map((b) => b.id),
        [6, 7, 12, 8, 11, 13, 14, 9, 10],
      );
      const facts = await zoomToCall(2);
      check(facts);
      assert.deepEqual(
        facts.filter((b) => b.name === 'factorial').map((b) => b.id),
        [2, 3, 4, 5],
      );
      assert.deepEqual([...new Set([...whole, ...fibs, ...facts].map((b) => b.name))].sort(), [
        '<module>',
        'factorial',
        'fib',
      ]);
      await frame.locator('#flame').press('0');
      await waitForEqual('0: the whole trace again', async () => (await flameWindow(frame))[0], 0);
      await wb.screenshot('timelineInVsCode-flame').catch(() => undefined);

      // W zooms in around the centre: the visible window narrows.
      const [s0, e0] = await flameWindow(frame);
      assert.equal(s0, 0);
      await frame.locator('#flame').focus();
      await frame.locator('#flame').press('w');
      await poll('the window to narrow after W', async () => {
        const [s1, e1] = await flameWindow(frame);
        return e1 - s1 < e0 - s0 && s1 > s0 && e1 < e0;
      });
      await frame.locator('#flame').press('s');
      await waitForEqual('S back to the whole trace', () => flameWindow(frame), [s0, e0]);

      // Zoomed to factorial(n=4) again, a click on factorial(n=2)'s box selects it.
      const zoomed = await zoomToCall(2);
      const target = zoomed.find((x) => x.id === 4)!;
      assert.equal(target.name, 'factorial');
      assert.equal(target.depth, 3);
      await frame
        .locator('#flame-canvas')
        .click({ position: { x: target.x + target.w / 2, y: target.y + target.h / 2 } });
      await frame.locator('#details[data-call-id="4"]').waitFor({ timeout: 15_000 });
      assert.equal(await frame.locator('#details .detail-qualname').textContent(), 'factorial');
      assert.equal(await frame.locator('#details .detail-arg[data-name="n"]').textContent(), '2');
      assert.equal(await frame.locator('#details .detail-return').textContent(), '2');
      await waitForEqual(
        'the selected box',
        () => frame.locator('#flame-boxes li[aria-current="true"]').getAttribute('data-call-id'),
        '4',
      );
      // The editor shows that call's values: its argument and the line it returned from.
      await waitForEqual(
        'the editor following the selected call',
        () => decorated('recursion.py'),
        [
          [6, ['▸ n=2']],
          [9, ['→ 2']],
          [12, ['▸ n=0']],
          [14, ['→ 0']],
          [15, ['→ 3']],
        ],
      );
      await wb.screenshot('timelineInVsCode-selected').catch(() => undefined);
    }),
);

test(
  'the filter box: completion, a query applied, matches counted and the rest dimmed, errors with their column',
  { timeout: 120_000 },
  () =>
    wb.guard('filter', async () => {
      const frame = wb.webview();
      const filter = frame.locator('#filter');
      // Zoomed to factorial(n=4), where both matching and non-matching boxes are wide enough
      // to be listed (at the whole trace's scale factorial's boxes are about a pixel wide).
      await zoomToCall(2);
      await filter.click();
      await filter.fill('');
      await filter.pressSequentially('func', { delay: 60 });
      const option = frame.locator('#completions .completion', {
        has: frame.locator('.completion-label', { hasText: /^function$/ }),
      });
      await option.waitFor({ state: 'visible', timeout: 15_000 });
      await wb.screenshot('timelineInVsCode-completion').catch(() => undefined);
      await option.click();
      const accepted = await filter.inputValue();
      assert.match(accepted, /^function ?$/);
      await filter.pressSequentially(accepted.endsWith(' ') ? '== factorial' : ' == factorial', {
        delay: 40,
      });
      assert.equal(await filter.inputValue(), 'function == factorial');
      await frame.locator('#match-count[data-total="4"]').waitFor({ timeout: 15_000 });
      assert.equal(await frame.locator('#match-count').textContent(), '4 matches');
      assert.equal(await frame.locator('#filter-problems .problem').count(), 0);
      const dimmed = await boxesWhere(
        'boxes marked as matching or not',
        (b) => b.length > 0 && b.every((x) => x.match !== undefined),
      );
      for (const b of dimmed) {
        assert.equal(b.match, String(b.name === 'factorial'), `${b.name} (call ${b.id})`);
      }
      assert.ok(dimmed.some((b) => b.match === 'false'));
      assert.ok(dimmed.some((b) => b.match === 'true'));
      await wb.screenshot('timelineInVsCode-filtered').catch(() => undefined);

      // A bad query: its error with the column, nothing counted or dimmed.
      await filter.fill('function == ');
      const problem = frame.locator('#filter-problems .problem.error');
      await problem.waitFor({ state: 'visible', timeout: 15_000 });
      assert.equal(await problem.getAttribute('data-start'), '12');
      assert.match((await problem.textContent()) ?? '', /^Column 13: expected a value after '=='/);
      assert.equal(await filter.getAttribute('aria-invalid'), 'true');
      assert.equal(await frame.locator('#match-count').textContent(), '');
      await boxesWhere('no box dimmed by a bad query', (b) =>
        b.every((x) => x.match === undefined),
      );
      await filter.fill('fucntion == factorial');
      await waitForEqual(
        'the unknown field error',
        () => frame.locator('#filter-problems .problem').allTextContents(),
        ["Column 1: unknown field 'fucntion' (did you mean 'function'?)fucntion == factorial"],
      );
      await wb.screenshot('timelineInVsCode-error').catch(() => undefined);
      await filter.fill('');
      await poll(
        'the filter cleared',
        async () => (await frame.locator('#match-count').textContent()) === '',
      );
    }),
);

test('a running program: the calls grow live while it runs', { timeout: 120_000 }, () =>
  wb.guard('live', async () => {
    await wb.openFile('ticker.py');
    await wb.runCommand('Tracelens: Trace This File');
    const frame = wb.webview();
    const seen: { calls: number; running: boolean }[] = [];
    const first = await poll(
      'calls recorded while the program runs',
      async () => {
        const s = await timelineSummary(frame);
        seen.push({ calls: s.calls, running: s.running });
        return s.running && s.calls > 1 ? s : undefined;
      },
      30_000,
      100,
      () => seen.slice(-5),
    );
    const grown = await poll(
      'more calls while it still runs',
      async () => {
        const s = await timelineSummary(frame);
        seen.push({ calls: s.calls, running: s.running });
        return s.running && s.calls >= first.calls + 20 ? s : undefined;
      },
      4000,
      100,
      () => seen.slice(-5),
    );
    assert.ok(grown.calls > first.calls);
    await wb.screenshot('timelineInVsCode-live').catch(() => undefined);
    const end = await poll(
      'the program to finish',
      async () => {
        const s = await timelineSummary(frame);
        seen.push({ calls: s.calls, running: s.running });
        return s.running ? undefined : s;
      },
      30_000,
      100,
      () => seen.slice(-5),
    );
    // About 5 s of a tick and a square every 20 ms, plus main and <module>.
    assert.ok(end.calls >= grown.calls, `${end.calls} >= ${grown.calls}`);
    assert.ok(end.calls > 200 && end.calls < 600, `calls at the end: ${end.calls}`);
    assert.equal(end.calls % 2, 0, 'tick and square in pairs, plus main and <module>');
    assert.match(end.text, /^[\d,]+ calls · 0 dropped · finished$/);
    // Distinct readings while it ran: it grew step by step, not all at the end.
    const whileRunning = new Set(seen.filter((s) => s.running).map((s) => s.calls));
    assert.ok(whileRunning.size >= 3, `readings while running: ${[...whileRunning]}`);
  }),
);
