// The runtime of an attach session (the Launcher's counterpart for `"request": "attach"`): checks
// the process is there and ours, finds its agent (or installs one through sys.remote_exec on 3.14+
// or gdb/lldb), opens a trace server, hands the agent its address and session token, and streams
// into the same TraceSink as a launch. Detach (disconnect, terminate) leaves the program running.
// Knows nothing of DAP or vscode.

import { mkdirSync, writeFileSync, chmodSync, unlinkSync } from 'node:fs';
import * as path from 'node:path';
import { errors } from '../errors';
import type { LauncherEvents } from '../launcher';
import type { AttachArguments, ProcessKey, TraceSink } from '../protocol/dap';
import type { ControlMessage, Hello } from '../protocol/wire';
import { TraceServer } from '../traceServer';
import { requestAttach, type AgentLease } from './agentClient';
import {
  AGENT_DISABLE_ENV,
  candidateDirs,
  findAgent,
  readToken,
  UnsafeAgentFile,
  type FoundAgent,
} from './announcement';
import {
  agentBootstrapCode,
  debuggerFacts,
  diagnoseDebugger,
  explainDebuggerOutput,
  gdbCommand,
  hasRemoteExec,
  lldbCommand,
  remoteExecCommand,
  runCommand,
} from './injection';
import {
  libpythonVersion,
  looksLikePythonExe,
  PROC_ROOT,
  readEnviron,
  readMaps,
  readProcInfo,
  versionFromExeName,
} from './procInfo';

export interface AttacherDependencies {
  sessionId: string;
  sink: TraceSink;
  tracerDir: string;
  /** How long the agent has to connect back with its hello; default 10000 ms. */
  helloTimeoutMs?: number;
  /** /proc (tests may point elsewhere). */
  procRoot?: string;
  /** Our uid; default process.getuid(). */
  uid?: number;
}

/** How long an injected agent has to announce itself. */
const ANNOUNCE_TIMEOUT_MS = 10000;
const DEBUGGER_TIMEOUT_MS = 30000;

export class Attacher {
  private server?: TraceServer;
  private lease?: AgentLease;
  private state: 'idle' | 'starting' | 'running' | 'finished' = 'idle';
  private detaching = false;
  private finished?: Promise<void>;

  constructor(
    private readonly deps: AttacherDependencies,
    private readonly events: LauncherEvents,
  ) {}

  get active(): boolean {
    return this.state !== 'idle';
  }

  /** Where the agent connects back: TCP on 127.0.0.1, which also reaches a process whose
   * files we cannot see (another mount namespace), unlike a Unix socket. */
  get serverAddress(): { connect: string } | undefined {
    const a = this.server?.connectAddress;
    return a ? { connect: a } : undefined;
  }

  async attach(args: AttachArguments): Promise<void> {
    if (this.state !== 'idle') throw errors.alreadyRunning();
    this.state = 'starting';
    try {
      await this.start(args);
    } catch (error) {
      this.state = 'idle';
      await this.server?.close();
      this.server = undefined;
      throw error;
    }
  }

