// Unit tests of the attach paths that need no running adapter: the exact gdb, lldb and
// sys.remote_exec commands, the bootstrap code (run for real by a Python, it starts the agent),
// the ptrace diagnosis, the announcement checks on real files, and the Attacher's refusals of a
// process that is gone or another user's (on a fake /proc).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { candidateDirs, findAgent, readToken } from '../../adapter/attach/announcement';
import { Attacher } from '../../adapter/attach/attacher';
import {
  agentBootstrapCode,
  cString,
  diagnoseDebugger,
  explainDebuggerOutput,
  gdbCallScript,
  gdbCommand,
  hasRemoteExec,
  lldbCommand,
  remoteExecCommand,
} from '../../adapter/attach/injection';
import { ErrorCode, TracelensError } from '../../adapter/errors';

const tracerDir = path.join(__dirname, '..', '..', 'adapter', 'python');
let tmp: string;
before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'tracelens-inject-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('injection commands', () => {
  const code = agentBootstrapCode('/opt/it\'s "here"');

  it('bootstrap code carries the tracer directory hex-encoded, with no quotes to escape', () => {
    assert.equal(
      code,
      "import sys; p = bytes.fromhex('2f6f70742f6974277320226865726522').decode('utf-8'); " +
        'p in sys.path or sys.path.insert(0, p); import tracelens.agent; tracelens.agent.install()',
    );
  });

  it('gdb calls Py_AddPendingCall with a strdup of the code from a Python script, then detaches', () => {
    const cmd = gdbCommand(4242, 'print("a\\\\b")', '/usr/bin/gdb');
    assert.equal(cmd.command, '/usr/bin/gdb');
    assert.deepEqual(cmd.args.slice(0, 8), [
      '-p',
      '4242',
      '-batch',
      '-nx',
      '-q',
      '-ex',
      'set confirm off',
      '-ex',
    ]);
    assert.deepEqual(cmd.args.slice(9), ['-ex', 'detach']);
    const m = /^python exec\(bytes\.fromhex\('([0-9a-f]+)'\)\.decode\('utf-8'\)\)$/.exec(
      cmd.args[8],
    );
    assert.ok(m, cmd.args[8]);
    assert.equal(Buffer.from(m[1], 'hex').toString('utf8'), gdbCallScript('print("a\\\\b")'));
  });

  // The script run by a real Python against a stand-in for gdb's module: the call's command is
  // exact, and when the call fails every general register that exists is written back.
  function runGdbScript(callFails: boolean): string[] {
    const dir = mkdtempSync(path.join(tmp, 'gdb-'));
    writeFileSync(
      path.join(dir, 'gdb.py'),
      [
        'class error(RuntimeError): pass',
        'regs = {"rax": -516, "rsp": 140000, "rip": 4096, "orig_rax": 230}',
        'log = []',
        'def parse_and_eval(expr):',
        '    name = expr[len("(long)$"):]',
        '    if name not in regs: raise error("Invalid register")',
        '    return regs[name]',
        'def execute(command):',
        '    log.append(command)',
        `    if command.startswith("call ") and ${callFails ? 'True' : 'False'}:`,
        '        raise error("Couldn\'t write extended state status: Bad address.")',
      ].join('\n'),
    );
    const script = gdbCallScript('x = "1"');
    const out = execFileSync(
      'python3',
      ['-c', `import gdb, json\nexec(${JSON.stringify(script)})\nprint(json.dumps(gdb.log))`],
      { env: { ...process.env, PYTHONPATH: dir }, encoding: 'utf8' },
    );
    const lines = out.trim().split('\n');
    return JSON.parse(lines[lines.length - 1]) as string[];
  }

  it('the gdb script makes the call and leaves the registers to gdb when it succeeds', () => {
    assert.deepEqual(runGdbScript(false), [
      'call (int)Py_AddPendingCall((void*)PyRun_SimpleString, (char*)strdup("x = \\"1\\""))',
    ]);
  });

  it('the gdb script writes the general registers back when the call fails', () => {
    assert.deepEqual(runGdbScript(true), [
      'call (int)Py_AddPendingCall((void*)PyRun_SimpleString, (char*)strdup("x = \\"1\\""))',
      'set $rax = -516',
      'set $rsp = 140000',
      'set $rip = 4096',
      'set $orig_rax = 230',
    ]);
  });

  it('says what to install when gdb has no Python', () => {
    assert.match(
      explainDebuggerOutput('Python scripting is not supported in this copy of GDB.'),
      /no Python support/,
    );
  });

  it('lldb evaluates the same expression in batch mode', () => {
    assert.deepEqual(lldbCommand(7, 'x = 1'), {
      command: 'lldb',
      args: [
        '--no-lldbinit',
        '--batch',
        '-p',
        '7',
        '-o',
        'expression -- (int)Py_AddPendingCall((void*)PyRun_SimpleString, (char*)strdup("x = 1"))',
        '-o',
        'process detach',
      ],
    });
  });

  it('sys.remote_exec is called with the pid and the script path as a Python string', () => {
    assert.deepEqual(
      remoteExecCommand('/usr/bin/python3.14', 99, '/run/user/1/tracelens/inject-99.py'),
      {
        command: '/usr/bin/python3.14',
        args: ['-c', 'import sys; sys.remote_exec(99, "/run/user/1/tracelens/inject-99.py")'],
      },
    );
    assert.equal(hasRemoteExec('3.14.0'), true);
    assert.equal(hasRemoteExec('3.15'), true);
    assert.equal(hasRemoteExec('3.13.2'), false);
    assert.equal(hasRemoteExec(undefined), false);
  });

  it('escapes C string literals', () => {
    assert.equal(cString('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  });

  it('the bootstrap code really starts the agent in a Python process', () => {
    const agentDir = path.join(tmp, 'boot');
    const script = `${agentBootstrapCode(tracerDir)}; import os, tracelens.agent as a; print(os.getpid(), a.current() is not None)`;
    const out = execFileSync('python3', ['-c', script], {
      env: { ...process.env, PYTHONPATH: '', TRACELENS_AGENT_DIR: agentDir },
    })
      .toString()
      .trim();
    const [pid, started] = out.split(' ');
    assert.equal(started, 'True');
    assert.match(pid, /^\d+$/);
    assert.equal(existsSync(path.join(agentDir, `${pid}.json`)), false, 'removed at exit');
  });
});

describe('debugger diagnosis', () => {
  it('names what blocks ptrace', () => {
    assert.match(diagnoseDebugger({ root: false })!, /Neither gdb nor lldb is installed/);
    assert.match(
      diagnoseDebugger({ gdb: 'gdb', ptraceScope: 1, root: false })!,
      /ptrace_scope is 1\)\. Allow it with `echo 0 \| sudo tee \/proc\/sys\/kernel\/yama\/ptrace_scope`/,
    );
    assert.match(diagnoseDebugger({ gdb: 'gdb', ptraceScope: 2, root: false })!, /CAP_SYS_PTRACE/);
    assert.match(diagnoseDebugger({ gdb: 'gdb', ptraceScope: 3, root: true })!, /is 3\)/);
    assert.equal(diagnoseDebugger({ gdb: 'gdb', ptraceScope: 1, root: true }), undefined);
    assert.equal(diagnoseDebugger({ lldb: 'lldb', root: false }), undefined);
  });

  it('explains what a failed debugger printed', () => {
    assert.match(
      explainDebuggerOutput('ptrace: Operation not permitted.\n'),
      /--cap-add=SYS_PTRACE/,
    );
    assert.match(
      explainDebuggerOutput('No symbol "Py_AddPendingCall" in current context.'),
      /static or stripped build/,
    );
    assert.match(
      explainDebuggerOutput(
        "Couldn't write extended state status: Bad address.\nThe program being debugged was signaled",
      ),
      /could not run code in the process.*Install the agent in the program instead\./,
    );
    assert.equal(explainDebuggerOutput('boom'), 'The debugger failed: boom.');
  });
});

