// The Tracelens debug adapter: a DAP session whose handlers only translate, handing the work to
// the Launcher (the runtime). Dependencies are injected, so the same class runs inline in the
// extension host (with the store's sink) and standalone over stdio in tests. Imports nothing
// from vscode.

import {
  DebugSession,
  InitializedEvent,
  OutputEvent,
  TerminatedEvent,
  ExitedEvent,
  Event,
  Thread,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { randomUUID } from 'node:crypto';
import { Attacher } from './attach/attacher';
import { asTracelensError, errors, type TracelensError } from './errors';
import type { InterpreterResolver } from './launchPlan';
import { Launcher, type LauncherEvents } from './launcher';
import { nodeSpawner, type ProcessSpawner } from './processSpawner';
import {
  TraceEvent,
  TraceRequest,
  type AttachArguments,
  type LaunchArguments,
  type RefusedBody,
  type SetFilterArguments,
  type TraceSink,
} from './protocol/dap';

/** Custom request answering the trace server's loopback address ({ host, port }; never the token). */
export const SERVER_ADDRESS_REQUEST = 'tracelens/serverAddress';

export interface SessionDependencies {
  /** Receives hello, batches, errors and ends of every traced process. */
  sink: TraceSink;
  /** The directory holding the `tracelens` Python package (put on the program's PYTHONPATH). */
  tracerDir: string;
  /** Starts processes; default child_process.spawn. */
  spawner?: ProcessSpawner;
  /** The interpreter selected outside the adapter (the Python extension's), if any. */
  resolveInterpreter?: InterpreterResolver;
  /** ProcessKey.session of this session's processes; default a random UUID. */
  sessionId?: string;
  /** How long a tracer has to say hello; default 5000 ms. */
  helloTimeoutMs?: number;
}

const THREAD_ID = 1;

export class TracelensSession extends DebugSession {
  readonly sessionId: string;
  private readonly launcher: Launcher;
  /** The runtime of `"request": "attach"` sessions (adapter/attach/attacher.ts). */
  private readonly attacher: Attacher;

  constructor(deps: SessionDependencies) {
    super();
    this.sessionId = deps.sessionId ?? randomUUID();
    const events: LauncherEvents = {
      output: (category, text) => this.sendEvent(new OutputEvent(text, category)),
      exited: (code) => {
        // VS Code does not print the exited event; say it in the Debug Console.
        this.sendEvent(new OutputEvent(`Program exited with code ${code}.\n`, 'console'));
        this.sendEvent(new ExitedEvent(code));
      },
      terminated: () => this.sendEvent(new TerminatedEvent()),
      refused: (reason) => {
        this.sendEvent(
          new OutputEvent(
            `Tracelens refused a connection to its trace socket: ${reason}.\n`,
            'console',
          ),
        );
        this.sendEvent(new Event(TraceEvent.Refused, { reason } satisfies RefusedBody));
      },
    };
    this.launcher = new Launcher(
      {
        sessionId: this.sessionId,
        sink: deps.sink,
        spawner: deps.spawner ?? nodeSpawner,
        tracerDir: deps.tracerDir,
        resolveInterpreter: deps.resolveInterpreter,
        helloTimeoutMs: deps.helloTimeoutMs,
      },
      events,
    );
    this.attacher = new Attacher(
      { sessionId: this.sessionId, sink: deps.sink, tracerDir: deps.tracerDir },
      events,
    );
  }

  /** The attacher once an attach was requested, else the launcher. */
  private get runtime(): Launcher | Attacher {
    return this.attacher.active ? this.attacher : this.launcher;
  }

  /** Ends the traced process tree and closes the trace server (also on disconnect). */
  shutdownTrace(): Promise<void> {
    return this.runtime.shutdown();
  }

  /** Kills what is left at once; for the standalone adapter's own exit. */
  killNow(): void {
    this.runtime.killNow();
  }

  override dispose(): void {
    void this.runtime.shutdown();
    super.dispose();
  }

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsTerminateRequest: true,
    };
    this.sendResponse(response);
    this.sendEvent(new InitializedEvent());
  }

  protected override configurationDoneRequest(
    response: DebugProtocol.ConfigurationDoneResponse,
  ): void {
    this.sendResponse(response);
  }

  protected override launchRequest(
    response: DebugProtocol.LaunchResponse,
    args: DebugProtocol.LaunchRequestArguments,
  ): void {
    if (this.attacher.active) return this.fail(response, errors.alreadyRunning());
    this.reply(response, this.launcher.launch(args as LaunchArguments));
  }

  protected override attachRequest(
    response: DebugProtocol.AttachResponse,
    args: DebugProtocol.AttachRequestArguments,
  ): void {
    if (this.launcher.serverAddress) return this.fail(response, errors.alreadyRunning());
    this.reply(response, this.attacher.attach(args as unknown as AttachArguments));
  }

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    response.body = { threads: [new Thread(THREAD_ID, 'Python')] };
    this.sendResponse(response);
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    this.runtime.terminate();
    this.sendResponse(response);
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    void this.runtime.shutdown().then(() => {
      this.sendResponse(response);
      this.shutdown();
    });
  }

  protected override customRequest(
    command: string,
    response: DebugProtocol.Response,
    args: unknown,
  ): void {
    switch (command) {
      case TraceRequest.Pause:
        this.reply(response, async () => ({ processes: this.runtime.control({ t: 'pause' }) }));
        return;
      case TraceRequest.Resume:
        this.reply(response, async () => ({ processes: this.runtime.control({ t: 'resume' }) }));
        return;
      case TraceRequest.SetFilter:
        this.reply(response, async () => {
          const { include, exclude } = checkFilter(args);
          return { processes: this.runtime.control({ t: 'filter', include, exclude }) };
        });
        return;
      case SERVER_ADDRESS_REQUEST:
        this.reply(response, async () => {
          const address = this.runtime.serverAddress;
          if (!address) throw errors.notRunning();
          return address;
        });
        return;
      default:
        super.customRequest(command, response, args);
    }
  }

  /** Answers with the work's result as body, or its error. */
  private reply(
    response: DebugProtocol.Response,
    work: Promise<unknown> | (() => Promise<unknown>),
  ): void {
    const promise = typeof work === 'function' ? Promise.resolve().then(work) : work;
    promise.then(
      (body) => {
        if (body !== undefined) response.body = body;
        this.sendResponse(response);
      },
      (error: unknown) => this.fail(response, asTracelensError(error)),
    );
  }

  private fail(response: DebugProtocol.Response, error: TracelensError): void {
    this.sendErrorResponse(response, {
      id: error.code,
      format: error.message,
      showUser: error.showUser,
    });
  }
}

function checkFilter(args: unknown): SetFilterArguments {
  const a = (args ?? {}) as Partial<SetFilterArguments>;
  const ok = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string');
  if (!ok(a.include) || !ok(a.exclude)) {
    throw errors.badFilter();
  }
  return { include: a.include!, exclude: a.exclude! };
}