  private async start(args: AttachArguments): Promise<void> {
    const pid = parsePid(args.processId);
    for (const [name, v] of [
      ['include', args.include],
      ['exclude', args.exclude],
    ] as const) {
      if (v !== undefined && !(Array.isArray(v) && v.every((s) => typeof s === 'string'))) {
        throw errors.invalidArgument(name, 'a list of module globs');
      }
    }
    const procRoot = this.deps.procRoot ?? PROC_ROOT;
    const uid = this.deps.uid ?? process.getuid?.() ?? 0;
    const info = readProcInfo(pid, procRoot);
    if (!info) throw errors.processGone(pid);
    if (info.uid !== undefined && info.uid !== uid) throw errors.processNotOurs(pid, info.uid, uid);
    const targetEnv = readEnviron(pid, procRoot);
    const dirs = candidateDirs(targetEnv, process.env, uid);

    let found = this.find(pid, dirs, uid);
    if (!found) {
      if (targetEnv[AGENT_DISABLE_ENV] && targetEnv[AGENT_DISABLE_ENV] !== '0') {
        throw errors.noAgent(
          pid,
          `It was started with ${AGENT_DISABLE_ENV}=${targetEnv[AGENT_DISABLE_ENV]}, which switches the agent off.`,
        );
      }
      await this.inject(pid, info.exe, args.python, dirs[0]);
      found = await this.waitForAgent(pid, dirs, uid);
    }

    const helloSeen = deferred<Hello>();
    const sink = this.deps.sink;
    const server = new TraceServer({
      sessionId: this.deps.sessionId,
      sink: {
        hello: (key: ProcessKey, hello: Hello) => {
          sink.hello(key, hello);
          helloSeen.resolve(hello);
        },
        batch: (key, batch) => sink.batch(key, batch),
        error: (key, error) => sink.error(key, error),
        end: (key, end) => sink.end(key, end),
      },
      helloTimeoutMs: this.deps.helloTimeoutMs ?? 10000,
      onRefused: (reason) => this.events.refused(reason),
      onProtocolError: (_key, reason) =>
        this.events.output('console', `Tracelens: the trace stream broke (${reason}).\n`),
      onSinkError: (error) =>
        this.events.output('console', `Tracelens could not store trace data: ${String(error)}\n`),
    });
    try {
      await server.listen();
    } catch (error) {
      throw errors.serverFailed((error as Error).message);
    }
    this.server = server;

    let token: string;
    try {
      token = readToken(found, uid);
    } catch (error) {
      throw errors.agentUnsafe((error as Error).message);
    }
    let result;
    try {
      result = await requestAttach(found.socketPath, {
        token,
        connect: `127.0.0.1:${server.address!.port}`,
        sessionToken: server.token,
        include: args.include,
        exclude: args.exclude,
      });
    } catch (error) {
      if (readProcInfo(pid, procRoot) === undefined) throw errors.processGone(pid);
      throw errors.agentUnreachable(pid, (error as Error).message);
    }
    if (result.reply.t === 'refused') throw errors.agentRefused(pid, result.reply.reason);
    const lease = result.lease!;
    this.lease = lease;
    const timeoutMs = this.deps.helloTimeoutMs ?? 10000;
    const hello = await Promise.race([
      helloSeen.promise,
      delay(timeoutMs).then(() => undefined),
      lease.closed.then(() => undefined),
    ]);
    if (!hello) {
      lease.destroy();
      throw errors.attachTimeout(pid, timeoutMs);
    }
    this.state = 'running';
    this.events.output(
      'console',
      `Tracelens attached to process ${pid} (Python ${hello.python}, ${hello.backend}). ` +
        `Its output stays where it goes; disconnect to detach and leave it running.\n`,
    );
    this.finished = lease.closed.then(async () => {
      await Promise.race([server.whenIdle(2000), delay(2000)]);
      if (!this.detaching) {
        const gone = lease.detachedReason === 'exit' || readProcInfo(pid, procRoot) === undefined;
        this.events.output(
          'console',
          gone
            ? `Process ${pid} ended.\n`
            : `Tracelens detached from process ${pid}${lease.detachedReason ? ` (${lease.detachedReason})` : ''}; it goes on running.\n`,
        );
      }
      this.state = 'finished';
      this.events.terminated();
      await server.close();
    });
  }

  private find(pid: number, dirs: string[], uid: number): FoundAgent | undefined {
    try {
      return findAgent(pid, dirs, uid);
    } catch (error) {
      if (error instanceof UnsafeAgentFile) throw errors.agentUnsafe(error.message);
      throw error;
    }
  }

  private async waitForAgent(pid: number, dirs: string[], uid: number): Promise<FoundAgent> {
    const t0 = Date.now();
    for (;;) {
      const found = this.find(pid, dirs, uid);
      if (found) return found;
      if (Date.now() - t0 > ANNOUNCE_TIMEOUT_MS) {
        throw errors.injectionFailed(
          pid,
          `the agent was sent in but did not announce itself within ${ANNOUNCE_TIMEOUT_MS / 1000} s. The program's main thread may be blocked in native code (it runs the agent's start-up at its next Python instruction), or its stderr says why the agent did not start.`,
        );
      }
      await delay(100);
    }
  }