describe('announcement checks', () => {
  const uid = process.getuid!();
  let dir: string;
  before(async () => {
    dir = path.join(tmp, 'agent');
    mkdirSync(dir, { mode: 0o700 });
    chmodSync(dir, 0o700);
    writeFileSync(path.join(dir, '55.json'), JSON.stringify({ pid: 55, python: '3.12.1' }), {
      mode: 0o600,
    });
    writeFileSync(path.join(dir, '55.token'), 'cd'.repeat(32), { mode: 0o600 });
    const net = await import('node:net');
    await new Promise<void>((resolve) => {
      const server = net.createServer().listen(path.join(dir, '55.sock'), () => resolve());
      server.unref();
    });
    chmodSync(path.join(dir, '55.sock'), 0o600);
  });

  it('looks in the target environment first, then ours, then the defaults', () => {
    assert.deepEqual(
      candidateDirs(
        { TRACELENS_AGENT_DIR: '/a', XDG_RUNTIME_DIR: '/run/user/5' },
        { XDG_RUNTIME_DIR: '/run/user/5', TRACELENS_AGENT_DIR: 'relative' },
        5,
      ),
      ['/a', '/run/user/5/tracelens', '/tmp/tracelens-5'],
    );
  });

  it('trusts private files and reads the token', () => {
    const found = findAgent(55, [path.join(tmp, 'nothing'), dir], uid)!;
    assert.equal(found.socketPath, path.join(dir, '55.sock'));
    assert.equal(found.announcement.python, '3.12.1');
    assert.equal(readToken(found, uid), 'cd'.repeat(32));
    assert.equal(findAgent(56, [dir], uid), undefined);
  });

  it('refuses a token others can read, a directory others can reach, files of another user', () => {
    const found = findAgent(55, [dir], uid)!;
    chmodSync(found.tokenPath, 0o644);
    assert.throws(() => readToken(found, uid), {
      message: `${found.tokenPath} can be reached by other users (mode 644)`,
    });
    chmodSync(found.tokenPath, 0o600);
    chmodSync(dir, 0o750);
    assert.throws(() => findAgent(55, [dir], uid), {
      message: `${dir} can be reached by other users (mode 750)`,
    });
    chmodSync(dir, 0o700);
    assert.throws(() => findAgent(55, [dir], uid + 1), {
      message: `${dir} belongs to uid ${uid}, not to you`,
    });
  });
});

