// Adapter tests of `"request": "attach"` against real long-running Python programs
// (test/fixtures/long_running.py): calls arrive live, a filter change takes effect, disconnect
// detaches and leaves the program running with its hooks as before, attaching again works, and
// each refusal (wrong token, second client, no agent, unsafe files, gone, bad pid) gets its error.
// Every fixture process is killed at the end.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { ErrorCode } from '../../adapter/errors';
import { debuggerFacts, diagnoseDebugger } from '../../adapter/attach/injection';
import { TraceEvent, TraceRequest, type TraceEventBody } from '../../adapter/protocol/dap';
import type { Batch, End, Hello } from '../../adapter/protocol/wire';
import {
  buildAdapter,
  fixtures,
  pyenvPythons,
  RecordingClient,
  root,
  waitUntil,
} from './dapHarness';

const tracerDir = path.join(root, 'adapter', 'python');
let tmp: string;
const clients: RecordingClient[] = [];
const programs: ChildProcess[] = [];
const disconnected = new Set<RecordingClient>();

/** Ends the session (the adapter detaches, then exits). */
async function disconnect(c: RecordingClient): Promise<void> {
  await c.disconnectRequest();
  disconnected.add(c);
}

before(() => {
  buildAdapter();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'tracelens-attach-'));
});
afterEach(async () => {
  // A disconnected adapter has exited: stop() would write to its closed stdin.
  for (const c of clients.splice(0)) {
    if (!disconnected.has(c)) await Promise.race([c.stop().catch(() => undefined), delay(2000)]);
  }
  disconnected.clear();
  for (const p of programs.splice(0)) p.kill('SIGKILL');
});
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Program {
  pid: number;
  child: ChildProcess;
  agentDir: string;
  stateFile: string;
  output: () => string;
}

