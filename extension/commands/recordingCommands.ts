// Commands that steer the tracer of the running trace session (launched or attached): pause and
// resume recording, and change what is recorded with a query sentence on modules. They send the
// custom DAP requests of adapter/protocol/dap.ts to the active `tracelens` session.

import * as vscode from 'vscode';
import { DEBUG_TYPE, TraceRequest } from '../../adapter/protocol/dap';
import { recordingScope } from '../query/recordingScope';

function traceSession(): vscode.DebugSession | undefined {
  const active = vscode.debug.activeDebugSession;
  if (active?.type === DEBUG_TYPE) return active;
  void vscode.window.showInformationMessage(
    'Tracelens: no trace is running. Start one with "Tracelens: Trace This File" or attach to a process.',
  );
  return undefined;
}

async function send(request: TraceRequest, args: object, done: string): Promise<void> {
  const session = traceSession();
  if (!session) return;
  try {
    await session.customRequest(request, args);
    vscode.window.setStatusBarMessage(`Tracelens: ${done}`, 4000);
  } catch (error) {
    void vscode.window.showErrorMessage(
      `Tracelens: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

export const pauseRecording = () => send(TraceRequest.Pause, {}, 'recording paused.');
export const resumeRecording = () => send(TraceRequest.Resume, {}, 'recording resumed.');

export async function changeRecordedScope(): Promise<void> {
  if (!traceSession()) return;
  const text = await vscode.window.showInputBox({
    title: 'Tracelens: Change What Is Recorded',
    prompt:
      'A query on modules, e.g. module startswith "app." and not module == "app.vendor". Empty: the program\'s own code.',
    placeHolder: 'module startswith "app."',
    validateInput: (value) => {
      const scope = recordingScope(value);
      return scope.ok ? undefined : scope.message;
    },
  });
  if (text === undefined) return;
  const scope = recordingScope(text);
  if (!scope.ok) return;
  await send(
    TraceRequest.SetFilter,
    scope.filter,
    text.trim() ? `recording ${text.trim()}.` : "recording the program's own code.",
  );
}