describe('the attacher refuses before touching anything', () => {
  const events = { output() {}, exited() {}, terminated() {}, refused() {} };
  const sink = { hello() {}, batch() {}, error() {}, end() {} };

  async function attachError(pid: number, procRoot: string, uid: number): Promise<TracelensError> {
    const a = new Attacher({ sessionId: 's', sink, tracerDir, procRoot, uid }, events);
    try {
      await a.attach({ processId: pid });
    } catch (error) {
      return error as TracelensError;
    }
    throw new Error('attach succeeded');
  }

  it("another user's process", async () => {
    const procRoot = path.join(tmp, 'proc');
    mkdirSync(path.join(procRoot, '77'), { recursive: true });
    writeFileSync(
      path.join(procRoot, '77', 'status'),
      'Name:\tpython3\nUid:\t4242\t4242\t4242\t4242\n',
    );
    const e = await attachError(77, procRoot, 1000);
    assert.equal(e.code, ErrorCode.ProcessNotOurs);
    assert.equal(
      e.message,
      'Process 77 belongs to another user (uid 4242; you are uid 1000). Tracelens only attaches to your own processes: run VS Code as that user, or start the program as yourself.',
    );
  });

  it('a process that is not there', async () => {
    const e = await attachError(78, path.join(tmp, 'proc'), 1000);
    assert.equal(e.code, ErrorCode.ProcessGone);
  });

  it('a program that is not Python', async () => {
    const procRoot = path.join(tmp, 'proc');
    mkdirSync(path.join(procRoot, '79'), { recursive: true });
    writeFileSync(path.join(procRoot, '79', 'status'), 'Uid:\t1000\t1000\t1000\t1000\n');
    const e = await attachError(79, procRoot, 1000);
    assert.equal(e.code, ErrorCode.NoAgent);
    assert.match(
      e.message,
      /It does not look like a Python interpreter \(its executable cannot be read\)\./,
    );
  });
});
