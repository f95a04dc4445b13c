// End to end, saved traces in code-server with the packaged VSIX: a trace file written by the
// tracer on its own (`python -m tracelens run --output`) opens with "Tracelens: Open Trace…" (the
// file dialog answered by typing its path), and the timeline and the editor then show it; a file
// that is not a trace gets a clear message. Touches no sources.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Workbench } from './harness';
import { hidePanel, openTraceFile, poll } from './workbench';

const root = path.resolve(__dirname, '..', '..');
let wb: Workbench;

before(
  async () => {
    wb = await Workbench.start({ name: 'saved-trace' });
  },
  { timeout: 180_000 },
);

after(async () => {
  await wb?.dispose();
});

test(
  'a trace file from the command line opens in the timeline and the editor',
  { timeout: 180_000 },
  async () => {
    const program = path.join(wb.workspace, 'recursion.py');
    const traceFile = path.join(wb.workspace, 'recursion.tracelens.db');
    execFileSync('python3', ['-m', 'tracelens', 'run', '--output', traceFile, '--', program], {
      cwd: wb.workspace,
      env: { ...process.env, PYTHONPATH: path.join(root, 'adapter', 'python') },
      stdio: 'ignore',
    });
    await wb.openFile('recursion.py');
    await hidePanel(wb);
    await openTraceFile(wb, traceFile);
    const rows = await wb.waitForTimeline((r) => r.some((c) => c.qualname === 'factorial'), 60_000);
    assert.equal(rows.filter((c) => c.qualname === 'factorial').length, 4);
    assert.equal(rows.filter((c) => c.qualname === 'fib').length, 9);
    await wb.openFile('recursion.py');
    await wb.waitForLineDecoration('recursion.py', 9, (t) => t.includes('→ 24'));
    await wb.screenshot('saved-trace-opened');
  },
);

test(
  'a file that is not a trace is refused with a message, the trace stays',
  { timeout: 120_000 },
  async () => {
    const bogus = path.join(wb.workspace, 'notes.db');
    writeFileSync(bogus, 'these are notes, not a trace\n');
    await openTraceFile(wb, bogus);
    const toast = wb.page.locator('.notifications-toasts .notification-toast');
    const text = await poll(
      'the error notification',
      async () => {
        const all = await toast.allInnerTexts();
        return all.find((t) => t.includes('could not open the trace'));
      },
      30_000,
      500,
    );
    assert.match(text, /is not a Tracelens trace/);
    const rows = await wb.timelineRows();
    assert.equal(rows.filter((c) => c.qualname === 'factorial').length, 4);
  },
);
