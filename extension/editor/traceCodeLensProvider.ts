// A CodeLens over each traced function of a Python file: "N calls · total 12.3 ms", which opens the
// timeline filtered to that function (tracelens.showTimeline with { filter }). Reads the
// EditorDecorator's view, so it shows only functions whose def line is unchanged since the trace.

import * as vscode from 'vscode';
import { Commands, Settings } from '../constants';
import type { EditorDecorator } from './editorDecorator';
import { functionFilter } from './fileTraceLoader';
import { codeLensTitle } from './hoverModel';
import { defStatement } from './sourceLines';

export class TraceCodeLensProvider implements vscode.CodeLensProvider {
  readonly onDidChangeCodeLenses: vscode.Event<void>;

  constructor(private readonly decorator: EditorDecorator) {
    this.onDidChangeCodeLenses = decorator.onDidChange;
  }

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    if (!vscode.workspace.getConfiguration().get<boolean>(Settings.CodeLens, true)) return [];
    const doc = await this.decorator.viewFor(document);
    if (!doc) return [];
    const lenses: vscode.CodeLens[] = [];
    for (const fn of doc.trace.functions) {
      const def = defStatement(doc.snapshot.source, fn.line);
      if (!def) continue;
      const line = doc.mapping.mapSpan(fn.line - 1, def.end, fn.line - 1);
      if (line === undefined || line >= document.lineCount) continue;
      lenses.push(
        new vscode.CodeLens(document.lineAt(line).range, {
          title: codeLensTitle(fn.calls, fn.totalNs),
          tooltip: `Show the calls of ${fn.qualname} in the Tracelens timeline`,
          command: Commands.ShowTimeline,
          arguments: [{ filter: functionFilter(fn.qualname, doc.tracePath) }],
        }),
      );
    }
    return lenses;
  }
}