  /** Installs the agent through sys.remote_exec (3.14+) or a debugger; throws why it cannot. */
  private async inject(
    pid: number,
    exe: string | undefined,
    python: string | undefined,
    runtimeDir: string,
  ): Promise<void> {
    const code = agentBootstrapCode(this.deps.tracerDir);
    // Only an executable named like an interpreter is ever run to learn its version.
    const named = !!exe && looksLikePythonExe(exe);
    const version =
      (named ? ((await probeVersion(exe)) ?? versionFromExeName(exe)) : undefined) ??
      libpythonVersion(readMaps(pid, this.deps.procRoot ?? PROC_ROOT));
    if (!version && !named) {
      throw errors.noAgent(
        pid,
        `It does not look like a Python interpreter (${exe ?? 'its executable cannot be read'}).`,
      );
    }
    if (hasRemoteExec(version)) {
      const script = path.join(runtimeDir, `inject-${pid}.py`);
      try {
        mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });
        writeFileSync(script, `${code}\n`, { mode: 0o600 });
        chmodSync(script, 0o600);
      } catch (error) {
        throw errors.injectionFailed(pid, `cannot write ${script}: ${(error as Error).message}.`);
      }
      if (!python && !(exe && looksLikePythonExe(exe))) {
        throw errors.injectionFailed(
          pid,
          `Python ${version} embedded in ${exe ?? 'another program'} needs \`python\` in launch.json: a Python 3.14+ interpreter to run sys.remote_exec.`,
        );
      }
      const r = await runCommand(remoteExecCommand(python ?? exe!, pid, script), 15000);
      setTimeout(() => {
        try {
          unlinkSync(script);
        } catch {
          // already gone
        }
      }, ANNOUNCE_TIMEOUT_MS).unref();
      if (r.code !== 0) {
        throw errors.injectionFailed(
          pid,
          `sys.remote_exec failed: ${r.output.trim().split('\n').slice(-1)[0] ?? r.error}. The program may run with PYTHON_DISABLE_REMOTE_DEBUG or -X disable_remote_debug; install the agent in it instead.`,
        );
      }
      return;
    }
    const facts = debuggerFacts();
    const blocked = diagnoseDebugger(facts);
    if (blocked) throw errors.noAgent(pid, blocked);
    const cmd = facts.gdb ? gdbCommand(pid, code, facts.gdb) : lldbCommand(pid, code, facts.lldb);
    this.events.output(
      'console',
      `Process ${pid} (Python ${version ?? 'of unknown version'}) has no agent: installing it with ${path.basename(cmd.command)}.\n`,
    );
    const r = await runCommand(cmd, DEBUGGER_TIMEOUT_MS);
    if (r.code !== 0 || !/\$1 = 0|\(int\) \$0 = 0/.test(r.output)) {
      throw errors.injectionFailed(pid, explainDebuggerOutput(r.output || r.error || ''));
    }
  }

  /** Sends a control message to the attached process; returns how many got it. */
  control(message: ControlMessage): number {
    if (this.state !== 'running' || !this.server) throw errors.notRunning();
    return this.server.send(message);
  }

  /** Terminate means detach here: Tracelens never ends a process it attached to. */
  terminate(): void {
    void this.shutdown();
  }

  /** Detaches (the program goes on), waits for the last batch, closes the server. */
  async shutdown(): Promise<void> {
    if (this.state === 'running' && this.lease) {
      this.detaching = true;
      await this.lease.detach();
      await Promise.race([this.finished, delay(3000)]);
    }
    await this.server?.close();
  }

  killNow(): void {
    this.lease?.destroy();
  }
}

function parsePid(value: unknown): number {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\s*\d+\s*$/.test(value)
        ? Number(value)
        : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw errors.attachBadProcessId(value);
  return n;
}

/** "3.12.1" from running the interpreter, or undefined. */
async function probeVersion(exe: string): Promise<string | undefined> {
  const r = await runCommand(
    { command: exe, args: ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'] },
    5000,
  );
  const m = r.code === 0 ? /^(\d+\.\d+\.\d+)/.exec(r.output.trim()) : null;
  return m ? m[1] : undefined;
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
