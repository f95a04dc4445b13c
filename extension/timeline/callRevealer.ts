// Opens a call's source at its def line (the timeline's "reveal" message): reuses the column of
// an editor already showing the file, else the first column, so the timeline stays where it is.
// Reads the call from the store; errors become a short message, never a stack trace.

import * as vscode from 'vscode';
import type { ITraceStore } from '../store/api';
import { pathKey } from '../editor/tracePaths';
import type { ICallRevealer } from './timelineController';

export class CallRevealer implements ICallRevealer {
  constructor(private readonly store: ITraceStore) {}

  async reveal(callId: number): Promise<void> {
    const call = await this.store.call(callId);
    if (!call) {
      void vscode.window.showWarningMessage('Tracelens: that call is no longer in the trace.');
      return;
    }
    const uri = vscode.Uri.file(call.file);
    const line = Math.max(0, call.line - 1);
    const key = pathKey(call.file);
    const existing = vscode.window.visibleTextEditors.find(
      (e) => e.document.uri.scheme === 'file' && pathKey(e.document.uri.fsPath) === key,
    );
    try {
      const doc = await vscode.workspace.openTextDocument(uri);
      const target = Math.min(line, doc.lineCount - 1);
      const selection = new vscode.Range(target, 0, target, 0);
      const editor = await vscode.window.showTextDocument(doc, {
        viewColumn: existing?.viewColumn ?? vscode.ViewColumn.One,
        selection,
        preserveFocus: false,
      });
      editor.revealRange(selection, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    } catch {
      void vscode.window.showWarningMessage(
        `Tracelens: cannot open ${call.file} (it may have been moved or deleted).`,
      );
    }
  }
}
