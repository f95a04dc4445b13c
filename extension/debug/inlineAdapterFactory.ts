// Creates the Tracelens debug adapter inline in the extension host for each `tracelens` session:
// a TracelensSession whose TraceSink is the store (batches go straight in, no DAP JSON), whose
// interpreter comes from the Python extension's selection, and whose tracer is the copy shipped
// in the extension. Before a session starts, the previous trace is cleared (one trace at a time).

import * as path from 'node:path';
import * as vscode from 'vscode';
import { TracelensSession } from '../../adapter/tracelensSession';
import type { LaunchArguments } from '../../adapter/protocol/dap';
import type { ITraceStore } from '../store/api';
import type { IPythonInterpreterSource } from './pythonInterpreter';

/** Told when a new trace session is about to start (the store is to be emptied, the panel shown). */
export interface ITraceSessionListener {
  traceStarting(session: vscode.DebugSession): Promise<void>;
}

export class InlineAdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  constructor(
    private readonly store: ITraceStore,
    private readonly tracerDir: string,
    private readonly interpreters: IPythonInterpreterSource,
    private readonly listener: ITraceSessionListener,
  ) {}

  async createDebugAdapterDescriptor(
    session: vscode.DebugSession,
  ): Promise<vscode.DebugAdapterDescriptor> {
    await this.listener.traceStarting(session);
    const adapter = new TracelensSession({
      sink: this.store,
      tracerDir: this.tracerDir,
      sessionId: session.id,
      resolveInterpreter: (args) =>
        this.interpreters.activeInterpreter(resourceFor(args, session.workspaceFolder)),
    });
    return new vscode.DebugAdapterInlineImplementation(adapter);
  }
}

/** The file or folder whose interpreter the Python extension should name. */
function resourceFor(
  args: LaunchArguments,
  folder: vscode.WorkspaceFolder | undefined,
): vscode.Uri | undefined {
  if (args.program && path.isAbsolute(args.program)) return vscode.Uri.file(args.program);
  if (args.cwd && path.isAbsolute(args.cwd)) return vscode.Uri.file(args.cwd);
  return folder?.uri;
}