let counter = 0;
/** Starts long_running.py with its agent in a private directory; resolves once it is ready. */
async function program(
  options: string[] = [],
  env: NodeJS.ProcessEnv = {},
  python = 'python3',
): Promise<Program> {
  const n = ++counter;
  const agentDir = path.join(tmp, `agent-${n}`);
  const stateFile = path.join(tmp, `state-${n}.json`);
  const child = spawn(
    python,
    [path.join(fixtures, 'long_running.py'), ...options, '--seconds', '50', '--state', stateFile],
    {
      env: {
        ...process.env,
        PYTHONPATH: tracerDir,
        TRACELENS_AGENT_DIR: agentDir,
        PYTHONUNBUFFERED: '1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  programs.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  assert.ok(await waitUntil(() => out.includes('ready\n'), 15000), `not ready: ${out}`);
  return { pid: child.pid!, child, agentDir, stateFile, output: () => out };
}

interface HookState {
  iteration: number;
  trace: string | null;
  profile: string | null;
  threading_trace: string | null;
  threading_profile: string | null;
  monitoring?: (string | null)[];
}

/** The program's hooks as written in a round that began after `after` rounds. */
async function hooks(p: Program, afterRound = 0): Promise<HookState> {
  let state: HookState | undefined;
  await waitUntil(() => {
    try {
      state = JSON.parse(readFileSync(p.stateFile, 'utf8')) as HookState;
      return state.iteration > afterRound;
    } catch {
      return false;
    }
  }, 10000);
  assert.ok(state, 'the program wrote no state');
  return state;
}
const settled = async (p: Program) => hooks(p, (await hooks(p)).iteration + 1);
const withoutRound = ({ iteration: _i, ...rest }: HookState) => rest;

async function client(): Promise<RecordingClient> {
  const c = new RecordingClient();
  clients.push(c);
  await c.start();
  await c.initializeRequest();
  return c;
}

/** Names of the functions called in the batches received so far. */
function calls(c: RecordingClient): string[] {
  const names = new Map<number, string>();
  const out: string[] = [];
  for (const e of c.named(TraceEvent.Batch)) {
    const batch = (e.body as TraceEventBody<Batch>).message;
    for (const code of batch.codes) names.set(code[0], code[3]);
    for (const ev of batch.events) if (ev[0] === 1) out.push(names.get(ev[2])!);
  }
  return out;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('attach to a running program with the agent', () => {
  it('streams its calls, applies a filter, detaches leaving its hooks as they were, and attaches again', async () => {
    const p = await program(['--own-hooks']);
    const before = await hooks(p);
    const c = await client();
    const r = await c.raw('attach', { processId: String(p.pid) });
    assert.equal(r.success, true, r.message);
    const hello = (await c.eventually((e) => e.event === TraceEvent.Hello))
      .body as TraceEventBody<Hello>;
    assert.equal(hello.message.pid, p.pid);
    assert.equal(hello.message.token, '');
    assert.equal(hello.message.argv[0], path.join(fixtures, 'long_running.py'));
    assert.ok(await waitUntil(() => calls(c).filter((n) => n === 'work').length >= 5, 10000));
    assert.deepEqual(
      new Set(calls(c)),
      new Set(['work', 'square', 'write_state', 'hooks', 'name_of']),
    );
    assert.match(
      c.output('console'),
      new RegExp(`Tracelens attached to process ${p.pid} \\(Python 3\\.`),
    );

    // Narrow the filter to nothing: calls stop; widen it again: they come back.
    const f = await c.customRequest(TraceRequest.SetFilter, { include: [], exclude: ['__main__'] });
    assert.deepEqual(f.body, { processes: 1 });
    await delay(800); // batches already on their way arrive
    const frozen = calls(c).length;
    await delay(500);
    assert.equal(calls(c).length, frozen);
    await c.customRequest(TraceRequest.SetFilter, { include: [], exclude: [] });
    assert.ok(await waitUntil(() => calls(c).length > frozen + 3, 5000));

    await disconnect(c);
    const end = c.named(TraceEvent.End).map((e) => (e.body as TraceEventBody<End>).message);
    assert.deepEqual(end, [{ t: 'end', exit_code: null, reason: 'detach' }]);
    assert.ok(alive(p.pid), 'the program keeps running after detach');
    assert.deepEqual(withoutRound(await settled(p)), withoutRound(before));
    assert.equal(before.trace, 'fixture_trace');

    // Attach again with a new session.
    const c2 = await client();
    const r2 = await c2.raw('attach', { processId: p.pid });
    assert.equal(r2.success, true, r2.message);
    assert.ok(await waitUntil(() => calls(c2).includes('work'), 10000));
    await disconnect(c2);
    assert.ok(alive(p.pid));
    assert.deepEqual(withoutRound(await settled(p)), withoutRound(before));
  });

  it('refuses a second simultaneous session', async () => {
    const p = await program();
    const first = await client();
    assert.equal((await first.raw('attach', { processId: p.pid })).success, true);
    const second = await client();
    const r = await second.raw('attach', { processId: p.pid });
    assert.equal(r.success, false);
    assert.equal(r.body?.error?.id, ErrorCode.AgentRefused);
    assert.equal(
      r.message,
      `The Tracelens agent in process ${p.pid} refused to attach: another Tracelens session is attached to this process; detach it first.`,
    );
    assert.ok(await waitUntil(() => calls(first).includes('work'), 10000));
  });

  it('reports a refused token', async () => {
    const p = await program();
    writeFileSync(path.join(p.agentDir, `${p.pid}.token`), 'f'.repeat(64)); // not the agent's
    const c = await client();
    const r = await c.raw('attach', { processId: p.pid });
    assert.equal(r.body?.error?.id, ErrorCode.AgentRefused);
    assert.equal(
      r.message,
      `The Tracelens agent in process ${p.pid} refused to attach: wrong token.`,
    );
    assert.match(
      readFileSync(path.join(p.agentDir, `${p.pid}.log`), 'utf8'),
      /refused: wrong token/,
    );
  });

  it('does not trust an agent directory others can reach', async () => {
    const p = await program();
    chmodSync(p.agentDir, 0o755);
    const c = await client();
    const r = await c.raw('attach', { processId: p.pid });
    assert.equal(r.body?.error?.id, ErrorCode.AgentUnsafe);
    assert.match(
      r.message!,
      new RegExp(`${p.agentDir} can be reached by other users \\(mode 755\\)`),
    );
  });

  it('detaches when the program ends on its own', async () => {
    const p = await program(['--seconds', '2']);
    const c = await client();
    assert.equal((await c.raw('attach', { processId: p.pid })).success, true);
    await c.eventually((e) => e.event === 'terminated', 15000);
    const end = c.named(TraceEvent.End).map((e) => (e.body as TraceEventBody<End>).message);
    assert.deepEqual(end, [{ t: 'end', exit_code: null, reason: 'exit' }]);
    assert.match(c.output('console'), new RegExp(`Process ${p.pid} ended\\.`));
    assert.equal(existsSync(path.join(p.agentDir, `${p.pid}.json`)), false);
  });
});

describe('attach under every installed Python 3.9+', () => {
  for (const python of pyenvPythons(/^3\.(9|1\d)\./)) {
    const version = path.basename(path.dirname(path.dirname(python)));
    it(`Python ${version}: calls arrive, detach restores the hooks`, async () => {
      const p = await program(['--own-hooks', '--thread'], {}, python);
      const before = await hooks(p);
      const c = await client();
      const r = await c.raw('attach', { processId: p.pid });
      assert.equal(r.success, true, r.message);
      const hello = (await c.eventually((e) => e.event === TraceEvent.Hello))
        .body as TraceEventBody<Hello>;
      assert.equal(hello.message.python, version);
      assert.ok(await waitUntil(() => calls(c).filter((n) => n === 'work').length >= 4, 10000));
      await disconnect(c);
      assert.ok(alive(p.pid));
      assert.deepEqual(withoutRound(await settled(p)), withoutRound(before));
    });
  }
});

describe('attach errors', () => {
  it('rejects a processId that is not a pid', async () => {
    const c = await client();
    for (const processId of [undefined, 'abc', -4, 1.5]) {
      const r = await c.raw('attach', { processId });
      assert.equal(r.body?.error?.id, ErrorCode.AttachBadProcessId, String(processId));
    }
  });

  it('says when the process is gone', async () => {
    const p = await program(['--seconds', '0.1']);
    await waitUntil(() => p.child.exitCode !== null, 10000);
    const c = await client();
    const r = await c.raw('attach', { processId: p.pid });
    assert.equal(r.body?.error?.id, ErrorCode.ProcessGone);
    assert.equal(
      r.message,
      `There is no process ${p.pid} (it may have ended). Pick a running process with "Tracelens: Attach to Python Process...".`,
    );
  });

  it('says how to opt in when the agent is switched off', async () => {
    const p = await program(['--no-agent'], { TRACELENS_AGENT_DISABLE: '1' });
    const c = await client();
    const r = await c.raw('attach', { processId: p.pid });
    assert.equal(r.body?.error?.id, ErrorCode.NoAgent);
    assert.match(
      r.message!,
      /It was started with TRACELENS_AGENT_DISABLE=1, which switches the agent off\./,
    );
    assert.match(r.message!, /import tracelens\.agent; tracelens\.agent\.install\(\)/);
    assert.match(r.message!, /sys\.remote_exec/);
  });

  it('installs the agent with gdb into a program without one, or says why it cannot', async () => {
    const p = await program(['--no-agent', '--own-hooks']);
    const before = await hooks(p);
    const c = await client();
    const r = await c.raw('attach', { processId: p.pid });
    const blocked = diagnoseDebugger(debuggerFacts());
    if (blocked) {
      assert.equal(r.body?.error?.id, ErrorCode.NoAgent);
      assert.ok(r.message!.includes(blocked), r.message);
      return;
    }
    if (!r.success && /could not run code in the process/.test(r.message ?? '')) {
      // Where the debugger cannot call into another process (seen on some virtual machines),
      // the user is told so and what to do instead; the program is left as it was.
      assert.equal(r.body?.error?.id, ErrorCode.InjectionFailed);
      assert.match(r.message!, /Install the agent in the program instead\./);
      // The registers are put back: the system call it interrupted carries on (a half-restored
      // thread dies at its next time.sleep with OSError 514).
      await delay(500);
      assert.ok(alive(p.pid), p.output());
      assert.doesNotMatch(p.output(), /Error|Traceback/);
      return;
    }
    assert.equal(r.success, true, r.message);
    assert.match(
      c.output('console'),
      new RegExp(
        `Process ${p.pid} \\(Python 3\\.\\d+\\.\\d+\\) has no agent: installing it with (gdb|lldb)\\.`,
      ),
    );
    assert.ok(await waitUntil(() => calls(c).includes('work'), 10000));
    await disconnect(c);
    assert.ok(alive(p.pid));
    assert.deepEqual(withoutRound(await settled(p)), withoutRound(before));
  });
});
