// End to end, the flame chart's asyncio task lanes and probe marks in code-server with the
// packaged VSIX: tracing test/fixtures/tasks_gc.py ("Trace This File") draws a lane per task
// under the main thread with the workers' coroutines in them; the same program traced on its own
// with GC probes (`run --output --probes gc`) and opened with "Open Trace…" (after Clear Trace)
// shows its garbage collections as marks on the thread's lane, whose tooltip and selection give
// the details.
// Touches no sources.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Workbench } from './harness';
import { hidePanel, openTraceFile, poll, timelineSummary, waitForEqual } from './workbench';

const root = path.resolve(__dirname, '..', '..');
let wb: Workbench;

before(
  async () => {
    wb = await Workbench.start({ name: 'timelineLanes' });
  },
  { timeout: 180_000 },
);

after(async () => {
  await wb?.dispose();
});

interface MirrorItem {
  kind: string;
  data: Record<string, string>;
  text: string;
}

/** What the chart's offscreen mirror lists: lanes, boxes, marks and dropped regions. */
function mirror(): Promise<MirrorItem[]> {
  return wb
    .webview()
    .locator('#flame-boxes > li')
    .evaluateAll((els) =>
      els.map((e) => ({
        kind: e.className,
        data: { ...(e as HTMLElement).dataset } as Record<string, string>,
        text: e.textContent ?? '',
      })),
    );
}

test(
  'Trace This File on an asyncio program: a lane per task under its thread, with its coroutines',
  { timeout: 150_000 },
  () =>
    wb.guard('lanes', async () => {
      await wb.openFile('tasks_gc.py');
      await wb.runCommand('Tracelens: Trace This File');
      const frame = wb.webview();
      await waitForEqual(
        'the summary once the program ended',
        async () => {
          const s = await timelineSummary(frame);
          return [s.calls, s.running];
        },
        [12, false],
        60_000,
      );
      const lanes = await poll('the task lanes', async () => {
        const items = (await mirror()).filter((i) => i.kind === 'flame-lane');
        return items.length === 4 ? items : undefined;
      });
      assert.deepEqual(
        lanes.map((l) => l.data.task ?? null),
        [null, 'Task-1', 'worker-1', 'worker-2'],
      );
      assert.ok(lanes.every((l) => l.data.thread === lanes[0].data.thread));
      assert.deepEqual(
        lanes.map((l) => Number(l.data.lane) < 0),
        [false, true, true, true],
      );
      // worker-2's segment with the full collection is a box in its lane even with the whole
      // trace in view; worker-1's segments are a few hundred microseconds, under a pixel when the
      // program ran slowly. Zoomed in on the workers' second segments (worker-1's runs just
      // before worker-2's), every segment there is a box, however long the trace took.
      const collecting = await poll('worker-2 in its lane', async () => {
        const items = (await mirror()).filter(
          (i) => i.kind === 'flame-box' && i.data.task === 'worker-2' && i.data.name === 'worker',
        );
        return items.sort((a, b) => Number(b.data.w) - Number(a.data.w))[0];
      });
      const canvas = frame.locator('#flame-canvas');
      await canvas.hover({
        position: {
          x: Number(collecting.data.x) + 1,
          y: Number(collecting.data.y) + Number(collecting.data.h) / 2,
        },
      });
      const viewSpan = () =>
        frame
          .locator('#flame-boxes')
          .evaluate(
            (el) =>
              Number((el as HTMLElement).dataset.viewEnd) -
              Number((el as HTMLElement).dataset.viewStart),
          );
      await poll('the chart zoomed in on the workers', async () => {
        if ((await viewSpan()) <= 30e6) return true;
        await wb.page.mouse.wheel(0, -500);
        return false;
      });
      // The workers' segments are boxes in their own lanes, from the lanes' top rows; the
      // thread's lane keeps only <module>.
      const boxes = await poll('the workers in their lanes', async () => {
        const items = (await mirror()).filter((i) => i.kind === 'flame-box');
        const has = (task: string) =>
          items.some((b) => b.data.task === task && b.data.name === 'worker');
        return has('worker-1') && has('worker-2') ? items : undefined;
      });
      const inLane = (task: string | undefined) =>
        [...new Set(boxes.filter((b) => b.data.task === task).map((b) => b.data.name))].sort();
      assert.deepEqual(inLane(undefined), ['<module>']);
      for (const task of ['worker-1', 'worker-2']) {
        assert.ok(
          inLane(task).every((n) => n === 'worker' || n === 'crunch'),
          `${task}: ${inLane(task).join()}`,
        );
      }
      for (const b of boxes.filter((x) => x.data.task !== undefined && x.data.name === 'worker')) {
        assert.equal(b.data.depth, '0', `${b.data.task} ${b.data.callId}`);
      }
      // Lanes stack downwards: worker-2's boxes sit below worker-1's.
      const y = (task: string) =>
        Math.min(...boxes.filter((b) => b.data.task === task).map((b) => Number(b.data.y)));
      assert.ok(y('worker-1') < y('worker-2'));
      await wb.screenshot('timelineLanes-tasks').catch(() => undefined);
    }),
);

