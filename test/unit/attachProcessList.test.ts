// Unit tests of the attach picker's model (adapter/attach/processList.ts) on a fake /proc tree in a
// temporary folder: Python processes recognised by name, by libpython in their memory map or by an
// agent's announcement; unreadable and vanishing processes; other users' left out; the ranking.
// And once on the real /proc, with a real program that installed the agent.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  constants,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DebuggerFacts } from '../../adapter/attach/injection';
import {
  describeWay,
  rankProcesses,
  scanProcesses,
  type ProcessEntry,
  type ScanOptions,
} from '../../adapter/attach/processList';

/** Files of the fake tree belong to whoever runs the test: that is "this user". */
const ME = process.getuid!();
const OTHER = ME === 4242 ? 4343 : 4242;
const gdbHere: DebuggerFacts = { gdb: '/usr/bin/gdb', root: false, ptraceScope: 0 };
let tmp: string;
let proc: string;
let agentDir: string;

function fakeProcess(
  pid: number,
  opts: {
    uid?: number;
    exe?: string;
    argv?: string[];
    maps?: string;
    environ?: Record<string, string>;
    status?: 'dir' | 'missing';
    exeProblem?: 'dir';
  },
): void {
  const dir = path.join(proc, String(pid));
  mkdirSync(dir, { recursive: true });
  if (opts.status === 'dir') mkdirSync(path.join(dir, 'status'));
  else if (opts.status !== 'missing') {
    writeFileSync(
      path.join(dir, 'status'),
      `Name:\tx\nUid:\t${opts.uid ?? ME}\t${opts.uid ?? ME}\t0\t0\n`,
    );
  }
  if (opts.exeProblem === 'dir') mkdirSync(path.join(dir, 'exe'));
  else if (opts.exe) symlinkSync(opts.exe, path.join(dir, 'exe'));
  if (opts.argv) writeFileSync(path.join(dir, 'cmdline'), opts.argv.join('\0') + '\0');
  if (opts.maps) writeFileSync(path.join(dir, 'maps'), opts.maps);
  const env = Object.entries(opts.environ ?? {}).map(([k, v]) => `${k}=${v}`);
  writeFileSync(path.join(dir, 'environ'), env.join('\0'));
}

function announce(pid: number, python: string): void {
  const base = path.join(agentDir, String(pid));
  writeFileSync(`${base}.json`, JSON.stringify({ pid, python, socket: `${base}.sock` }), {
    mode: 0o600,
  });
  writeFileSync(`${base}.token`, 'ab'.repeat(32), { mode: 0o600 });
  // A socket file needs a listener; a real one is made (and left bound) by net in the test below.
}

async function scan(options: Partial<ScanOptions> = {}): Promise<ProcessEntry[]> {
  const out: ProcessEntry[] = [];
  for await (const e of scanProcesses({
    procRoot: proc,
    uid: ME,
    env: {},
    debugger: gdbHere,
    ...options,
  })) {
    out.push(e);
  }
  return out;
}

