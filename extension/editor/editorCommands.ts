// The editor's commands: Previous / Next Call (through the calls of the function under the
// cursor), Show Calls in Timeline (the timeline filtered to that function), the hovers' link
// targets (select a call, show it in the timeline), Toggle Line Heat, Trace This File with Line
// Heat and Profile This File (Line Heat Only). Changes only the CallSelection, settings, the
// timeline's filter (through tracelens.showTimeline) and debug sessions.

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CallSelection } from '../callSelection';
import { Commands, DEBUG_TYPE, InternalCommands, Settings } from '../constants';
import { formatArgs, formatCount } from '../format';
import type { ITraceStore } from '../store/api';
import type { CallNavigator } from './callNavigator';
import type { EditorDecorator } from './editorDecorator';
import { functionFilter } from './fileTraceLoader';

/** A launch of `file` that records sampled line heat only (`--no-calls --sample HZ`). */
export function heatOnlyConfiguration(file: string): vscode.DebugConfiguration {
  return {
    type: DEBUG_TYPE,
    request: 'launch',
    name: `Profile ${path.basename(file)} (line heat only)`,
    program: file,
    calls: false,
    lineHeat: 'sampled',
  };
}

/** The saved Python file to launch (the given one, else the active editor's), or undefined. */
async function savedPythonFile(
  uri: vscode.Uri | undefined,
  purpose: string,
): Promise<{ path: string; folder: vscode.WorkspaceFolder | undefined } | undefined> {
  const doc =
    uri instanceof vscode.Uri
      ? await vscode.workspace.openTextDocument(uri)
      : vscode.window.activeTextEditor?.document;
  if (!doc || doc.languageId !== 'python' || doc.uri.scheme !== 'file' || doc.isUntitled) {
    void vscode.window.showErrorMessage(`Tracelens: open a saved Python file ${purpose}.`);
    return undefined;
  }
  if (doc.isDirty && !(await doc.save())) {
    void vscode.window.showErrorMessage(
      `Tracelens: could not save ${doc.fileName}; save it and try again.`,
    );
    return undefined;
  }
  return { path: doc.uri.fsPath, folder: vscode.workspace.getWorkspaceFolder(doc.uri) };
}

/** Switches the heat overlay on (the user asked for heat). */
async function heatOn(): Promise<void> {
  const config = vscode.workspace.getConfiguration();
  if (!config.get<boolean>(Settings.HeatEnabled, true))
    await config.update(Settings.HeatEnabled, true, vscode.ConfigurationTarget.Global);
}

export function registerEditorCommands(deps: {
  store: ITraceStore;
  selection: CallSelection;
  decorator: EditorDecorator;
  navigator: CallNavigator;
}): vscode.Disposable[] {
  const { store, selection, decorator, navigator } = deps;

  const step = async (delta: number): Promise<void> => {
    const editor = vscode.window.activeTextEditor;
    const found =
      editor && (await decorator.functionAt(editor.document, editor.selection.active.line));
    if (!found) {
      void vscode.window.showInformationMessage(
        'Tracelens: put the cursor in a traced function to move through its calls.',
      );
      return;
    }
    const { fn, doc } = found;
    navigator.reset((await store.summary()).generation);
    const current =
      selection.callId !== null
        ? await store.call(selection.callId).catch(() => undefined)
        : undefined;
    const ref = { file: doc.tracePath, line: fn.line, calls: fn.calls };
    const moved = await navigator.step(ref, current, delta);
    if (!moved) {
      void vscode.window.showInformationMessage(
        `Tracelens: there is no ${delta < 0 ? 'earlier' : 'later'} call of ${fn.qualname}.`,
      );
      return;
    }
    selection.select(moved.call.id, 'editor');
    vscode.window.setStatusBarMessage(
      `Tracelens: ${fn.qualname} call ${formatCount(moved.index + 1)} of ${formatCount(moved.count)} (${formatArgs(moved.call.args, 30)})`,
      5000,
    );
  };

  const callId = (arg: unknown): number | undefined =>
    typeof arg === 'number' && Number.isInteger(arg) ? arg : undefined;

  return [
    vscode.commands.registerCommand(Commands.PreviousCall, () => step(-1)),
    vscode.commands.registerCommand(Commands.NextCall, () => step(1)),
    vscode.commands.registerCommand(InternalCommands.SelectCall, (arg: unknown) => {
      const id = callId(arg);
      if (id !== undefined) selection.select(id, 'editor');
    }),
    vscode.commands.registerCommand(InternalCommands.ShowCallInTimeline, async (arg: unknown) => {
      const id = callId(arg);
      if (id !== undefined) selection.select(id, 'editor');
      await vscode.commands.executeCommand(Commands.ShowTimeline);
    }),
    vscode.commands.registerCommand(Commands.ToggleHeat, async () => {
      const config = vscode.workspace.getConfiguration();
      const on = !config.get<boolean>(Settings.HeatEnabled, true);
      const inspect = config.inspect<boolean>(Settings.HeatEnabled);
      const target =
        inspect?.workspaceFolderValue !== undefined || inspect?.workspaceValue !== undefined
          ? vscode.ConfigurationTarget.Workspace
          : vscode.ConfigurationTarget.Global;
      await config.update(Settings.HeatEnabled, on, target);
      vscode.window.setStatusBarMessage(`Tracelens: line heat ${on ? 'on' : 'off'}`, 3000);
    }),
    vscode.commands.registerCommand(Commands.TraceFileWithHeat, async (uri?: vscode.Uri) => {
      const file = await savedPythonFile(uri, 'to trace it with line heat');
      if (!file) return;
      await heatOn();
      await vscode.debug.startDebugging(file.folder, {
        type: DEBUG_TYPE,
        request: 'launch',
        name: `Trace ${path.basename(file.path)} with line heat`,
        program: file.path,
        lineHeat: 'exact',
        lineHeatFiles: [file.path],
      });
    }),
    vscode.commands.registerCommand(Commands.ProfileFileHeatOnly, async (uri?: vscode.Uri) => {
      const file = await savedPythonFile(uri, 'to profile its line heat');
      if (!file) return;
      await heatOn();
      await vscode.debug.startDebugging(file.folder, heatOnlyConfiguration(file.path));
    }),
    vscode.commands.registerCommand(
      Commands.ShowCallsInTimeline,
      async (uri?: unknown, line?: unknown) => {
        const editor = vscode.window.activeTextEditor;
        // From a hover link the URI comes as a string; from a menu as a Uri; else the cursor.
        const target =
          uri instanceof vscode.Uri
            ? uri
            : typeof uri === 'string'
              ? vscode.Uri.parse(uri, true)
              : undefined;
        const document = target
          ? await vscode.workspace.openTextDocument(target)
          : editor?.document;
        const at =
          typeof line === 'number' && Number.isInteger(line)
            ? line
            : target && editor?.document.uri.toString() !== target.toString()
              ? undefined
              : editor?.selection.active.line;
        const found = document && at !== undefined && (await decorator.functionAt(document, at));
        if (!found) {
          void vscode.window.showInformationMessage(
            'Tracelens: put the cursor in a traced function to show its calls in the timeline.',
          );
          return;
        }
        await vscode.commands.executeCommand(Commands.ShowTimeline, {
          filter: functionFilter(found.fn.qualname, found.doc.tracePath),
        });
      },
    ),
  ];
}