test(
  'a trace with GC probes: collections are marks on the thread lane with their details',
  { timeout: 150_000 },
  () =>
    wb.guard('marks', async () => {
      const traceFile = path.join(wb.workspace, 'tasks_gc.tracelens.db');
      execFileSync(
        'python3',
        [
          '-m',
          'tracelens',
          'run',
          '--output',
          traceFile,
          '--probes',
          'gc',
          '--',
          path.join(wb.workspace, 'tasks_gc.py'),
        ],
        {
          cwd: wb.workspace,
          env: { ...process.env, PYTHONPATH: path.join(root, 'adapter', 'python') },
          stdio: 'ignore',
        },
      );
      const frame = wb.webview();
      await hidePanel(wb);
      // The live trace of the test above has collections of its own (Trace This File records GC
      // probes by default), a full one at the same line too: start from no trace, so that every
      // mark listed next is the opened file's.
      await wb.runCommand('Tracelens: Clear Trace');
      await poll('the timeline without a trace', async () => {
        const s = await timelineSummary(frame);
        return s.text.endsWith('no trace') && (await mirror()).length === 0;
      });
      await openTraceFile(wb, traceFile);
      // The full collection of worker-2 (gc.collect(), line 16): a generation 2 mark, read once
      // the chart has settled (the same in two reads 400 ms apart), so that its place in the list
      // is where the canvas has it.
      const isFull = (i: MirrorItem) =>
        i.kind === 'flame-mark' && i.data.generation === '2' && /tasks_gc\.py:16\b/.test(i.text);
      let previous = '';
      const fulls = await poll(
        'the generation 2 collection mark',
        async () => {
          const found = (await mirror()).filter(isFull);
          const seen = JSON.stringify(found);
          const settled = found.length > 0 && seen === previous;
          previous = seen;
          return settled ? found : undefined;
        },
        60_000,
        400,
      );
      assert.equal(fulls.length, 1, JSON.stringify(fulls));
      const full = fulls[0];
      assert.equal(full.data.kind, 'gc');
      assert.match(
        full.text,
        /^Garbage collection · generation 2 · \d+ collected · .+ · tasks_gc\.py:16/,
      );
      const lanes = (await mirror()).filter((i) => i.kind === 'flame-lane');
      assert.deepEqual(
        lanes.map((l) => l.data.task ?? null),
        [null, 'Task-1', 'worker-1', 'worker-2'],
      );
      // The mark is on the thread's lane (not a task's): in its header, above the task lanes.
      assert.equal(full.data.thread, lanes[0].data.thread);
      const canvas = frame.locator('#flame-canvas');
      const x = Number(full.data.x) + Number(full.data.w) / 2;
      const y = Number(full.data.y) + Number(full.data.h) / 2;
      // Hovering it says what it is; clicking it selects it and the call it happened in.
      await canvas.hover({ position: { x, y } });
      await waitForEqual(
        'the tooltip of the mark',
        async () => ((await frame.locator('#flame-tip').textContent()) ?? '').slice(0, 33),
        'Garbage collection · generation 2',
      );
      await canvas.click({ position: { x, y } });
      await waitForEqual(
        'the mark selected',
        () => frame.locator('#flame').getAttribute('data-selected-mark'),
        full.data.markId,
      );
      await frame.locator('#details .detail-qualname').waitFor({ timeout: 15_000 });
      assert.equal(await frame.locator('#details .detail-qualname').textContent(), 'worker');
      await wb.screenshot('timelineLanes-gc-mark').catch(() => undefined);
    }),
);