const servers: import('node:net').Server[] = [];
before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'tracelens-proc-'));
  proc = path.join(tmp, 'proc');
  agentDir = path.join(tmp, 'agent');
  mkdirSync(proc);
  mkdirSync(agentDir, { mode: 0o700 });
  chmodSync(agentDir, 0o700);
  fakeProcess(101, {
    exe: '/usr/bin/python3.12',
    argv: ['python3', 'server.py', '--port', '8000'],
  });
  fakeProcess(102, { exe: '/usr/bin/bash', argv: ['bash'] });
  fakeProcess(103, {
    exe: '/opt/app/bin/app',
    argv: ['app', '--embedded'],
    maps: '7f00-7f01 r-xp 0 08:01 1 /usr/lib/libpython3.11.so.1.0\n',
  });
  fakeProcess(104, { status: 'dir', argv: ['mystery'] }); // status cannot be read (EISDIR)
  fakeProcess(105, { status: 'missing' }); // vanished while being read (ENOENT)
  fakeProcess(106, { uid: OTHER, exe: '/usr/bin/python3.12', argv: ['python3', 'root.py'] });
  fakeProcess(107, {
    exe: '/usr/local/bin/python3.11',
    argv: ['python3.11', 'worker.py'],
    environ: { TRACELENS_AGENT_DIR: agentDir },
  });
  fakeProcess(108, { exe: '/usr/bin/python3.14', argv: ['python3.14', 'new.py'] });
  fakeProcess(109, { exeProblem: 'dir', argv: ['python3', 'odd.py'] });
  announce(107, '3.11.7');
  const net = await import('node:net');
  await new Promise<void>((resolve) => {
    const server = net.createServer().listen(path.join(agentDir, '107.sock'), () => resolve());
    servers.push(server);
  });
  chmodSync(path.join(agentDir, '107.sock'), 0o600);
});
after(() => {
  for (const s of servers) s.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the process list', () => {
  it("lists this user's processes with how each can be attached", async () => {
    const byPid = new Map((await scan()).map((e) => [e.pid, e]));
    assert.deepEqual(byPid.get(101), {
      pid: 101,
      command: 'python3 server.py --port 8000',
      exe: '/usr/bin/python3.12',
      isPython: true,
      pythonVersion: '3.12',
      way: 'gdb',
    });
    assert.deepEqual(byPid.get(102), {
      pid: 102,
      command: 'bash',
      exe: '/usr/bin/bash',
      isPython: false,
      way: 'none',
    });
    assert.equal(byPid.get(103)?.isPython, true);
    assert.equal(byPid.get(103)?.pythonVersion, '3.11');
    assert.deepEqual(byPid.get(104), {
      pid: 104,
      command: 'mystery',
      exe: undefined,
      isPython: false,
      way: 'none',
      reason: 'cannot be read (EISDIR)',
    });
    assert.equal(byPid.has(105), false, 'a vanished process is left out');
    assert.equal(byPid.has(106), false, "another user's process is left out");
    assert.equal(byPid.get(108)?.way, 'sys.remote_exec');
    assert.equal(byPid.get(109)?.isPython, true);
    assert.equal(byPid.get(109)?.way, 'gdb');
  });

  it('finds the agent a process announced in its own runtime directory', async () => {
    const e107 = (await scan()).find((e) => e.pid === 107)!;
    assert.equal(e107.way, 'agent');
    assert.equal(e107.pythonVersion, '3.11.7');
    assert.equal(describeWay(e107), 'Python 3.11.7 · agent');
  });

  it('says why a debugger cannot be used', async () => {
    const entries = await scan({ debugger: { root: false, ptraceScope: 0 } });
    const e101 = entries.find((e) => e.pid === 101)!;
    assert.equal(e101.way, 'none');
    assert.match(e101.reason!, /Neither gdb nor lldb is installed/);
    const scoped = await scan({ debugger: { gdb: '/usr/bin/gdb', root: false, ptraceScope: 1 } });
    assert.match(scoped.find((e) => e.pid === 101)!.reason!, /ptrace_scope is 1/);
  });

  it('ranks Python first, those with an agent first of all, newest first', async () => {
    const ranked = rankProcesses(await scan());
    assert.deepEqual(
      ranked.map((e) => e.pid),
      [107, 108, 109, 103, 101, 104, 102],
    );
  });

  it('never waits long for one process', async () => {
    // A command line whose read blocks (a FIFO with no writer), as a process stuck in the kernel.
    fakeProcess(110, { exe: '/usr/bin/python3.12' });
    const fifo = path.join(proc, '110', 'cmdline');
    execFileSync('mkfifo', [fifo]);
    try {
      const t0 = Date.now();
      const entries = await scan({ perProcessMs: 300 });
      assert.ok(Date.now() - t0 < 5000);
      assert.deepEqual(
        entries.find((e) => e.pid === 110),
        {
          pid: 110,
          command: '',
          isPython: false,
          way: 'none',
          reason: 'not read within 300 ms',
        },
      );
      assert.equal(entries.find((e) => e.pid === 101)?.way, 'gdb'); // the others as before
    } finally {
      // Let the blocked read finish (open the writing end, close it: end of file), then tidy up.
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      await new Promise((resolve) => setTimeout(resolve, 50));
      rmSync(path.join(proc, '110'), { recursive: true, force: true });
    }
  });
});

describe('the process list on the real /proc', () => {
  it('shows a running program with the agent first, with its exact version', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tracelens-real-'));
    chmodSync(dir, 0o700);
    const child = spawn(
      'python3',
      [path.join(__dirname, '..', 'fixtures', 'long_running.py'), '--seconds', '20'],
      {
        env: {
          ...process.env,
          PYTHONPATH: path.join(__dirname, '..', '..', 'adapter', 'python'),
          TRACELENS_AGENT_DIR: dir,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      const t0 = Date.now();
      while (!out.includes('ready') && Date.now() - t0 < 15000)
        await new Promise((r) => setTimeout(r, 20));
      assert.ok(out.includes('ready'), 'the program did not start');
      const entries: ProcessEntry[] = [];
      for await (const e of scanProcesses({
        uid: process.getuid!(),
        debugger: gdbHere,
        excludePids: [process.pid],
      })) {
        entries.push(e);
      }
      const ranked = rankProcesses(entries);
      const mine = ranked.find((e) => e.pid === child.pid)!;
      assert.ok(mine, 'the program is listed');
      assert.equal(mine.way, 'agent');
      assert.match(mine.command, /long_running\.py --seconds 20$/);
      const version = (await import('node:child_process'))
        .execFileSync('python3', ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'])
        .toString()
        .trim();
      assert.equal(mine.pythonVersion, version);
      assert.equal(ranked[0].way, 'agent');
      assert.equal(
        entries.some((e) => e.pid === process.pid),
        false,
      );
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
