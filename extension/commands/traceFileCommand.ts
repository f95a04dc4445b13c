// "Tracelens: Trace This File": saves the Python file (an untitled one only after asking), then
// starts a `tracelens` debug session for it in its workspace folder. Invoked from the palette,
// the editor title's run menu and the editor context menu (which pass the file's URI).
// Starts sessions only through vscode.debug.startDebugging; knows nothing of the adapter.

import * as vscode from 'vscode';
import { traceFileConfiguration } from '../debug/traceConfigurationProvider';

async function documentFor(uri: vscode.Uri | undefined): Promise<vscode.TextDocument | undefined> {
  const active = vscode.window.activeTextEditor?.document;
  if (!uri || (active && active.uri.toString() === uri.toString())) return active;
  return vscode.workspace.openTextDocument(uri);
}

/** Saves the document if needed; returns the URI to trace, or undefined if the user declined. */
async function savedUri(doc: vscode.TextDocument): Promise<vscode.Uri | undefined> {
  if (doc.isUntitled) {
    const choice = await vscode.window.showInformationMessage(
      'Tracelens traces files on disk. Save this file first?',
      { modal: true },
      'Save…',
    );
    if (choice !== 'Save…') return undefined;
    return vscode.workspace.save(doc.uri);
  }
  if (doc.isDirty && !(await doc.save())) {
    void vscode.window.showErrorMessage(
      `Tracelens: could not save ${doc.fileName}; save it and trace again.`,
    );
    return undefined;
  }
  return doc.uri;
}

export async function traceFile(uri?: vscode.Uri): Promise<boolean> {
  const doc = await documentFor(uri instanceof vscode.Uri ? uri : undefined);
  if (!doc) {
    void vscode.window.showErrorMessage('Tracelens: open a Python file to trace it.');
    return false;
  }
  if (doc.languageId !== 'python') {
    void vscode.window.showErrorMessage(
      `Tracelens traces Python files; ${doc.fileName} is ${doc.languageId}.`,
    );
    return false;
  }
  const target = await savedUri(doc);
  if (!target) return false;
  if (target.scheme !== 'file') {
    void vscode.window.showErrorMessage("Tracelens can only trace files on this machine's disk.");
    return false;
  }
  const folder = vscode.workspace.getWorkspaceFolder(target);
  return vscode.debug.startDebugging(folder, traceFileConfiguration(target.fsPath));
}
