// The runtime of a Tracelens session: opens the trace server, starts `python -m tracelens run`
// in its own process group, forwards its output, reports its exit once its trace has arrived,
// relays control messages and ends the whole process tree on request. Knows nothing of DAP
// (the session translates) or vscode.

import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { errors, type TracelensError } from './errors';
import { InterpreterFinder } from './interpreterFinder';
import { planLaunch, tracerEnv, type InterpreterResolver } from './launchPlan';
import type { ProcessSpawner } from './processSpawner';
import type { LaunchArguments, ProcessKey, TraceSink } from './protocol/dap';
import type { ControlMessage } from './protocol/wire';
import { TraceServer } from './traceServer';

/** After the program exits, how long its output and trace may take to arrive. */
export const FLUSH_GRACE_MS = 2000;
/** After SIGTERM, how long the process group has before SIGKILL. */
export const KILL_GRACE_MS = 2000;

export interface LauncherEvents {
  output(category: 'stdout' | 'stderr' | 'console', text: string): void;
  /** The program ended; a signal is reported as 128 + its number. */
  exited(exitCode: number): void;
  /** Nothing more will come: always after exited (or alone when the program never started). */
  terminated(): void;
  /** A connection to the trace server was refused; nothing from it was delivered. */
  refused(reason: string): void;
}

export interface LauncherDependencies {
  sessionId: string;
  sink: TraceSink;
  spawner: ProcessSpawner;
  tracerDir: string;
  resolveInterpreter?: InterpreterResolver;
  helloTimeoutMs?: number;
}

export class Launcher {
  private server?: TraceServer;
  private child?: ChildProcess;
  private state: 'idle' | 'starting' | 'running' | 'finished' = 'idle';
  private finished!: Promise<void>;
  private killTimer?: NodeJS.Timeout;
  private starting?: Promise<void>;
  private stopRequested = false;
  private readonly finder: InterpreterFinder;

  constructor(
    private readonly deps: LauncherDependencies,
    private readonly events: LauncherEvents,
  ) {
    this.finder = new InterpreterFinder(deps.spawner);
  }

  /** Where the program's tracers connect while it runs ("unix:PATH" or "127.0.0.1:PORT"). */
  get serverAddress(): { connect: string } | undefined {
    const a = this.server?.connectAddress;
    return a ? { connect: a } : undefined;
  }

  /** Checks the arguments, starts the program under the tracer; rejects with a TracelensError. */
  launch(args: LaunchArguments): Promise<void> {
    if (this.state !== 'idle') return Promise.reject(errors.alreadyRunning());
    this.state = 'starting';
    this.starting = this.start(args);
    return this.starting;
  }

  private async start(args: LaunchArguments): Promise<void> {
    try {
      const plan = await planLaunch(args, {
        finder: this.finder,
        resolveInterpreter: this.deps.resolveInterpreter,
        tracerDir: this.deps.tracerDir,
      });
      const server = new TraceServer({
        sessionId: this.deps.sessionId,
        sink: this.deps.sink,
        // A Unix socket where there are Unix sockets: no port for editors to offer forwarding.
        transport: process.platform === 'win32' ? 'tcp' : 'unix',
        helloTimeoutMs: this.deps.helloTimeoutMs,
        onRefused: (reason) => this.events.refused(reason),
        onProtocolError: (key, reason) =>
          this.notice(key, `the trace stream broke (${reason}); tracing stopped`),
        onSinkError: (error) =>
          this.events.output('console', `Tracelens could not store trace data: ${String(error)}\n`),
      });
      try {
        await server.listen();
      } catch (error) {
        throw errors.serverFailed((error as Error).message);
      }
      this.server = server;
      const child = await this.spawn(
        plan.interpreter.command,
        plan.tracerArgs(server.connectAddress!),
        {
          cwd: plan.cwd,
          env: tracerEnv(plan, server.token),
        },
      ).catch(async (error: TracelensError) => {
        await server.close();
        throw error;
      });
      this.child = child;
      this.state = 'running';
      this.finished = this.watch(child, server);
      // Terminate or disconnect came while the interpreter was being checked.
      if (this.stopRequested) this.terminate();
    } catch (error) {
      this.state = 'idle';
      throw error;
    }
  }

  /** Sends a control message to every traced process; returns how many got it. */
  control(message: ControlMessage): number {
    if (this.state !== 'running' || !this.server) throw errors.notRunning();
    return this.server.send(message);
  }

  /** Asks the process group to end (SIGTERM), then forces it (SIGKILL) after KILL_GRACE_MS. */
  terminate(): void {
    if (this.state === 'starting') this.stopRequested = true;
    if (this.state !== 'running' || this.killTimer) return;
    this.signalGroup('SIGTERM');
    this.killTimer = setTimeout(() => this.signalGroup('SIGKILL'), KILL_GRACE_MS);
  }

  /** Ends the process tree if it runs and waits until it has, then closes the server. */
  async shutdown(): Promise<void> {
    if (this.state === 'starting') {
      this.stopRequested = true;
      await this.starting?.catch(() => undefined);
    }
    if (this.state === 'running') {
      this.terminate();
      await Promise.race([this.finished, delay(KILL_GRACE_MS + 500)]);
      this.signalGroup('SIGKILL');
      await Promise.race([this.finished, delay(500)]);
    }
    await this.server?.close();
  }

  /** Last resort when the adapter itself exits: kill whatever is left, synchronously. */
  killNow(): void {
    if (this.child) this.signalGroup('SIGKILL');
  }

  private spawn(
    command: string,
    args: string[],
    options: { cwd: string; env: NodeJS.ProcessEnv },
  ): Promise<ChildProcess> {
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = this.deps.spawner(command, args, {
          ...options,
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      } catch (error) {
        reject(errors.spawnFailed(command, (error as Error).message));
        return;
      }
      const onError = (error: Error) => reject(errors.spawnFailed(command, error.message));
      child.once('error', onError);
      child.once('spawn', () => {
        child.off('error', onError);
        child.on('error', () => {
          /* later errors (a failed kill) change nothing; exit/close report the end */
        });
        resolve(child);
      });
    });
  }

  /** Forwards output; on exit waits for output and trace to drain, then reports the end. */
  private async watch(child: ChildProcess, server: TraceServer): Promise<void> {
    const streamsClosed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    this.forward(child.stdout, 'stdout');
    this.forward(child.stderr, 'stderr');
    const exitCode = await new Promise<number>((resolve) =>
      child.once('exit', (code, signal) =>
        resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)),
      ),
    );
    await Promise.race([
      Promise.all([streamsClosed, server.whenIdle(FLUSH_GRACE_MS)]),
      delay(FLUSH_GRACE_MS),
    ]);
    this.state = 'finished';
    this.events.exited(exitCode);
    this.events.terminated();
    await server.close();
  }

  private forward(stream: NodeJS.ReadableStream | null, category: 'stdout' | 'stderr'): void {
    if (!stream) return;
    const decoder = new StringDecoder('utf8');
    stream.on('data', (chunk: Buffer) => {
      const text = decoder.write(chunk);
      if (text) this.events.output(category, text);
    });
    stream.on('end', () => {
      const rest = decoder.end();
      if (rest) this.events.output(category, rest);
    });
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is gone (ESRCH): nothing left to end.
    }
  }

  private notice(key: ProcessKey, text: string): void {
    this.events.output('console', `Tracelens (process ${key.connection}): ${text}\n`);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
