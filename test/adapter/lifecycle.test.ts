// Adapter tests of a traced program's life, with the real tracer and real Python over DAP: output
// forwarded byte for byte, exit codes, arguments, environment, modules, terminate and disconnect
// ending the whole process tree, control requests, and a wrong-token connection refused.

import type { DebugProtocol } from '@vscode/debugprotocol';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { ErrorCode } from '../../adapter/errors';
import { TraceEvent, TraceRequest, type TraceEventBody } from '../../adapter/protocol/dap';
import { encodeFrame, WIRE_VERSION, type Batch } from '../../adapter/protocol/wire';
import { buildAdapter, connectTo, processGone, RecordingClient, waitUntil } from './dapHarness';

let tmp: string;
let client: RecordingClient | undefined;
const write = (name: string, text: string) => {
  const file = path.join(tmp, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
};

before(() => {
  buildAdapter();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'tracelens-life-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(async () => {
  await client?.stop();
  client = undefined;
});

async function launch(
  args: Record<string, unknown>,
  env: NodeJS.ProcessEnv = {},
): Promise<RecordingClient> {
  client = new RecordingClient(env);
  await client.start();
  const response = await client.launchRaw(args);
  assert.equal(response.success, true, `launch failed: ${response.message}`);
  return client;
}

const exitCodeOf = async (c: RecordingClient) =>
  ((await c.eventually((e) => e.event === 'exited')) as DebugProtocol.ExitedEvent).body.exitCode;

/** A program that starts a child, prints both pids, then waits (optionally ignoring SIGTERM). */
function sleeper(ignoreTerm: boolean): string {
  return write(
    ignoreTerm ? 'stubborn.py' : 'sleeper.py',
    [
      'import os, signal, subprocess, sys, time',
      ignoreTerm ? 'signal.signal(signal.SIGTERM, signal.SIG_IGN)' : '',
      'child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])',
      'print("pids", os.getpid(), child.pid, flush=True)',
      'time.sleep(120)',
    ].join('\n'),
  );
}

async function pidsOf(c: RecordingClient): Promise<[number, number]> {
  await c.eventually(() => /pids \d+ \d+/.test(c.output('stdout')));
  const m = /pids (\d+) (\d+)/.exec(c.output('stdout'))!;
  return [Number(m[1]), Number(m[2])];
}

describe('a traced program', () => {
  it('answers initialize with its capabilities, then sends initialized', async () => {
    client = new RecordingClient();
    await client.start();
    const r = await client.initializeRequest();
    assert.equal(r.body?.supportsConfigurationDoneRequest, true);
    assert.equal(r.body?.supportsTerminateRequest, true);
    await client.eventually((e) => e.event === 'initialized');
  });

  it('has its stdout and stderr forwarded without losing or splitting a byte', async () => {
    const program = write(
      'noisy.py',
      [
        'import sys',
        'for i in range(4000):',
        '    sys.stdout.write("línea ✓ 😀 %d\\n" % i)',
        '    if i % 100 == 0: sys.stderr.write("é%d\\n" % i)',
      ].join('\n'),
    );
    const c = await launch({ program });
    assert.equal(await exitCodeOf(c), 0);
    await c.eventually((e) => e.event === 'terminated');
    const expected = Array.from({ length: 4000 }, (_, i) => `línea ✓ 😀 ${i}\n`).join('');
    assert.equal(c.output('stdout'), expected);
    assert.equal(
      c.output('stderr'),
      Array.from({ length: 40 }, (_, i) => `é${i * 100}\n`).join(''),
    );
    // Output, trace and exit come in that order: nothing after terminated.
    const names = c.events.map((e) => e.event);
    assert.equal(names.indexOf('exited'), names.length - 2);
    assert.equal(names.at(-1), 'terminated');
  });

  it('gets its arguments and reports its exit code', async () => {
    const program = write(
      'argv.py',
      'import sys\nprint(sys.argv[1:])\nsys.exit(int(sys.argv[1]))\n',
    );
    const c = await launch({ program, args: ['7', 'two words', 'é'] });
    assert.equal(await exitCodeOf(c), 7);
    await c.eventually((e) => e.event === 'terminated');
    assert.equal(c.output('stdout'), "['7', 'two words', 'é']\n");
  });

  it("runs in cwd with the configured environment merged over the adapter's (null removes)", async () => {
    const program = write(
      'envy.py',
      'import os\nprint(os.getcwd(), os.environ.get("TL_SET"), "TL_GONE" in os.environ, os.environ.get("TL_KEPT"), os.environ.get("PYTHONUNBUFFERED"))\n',
    );
    const cwd = path.join(tmp, 'elsewhere');
    mkdirSync(cwd);
    const c = await launch(
      { program, cwd, env: { TL_SET: 'yes', TL_GONE: null } },
      { TL_GONE: '1', TL_KEPT: 'kept' },
    );
    assert.equal(await exitCodeOf(c), 0);
    await c.eventually((e) => e.event === 'terminated');
    assert.equal(c.output('stdout'), `${cwd} yes False kept 1\n`);
  });

  it('runs a module with -m semantics from cwd', async () => {
    write('tlpkg/__init__.py', '');
    write('tlpkg/__main__.py', 'import sys\nprint("module", __name__, sys.argv[1:])\n');
    const c = await launch({ module: 'tlpkg', args: ['x'], cwd: tmp });
    assert.equal(await exitCodeOf(c), 0);
    await c.eventually((e) => e.event === 'terminated');
    assert.equal(c.output('stdout'), "module __main__ ['x']\n");
  });

  it('is ended with its child by terminate (SIGTERM to the process group)', async () => {
    const c = await launch({ program: sleeper(false) });
    const pids = await pidsOf(c);
    const t0 = Date.now();
    await c.terminateRequest();
    assert.equal(await exitCodeOf(c), 128 + os.constants.signals.SIGTERM);
    await c.eventually((e) => e.event === 'terminated');
    assert.ok(
      await waitUntil(() => pids.every(processGone), 3000),
      `still running: ${pids.filter((p) => !processGone(p))}`,
    );
    assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
  });

  it('is killed (SIGKILL) about 2 s after terminate when it ignores SIGTERM', async () => {
    const c = await launch({ program: sleeper(true) });
    const pids = await pidsOf(c);
    const t0 = Date.now();
    await c.terminateRequest();
    assert.equal(await exitCodeOf(c), 128 + os.constants.signals.SIGKILL);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 1800 && elapsed < 4000, `took ${elapsed} ms`);
    assert.ok(await waitUntil(() => pids.every(processGone), 3000));
  });

  it('is ended when terminate comes while the launch is still being checked', async () => {
    const c = (client = new RecordingClient());
    await c.start();
    await c.initializeRequest();
    const launching = c.raw('launch', { program: sleeper(false) });
    const terminating = c.raw('terminate');
    assert.equal((await launching).success, true);
    assert.equal((await terminating).success, true);
    assert.equal(await exitCodeOf(c), 128 + os.constants.signals.SIGTERM);
    await c.eventually((e) => e.event === 'terminated');
  });

  it('is ended with its child by disconnect before the response', async () => {
    const c = await launch({ program: sleeper(false) });
    const pids = await pidsOf(c);
    await c.disconnectRequest({});
    assert.ok(
      await waitUntil(() => pids.every(processGone), 500),
      `still running: ${pids.filter((p) => !processGone(p))}`,
    );
  });

  it('relays pause, resume and filter changes to its tracer; checks their arguments', async () => {
    const c = await launch({ program: sleeper(false) });
    await c.eventually((e) => e.event === TraceEvent.Hello);
    assert.deepEqual((await c.customRequest(TraceRequest.Pause)).body, { processes: 1 });
    assert.deepEqual((await c.customRequest(TraceRequest.Resume)).body, { processes: 1 });
    const filter = await c.customRequest(TraceRequest.SetFilter, {
      include: ['sleeper'],
      exclude: [],
    });
    assert.deepEqual(filter.body, { processes: 1 });
    const bad = await c.raw(TraceRequest.SetFilter, { include: 'x' });
    assert.equal(bad.success, false);
    assert.equal(
      (bad.body as { error: DebugProtocol.Message }).error.id,
      ErrorCode.InvalidArgument,
    );
    const threads = await c.threadsRequest();
    assert.deepEqual(threads.body.threads, [{ id: 1, name: 'Python' }]);
    await c.terminateRequest();
    await c.eventually((e) => e.event === 'terminated');
  });

  it('control requests before launch say nothing is running', async () => {
    client = new RecordingClient();
    await client.start();
    await client.initializeRequest();
    const r = await client.raw(TraceRequest.Pause);
    assert.equal(r.success, false);
    assert.equal((r.body as { error: DebugProtocol.Message }).error.id, ErrorCode.NotRunning);
  });

  it('refuses a connection with a wrong token: closed, reported, nothing delivered', async () => {
    const c = await launch({ program: sleeper(false) });
    await c.eventually((e) => e.event === TraceEvent.Hello);
    const { body: address } = await c.customRequest('tracelens/serverAddress');
    // A Unix socket in a directory only its user can enter.
    assert.match(address.connect, /^unix:\//);
    assert.equal(statSync(path.dirname(address.connect.slice(5))).mode & 0o777, 0o700);
    const socket = await connectTo(address.connect);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
    socket.resume();
    const marker = 'INTRUDER-MARKER';
    const hello = {
      t: 'hello',
      version: WIRE_VERSION,
      token: 'f'.repeat(64),
      pid: 1,
      ppid: 0,
      python: '3',
      backend: 'x',
      argv: [],
      cwd: '/',
      start_ns: 0,
    };
    const batch = {
      t: 'batch',
      seq: 1,
      strings: [[1, marker]],
      files: [],
      codes: [],
      threads: [],
      events: [],
      dropped: 0,
    };
    socket.write(Buffer.concat([encodeFrame(hello), encodeFrame(batch)]));
    await closed;
    const refused = await c.eventually((e) => e.event === TraceEvent.Refused);
    assert.deepEqual(refused.body, { reason: 'wrong token' });
    assert.match(
      c.output('console'),
      /Tracelens refused a connection to its trace socket: wrong token\./,
    );
    await c.terminateRequest();
    await c.eventually((e) => e.event === 'terminated');
    const stream = c.events.filter(
      (e) => e.event.startsWith('tracelens/') && e.event !== TraceEvent.Refused,
    );
    assert.ok(stream.length >= 1);
    for (const e of stream) assert.deepEqual((e.body as TraceEventBody<unknown>).key.connection, 1);
    assert.equal(c.named(TraceEvent.Hello).length, 1);
    for (const e of c.named(TraceEvent.Batch)) {
      assert.ok(!JSON.stringify((e.body as TraceEventBody<Batch>).message).includes(marker));
    }
  });
});
