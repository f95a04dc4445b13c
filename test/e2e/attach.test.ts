// End to end, attaching in code-server with the packaged VSIX: a long-running program that opted
// into the agent (test/fixtures/long_running.py, with the tracer the VSIX installed on its path)
// is listed by "Tracelens: Attach to Python Process..." among the Python processes, attaching
// shows its calls growing live in the timeline, disconnecting leaves it running with its hooks as
// before, and attaching again works. The program is always killed at the end; touches no sources.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Workbench } from './harness';
import {
  poll,
  quickPickRows,
  runPickerCommand,
  timelineSummary,
  waitForStatusBar,
} from './workbench';

let wb: Workbench;
let program: ChildProcess | undefined;
let pid = 0;
let output = '';
let tmp = '';
let stateFile = '';
/** The program's hooks before the first attach. */
let initial: HookState;

interface HookState {
  iteration: number;
  trace: string | null;
  profile: string | null;
  /** sys.monitoring tool names (3.12+). */
  monitoring?: (string | null)[];
}

before(
  async () => {
    wb = await Workbench.start({ name: 'attach' });
    // Tracelens activates with a Python file open; the attach command is offered from then on.
    await wb.openFile('long_running.py');
    // The tracer as the VSIX installed it: the program imports its agent from there.
    const extensions = path.join(wb.dir, 'extensions');
    const tracerDir = readdirSync(extensions)
      .map((d) => path.join(extensions, d, 'adapter', 'python'))
      .find((d) => existsSync(path.join(d, 'tracelens', 'agent.py')));
    assert.ok(tracerDir, `no tracer under ${extensions}`);
    tmp = mkdtempSync(path.join(os.tmpdir(), 'tracelens-e2e-attach-'));
    stateFile = path.join(tmp, 'state.json');
    program = spawn(
      'python3',
      [path.join(wb.workspace, 'long_running.py'), '--seconds', '120', '--state', stateFile],
      {
        cwd: wb.workspace,
        env: {
          ...process.env,
          PYTHONPATH: tracerDir,
          // A private runtime directory: the adapter finds it in the program's environment.
          TRACELENS_AGENT_DIR: path.join(tmp, 'agent'),
          PYTHONUNBUFFERED: '1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    program.stdout!.on('data', (d) => (output += d));
    program.stderr!.on('data', (d) => (output += d));
    await poll(
      'the program to be ready',
      async () => output.includes('ready\n'),
      20_000,
      100,
      () => output,
    );
    pid = Number(/^pid (\d+)$/m.exec(output)?.[1]);
    assert.equal(pid, program.pid);
  },
  { timeout: 180_000 },
);

after(async () => {
  if (program && program.exitCode === null) program.kill('SIGKILL');
  await wb?.dispose();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function alive(p: number): boolean {
  try {
    process.kill(p, 0);
    return true;
  } catch {
    return false;
  }
}

/** The program's hooks as written in a round after `afterRound`. */
async function hooks(afterRound = 0): Promise<HookState> {
  let state: HookState | undefined;
  return poll(
    `the program's state after round ${afterRound}`,
    async () => {
      state = JSON.parse(readFileSync(stateFile, 'utf8')) as HookState;
      return state.iteration > afterRound ? state : undefined;
    },
    10_000,
    100,
    () => state,
  );
}

/** Runs the attach command and picks the program; returns the picker's rows as first seen. */
async function attach(): Promise<string[]> {
  await runPickerCommand(wb, 'Tracelens: Attach to Python Process...');
  const mine = (r: string) => r.includes(`  ${pid}, `);
  let rows: string[] = [];
  await poll(
    'the program in the picker',
    async () => {
      rows = await quickPickRows(wb);
      return rows.some(mine);
    },
    30_000,
    200,
    () => rows.slice(0, 5),
  );
  await wb.screenshot('attach-picker').catch(() => undefined);
  await wb.page.locator('.quick-input-widget input').fill(String(pid));
  await poll('only the program listed', async () => {
    const r = await quickPickRows(wb);
    return r.length === 1 && mine(r[0]);
  });
  await wb.page.keyboard.press('Enter');
  await wb.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
  return rows;
}

/** Waits until the timeline shows calls arriving: two readings while running, the second larger. */
async function callsGrowing(): Promise<number> {
  const frame = wb.webview();
  const first = await poll(
    'calls while attached',
    async () => {
      const s = await timelineSummary(frame);
      return s.running && s.calls > 0 ? s : undefined;
    },
    30_000,
    200,
  );
  const later = await poll(
    'more calls while attached',
    async () => {
      const s = await timelineSummary(frame);
      return s.running && s.calls > first.calls ? s : undefined;
    },
    10_000,
    200,
  );
  return later.calls;
}

async function disconnect(): Promise<number> {
  await wb.runCommand('Debug: Disconnect');
  const frame = wb.webview();
  const end = await poll(
    'the session to end',
    async () => {
      const s = await timelineSummary(frame);
      return s.running ? undefined : s;
    },
    30_000,
    200,
  );
  // Nothing more arrives once detached.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await timelineSummary(frame)).calls, end.calls, 'no calls after detaching');
  return end.calls;
}

test(
  'the picker lists the agent program first among Python processes; attaching shows its calls live',
  { timeout: 120_000 },
  () =>
    wb.guard('attach', async () => {
      initial = await hooks();
      assert.deepEqual([initial.trace, initial.profile], [null, null]);
      const rows = await attach();
      const row = rows.find((r) => r.includes(`  ${pid}, `))!;
      assert.match(row, /^symbol-method {2}python3 {2}\d+, Python 3\.\d+(\.\d+)? · agent, /);
      assert.ok(row.endsWith(`long_running.py --seconds 120 --state ${stateFile}`), row);
      // Python processes first: no Python row after a row that is not Python.
      const firstOther = rows.findIndex((r) => !r.startsWith('symbol-method'));
      if (firstOther >= 0) {
        assert.ok(
          rows.slice(firstOther).every((r) => !r.startsWith('symbol-method')),
          `Python first:\n${rows.join('\n')}`,
        );
      }
      await callsGrowing();
      const frame = wb.webview();
      // The program's own functions, called while attached.
      await poll('work() in the call tree', async () =>
        (await frame.locator('.call-row .qualname').allTextContents()).includes('work'),
      );
      await waitForStatusBar(wb, (t) => /Tracelens: [\d,]+ calls/.test(t));
      await wb.screenshot('attach-live').catch(() => undefined);
      // While attached, the tracer's hook is in place (a trace or profile function, or a
      // sys.monitoring tool on 3.12+).
      const during = await hooks((await hooks()).iteration);
      assert.ok(
        during.trace !== null ||
          during.profile !== null ||
          (during.monitoring ?? []).some((t) => t !== null),
        `hooks while attached: ${JSON.stringify(during)}`,
      );
    }),
);

/** Waits for what was in flight to land, then checks that no new calls arrive. */
async function callsStopped(): Promise<void> {
  const frame = wb.webview();
  await new Promise((r) => setTimeout(r, 800));
  const before = (await timelineSummary(frame)).calls;
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await timelineSummary(frame)).calls, before, 'no new calls');
}

async function changeRecordedScope(query: string): Promise<void> {
  await runPickerCommand(wb, 'Tracelens: Change What Is Recorded…');
  const input = wb.page.locator('.quick-input-widget input');
  await input.fill(query);
  await wb.page.keyboard.press('Enter');
}

test(
  'while attached, recording pauses and resumes, and what is recorded narrows and widens',
  { timeout: 120_000 },
  () =>
    wb.guard('steer', async () => {
      await wb.runCommand('Tracelens: Pause Recording');
      await callsStopped();
      await wb.runCommand('Tracelens: Resume Recording');
      await callsGrowing();
      await changeRecordedScope('module == "nothing.here"');
      await callsStopped();
      await changeRecordedScope('');
      await callsGrowing();
    }),
);

test(
  'disconnecting leaves the program running with its hooks as before; attaching again works',
  { timeout: 120_000 },
  () =>
    wb.guard('detach', async () => {
      await disconnect();
      assert.ok(alive(pid), 'the program still runs after the detach');
      const round = (await hooks()).iteration;
      const later = await hooks(round + 3);
      assert.deepEqual([later.trace, later.profile], [initial.trace, initial.profile]);
      assert.deepEqual(later.monitoring, initial.monitoring);
      assert.ok(alive(pid));
      assert.doesNotMatch(output, /Traceback|done/);
      await wb.screenshot('attach-detached').catch(() => undefined);

      // Again: a new session, calls live again, detached again.
      await attach();
      await callsGrowing();
      await disconnect();
      assert.ok(alive(pid), 'the program still runs after the second detach');
      const last = await hooks((await hooks()).iteration + 2);
      assert.deepEqual([last.trace, last.profile], [initial.trace, initial.profile]);
      assert.deepEqual(last.monitoring, initial.monitoring);
    }),
);
