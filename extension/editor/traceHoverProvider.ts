// Hovers on traced Python lines: what is drawn there in full (value and arguments, or the
// exception), the line's heat figures, and on a traced function's def line or a traced line its
// calls, total / own / mean time, last few calls and links to the previous / next call, to the
// call in the timeline and to all the function's calls there (the timeline filtered to it). Reads the EditorDecorator's view; the Markdown comes from the pure hoverModel.

import * as vscode from 'vscode';
import type { CallSelection } from '../callSelection';
import { Commands, InternalCommands } from '../constants';
import type { ITraceStore } from '../store/api';
import type { CallNavigator } from './callNavigator';
import type { EditorDecorator } from './editorDecorator';
import { heatHoverText } from './heatModel';
import {
  callLinks,
  decorationHover,
  functionCallsLink,
  functionSummary,
  joinSections,
} from './hoverModel';
import { defStatement } from './sourceLines';

const RECENT_CALLS = 5;

export class TraceHoverProvider implements vscode.HoverProvider {
  constructor(
    private readonly decorator: EditorDecorator,
    private readonly store: ITraceStore,
    private readonly navigator: CallNavigator,
    private readonly selection: CallSelection,
  ) {}

  async provideHover(
    document: vscode.TextDocument,
    position: vscode.Position,
  ): Promise<vscode.Hover | undefined> {
    const doc = await this.decorator.viewFor(document);
    if (!doc) return undefined;
    const line = position.line;
    const drawn = doc.view.decorations.find((d) => d.line === line);
    const heat = doc.view.heat.find((h) => h.line === line);
    const owned = await this.decorator.functionAt(document, line);
    const traced = doc.mapping.unmap(line);
    const def = owned && defStatement(doc.snapshot.source, owned.fn.line);
    const onDef =
      def !== undefined &&
      traced !== undefined &&
      traced >= owned!.fn.line - 1 &&
      traced <= def.end;
    if (!drawn && !heat && !onDef) return undefined;

    let summary: string | undefined;
    let links: string | undefined;
    if (owned && (onDef || drawn)) {
      const fn = owned.fn;
      const ref = { file: doc.tracePath, line: fn.line, calls: fn.calls };
      const recent = await this.store
        .callsOf(doc.tracePath, fn.line, Math.max(0, fn.calls - RECENT_CALLS), RECENT_CALLS)
        .catch(() => []);
      summary = functionSummary(fn, recent);
      // The call the line shows: the drawn value's call, else the selected one, else the last.
      const shownId =
        drawn?.ref.kind === 'args'
          ? drawn.ref.call.id
          : drawn
            ? drawn.ref.entry.callId
            : (doc.trace.selected?.id ?? fn.lastCall?.id);
      const shown =
        shownId === undefined
          ? undefined
          : shownId === doc.trace.selected?.id
            ? doc.trace.selected
            : shownId === fn.lastCall?.id
              ? fn.lastCall
              : await this.store.call(shownId).catch(() => undefined);
      const pos = await this.navigator.position(ref, shown).catch(() => undefined);
      if (pos) {
        links = callLinks(pos, {
          selectCall: InternalCommands.SelectCall,
          showCallInTimeline: InternalCommands.ShowCallInTimeline,
        });
        if (this.selection.callId === pos.call) links += ' · selected';
      }
      const all = functionCallsLink(Commands.ShowCallsInTimeline, document.uri.toString(), line);
      links = links ? `${links} · ${all}` : all;
    }
    const text = joinSections([
      drawn && decorationHover(drawn.ref),
      summary && links ? `${summary}\n\n${links}` : (summary ?? links),
      heat && heatHoverText(doc.trace.heat, heat.heat),
    ]);
    if (!text) return undefined;
    const markdown = new vscode.MarkdownString(text);
    markdown.supportHtml = false;
    markdown.isTrusted = {
      enabledCommands: [
        InternalCommands.SelectCall,
        InternalCommands.ShowCallInTimeline,
        Commands.ShowCallsInTimeline,
      ],
    };
    return new vscode.Hover(markdown, document.lineAt(line).range);
  }
}
