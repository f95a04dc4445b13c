// The commands that move a trace between the store and files: Save Trace As… (SQLite, the
// schema the tracer's --output files use), Open Trace… (a saved file or a `python -m tracelens run
// --output` file) and Export Chrome Trace… (JSON that Perfetto and chrome://tracing open).
// Talks to the store through ITraceStore only; the caller redraws the editor and the timeline.

import * as vscode from 'vscode';
import type { ITraceStore } from '../store/api';

const TRACE_FILTERS = { 'Tracelens trace (SQLite)': ['db', 'sqlite', 'tracelens'] };

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function defaultUri(name: string): vscode.Uri | undefined {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  return folder ? vscode.Uri.joinPath(folder, name) : undefined;
}

async function hasTrace(store: ITraceStore, what: string): Promise<boolean> {
  if ((await store.summary()).calls) return true;
  void vscode.window.showInformationMessage(`Tracelens: there is no trace to ${what} yet.`);
  return false;
}

export async function saveTrace(store: ITraceStore): Promise<void> {
  if (!(await hasTrace(store, 'save'))) return;
  const target = await vscode.window.showSaveDialog({
    title: 'Save Tracelens Trace',
    defaultUri: defaultUri('trace.tracelens.db'),
    filters: TRACE_FILTERS,
  });
  if (!target) return;
  try {
    await store.save(target.fsPath);
    void vscode.window.showInformationMessage(`Tracelens: trace saved to ${target.fsPath}.`);
  } catch (error) {
    void vscode.window.showErrorMessage(`Tracelens could not save the trace: ${message(error)}`);
  }
}

/** Replaces the current trace with a saved one; resolves true when it was opened. */
export async function openTrace(store: ITraceStore, file?: vscode.Uri): Promise<boolean> {
  const source =
    file ??
    (
      await vscode.window.showOpenDialog({
        title: 'Open Tracelens Trace',
        canSelectMany: false,
        filters: { ...TRACE_FILTERS, 'All files': ['*'] },
      })
    )?.[0];
  if (!source) return false;
  try {
    await store.open(source.fsPath);
    return true;
  } catch (error) {
    void vscode.window.showErrorMessage(`Tracelens could not open the trace: ${message(error)}`);
    return false;
  }
}

export async function exportChromeTrace(store: ITraceStore): Promise<void> {
  if (!(await hasTrace(store, 'export'))) return;
  const target = await vscode.window.showSaveDialog({
    title: 'Export Chrome Trace JSON',
    defaultUri: defaultUri('trace.json'),
    filters: { 'Chrome trace JSON': ['json'] },
  });
  if (!target) return;
  try {
    await store.exportChrome(target.fsPath);
    void vscode.window.showInformationMessage(
      `Tracelens: Chrome trace written to ${target.fsPath} (open it in Perfetto).`,
    );
  } catch (error) {
    void vscode.window.showErrorMessage(`Tracelens could not export the trace: ${message(error)}`);
  }
}
