// Draws what Tracelens recorded in the visible Python editors: values, arguments and exceptions
// at the end of lines, and line heat (background, overview ruler, gutter bar), with one
// TextEditorDecorationType per kind and per heat level shared by every range. Redraws at most
// every REFRESH_INTERVAL_MS when the store, the selected call, the settings or the text change.
// What goes where is decided by the pure decorationModel; hovers and CodeLens read viewFor().

import * as vscode from 'vscode';
import type { CallSelection } from '../callSelection';
import { Colors, HEAT_BACKGROUNDS, REFRESH_INTERVAL_MS, Settings } from '../constants';
import type { CallRow, FunctionStats, ITraceStore } from '../store/api';
import { Throttle } from '../throttle';
import {
  buildFileView,
  DECORATION_KINDS,
  EMPTY_TRACE,
  functionOwners,
  groupByKind,
  type DecorationKind,
  type FileTrace,
  type FileView,
  type FunctionInfo,
} from './decorationModel';
import { loadFileTrace } from './fileTraceLoader';
import {
  EMPTY_HEAT,
  groupByLevel,
  heatGutterDataUri,
  HEAT_LEVELS,
  type HeatMap,
} from './heatModel';
import { mapLines, splitLines, type LineMapping } from './lineMapping';
import { TraceSnapshots, type Snapshot } from './traceSnapshots';
import { candidatePaths, pathKey } from './tracePaths';

/** What is drawn in one document now, with what it was built from (for hovers and CodeLens). */
export interface DocumentView {
  view: FileView;
  trace: FileTrace;
  /** The file's path as the tracer reported it. */
  tracePath: string;
  mapping: LineMapping;
  snapshot: Snapshot;
}

interface TraceEntry {
  key: string;
  trace: Promise<{ trace: FileTrace; tracePath: string } | undefined>;
}

interface ViewEntry {
  key: string;
  view: Promise<DocumentView | undefined>;
}

const isEmpty = (t: FileTrace) =>
  !t.annotations.returns.length &&
  !t.annotations.raises.length &&
  !t.functions.length &&
  !t.heat.lines.length;

function valueType(kind: DecorationKind): vscode.TextEditorDecorationType {
  const color: Record<DecorationKind, string> = {
    return: Colors.ReturnValueForeground,
    args: Colors.ArgumentsForeground,
    raise: Colors.ExceptionForeground,
    handled: Colors.HandledExceptionForeground,
    propagated: Colors.PropagatedExceptionForeground,
    propagatedCaught: Colors.PropagatedExceptionForeground,
  };
  const subtle = kind === 'return' || kind === 'args' || kind.startsWith('propagated');
  return vscode.window.createTextEditorDecorationType({
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
    isWholeLine: kind === 'raise',
    backgroundColor:
      kind === 'raise' ? new vscode.ThemeColor(Colors.ExceptionLineBackground) : undefined,
    // Raising lines are marked in the overview ruler too (error / warning colours of the theme).
    overviewRulerColor:
      kind === 'raise'
        ? new vscode.ThemeColor('editorOverviewRuler.errorForeground')
        : kind === 'handled'
          ? new vscode.ThemeColor('editorOverviewRuler.warningForeground')
          : undefined,
    overviewRulerLane: vscode.OverviewRulerLane.Right,
    after: {
      color: new vscode.ThemeColor(color[kind]),
      margin: '0 0 0 2em',
      fontStyle: subtle ? 'italic' : 'normal',
    },
  });
}

function heatType(level: number): vscode.TextEditorDecorationType {
  return vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor(HEAT_BACKGROUNDS[level - 1]),
    overviewRulerColor: level >= 3 ? new vscode.ThemeColor(Colors.HeatOverviewRuler) : undefined,
    overviewRulerLane: vscode.OverviewRulerLane.Center,
    gutterIconPath: vscode.Uri.parse(heatGutterDataUri(level)),
    gutterIconSize: 'contain',
  });
}

export class EditorDecorator implements vscode.Disposable {
  private readonly valueTypes = new Map<DecorationKind, vscode.TextEditorDecorationType>();
  private readonly heatTypes: vscode.TextEditorDecorationType[] = [];
  private readonly traces = new Map<string, TraceEntry>();
  private readonly views = new Map<string, ViewEntry>();
  private readonly mappings = new Map<string, { version: number; mapping: LineMapping }>();
  private readonly snapshots = new TraceSnapshots();
  private readonly throttle: Throttle;
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires after a redraw that may have changed what CodeLens and hovers show. */
  readonly onDidChange = this.changed.event;
  private functionStats: { generation: number; stats: Promise<FunctionStats[]> } | undefined;
  private selected: { key: string; row: Promise<CallRow | undefined> } | undefined;
  private generation = -1;
  private hasData = false;
  private drawn = new Set<vscode.TextEditor>();

  constructor(
    private readonly store: ITraceStore,
    private readonly selection: CallSelection,
    /** Told the active editor's heat after each redraw (the status bar's legend). */
    private readonly onHeat: (heat: HeatMap) => void = () => undefined,
  ) {
    for (const kind of DECORATION_KINDS) this.valueTypes.set(kind, valueType(kind));
    for (let level = 1; level <= HEAT_LEVELS; level++) this.heatTypes.push(heatType(level));
    this.throttle = new Throttle(() => this.redraw(), REFRESH_INTERVAL_MS);
    const schedule = () => this.throttle.schedule();
    this.subscriptions.push(
      this.changed,
      store.onDidChange((summary) => {
        this.hasData = summary.calls > 0 || summary.processes > 0; // heat-only: no calls
        if (summary.generation !== this.generation) {
          this.generation = summary.generation;
          schedule();
        }
      }),
      selection.onDidChange(schedule),
      vscode.window.onDidChangeVisibleTextEditors(schedule),
      vscode.window.onDidChangeActiveTextEditor(schedule),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (this.hasData && vscode.window.visibleTextEditors.some((v) => v.document === e.document))
          schedule();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (
          [Settings.ShowValues, Settings.MaxValueLength, Settings.HeatEnabled].some((s) =>
            e.affectsConfiguration(s),
          )
        )
          schedule();
      }),
    );
    this.refresh();
  }

  /** Forgets everything drawn: the store was emptied, a new trace starts at `startedMs`. */
  reset(startedMs: number | undefined = Date.now()): void {
    this.traces.clear();
    this.views.clear();
    this.mappings.clear();
    this.functionStats = undefined;
    this.hasData = false;
    this.snapshots.reset(startedMs);
    // Open files without unsaved edits hold exactly what is on disk, i.e. what runs.
    for (const doc of vscode.workspace.textDocuments) {
      if (doc.languageId === 'python' && doc.uri.scheme === 'file' && !doc.isDirty)
        this.snapshots.remember(doc.uri.fsPath, doc.getText());
    }
    this.throttle.schedule();
  }

  /** Re-reads everything and redraws (a trace session just ended). */
  refresh(): void {
    void this.store.summary().then(
      (s) => {
        this.hasData = s.calls > 0 || s.processes > 0;
        this.generation = s.generation;
        this.traces.clear();
        this.views.clear();
        this.functionStats = undefined;
        this.throttle.schedule();
      },
      () => undefined,
    );
  }

  private config() {
    const c = vscode.workspace.getConfiguration();
    return {
      show: c.get<boolean>(Settings.ShowValues, true),
      heat: c.get<boolean>(Settings.HeatEnabled, true),
      maxValueLength: Math.max(10, c.get<number>(Settings.MaxValueLength, 60)),
    };
  }

  private stats(): Promise<FunctionStats[]> {
    if (!this.functionStats || this.functionStats.generation !== this.generation) {
      this.functionStats = {
        generation: this.generation,
        stats: this.store.functionStats().catch(() => []),
      };
    }
    return this.functionStats.stats;
  }

  /** The selected call's row (cached per generation and selection). */
  private selectedCall(): Promise<CallRow | undefined> {
    const id = this.selection.callId;
    if (id === null) return Promise.resolve(undefined);
    const key = `${this.generation}:${id}`;
    if (this.selected?.key !== key)
      this.selected = { key, row: this.store.call(id).catch(() => undefined) };
    return this.selected.row;
  }

  /** What the store recorded for a document's file, but the selection (cached per generation). */
  private traceOf(document: vscode.TextDocument, heat: boolean) {
    const uri = document.uri.toString();
    const key = `${this.generation}:${heat}`;
    const seen = this.traces.get(uri);
    if (seen && seen.key === key) return seen.trace;
    const trace = (async () => {
      const functionStats = await this.stats();
      for (const candidate of candidatePaths(document.uri.fsPath)) {
        const t = await loadFileTrace(this.store, candidate, {
          functionStats,
          selectedId: null,
          heat,
        });
        if (!isEmpty(t)) return { trace: t, tracePath: candidate };
      }
      return undefined;
    })().catch(() => undefined);
    this.traces.set(uri, { key, trace });
    return trace;
  }

  private mappingOf(document: vscode.TextDocument, snapshot: Snapshot): LineMapping {
    const uri = document.uri.toString();
    const seen = this.mappings.get(uri);
    if (seen && seen.version === document.version) return seen.mapping;
    const mapping = mapLines(snapshot.lines, splitLines(document.getText()));
    this.mappings.set(uri, { version: document.version, mapping });
    return mapping;
  }

  /** What is drawn in a document (undefined: nothing recorded for it, or values are off). */
  viewFor(document: vscode.TextDocument): Promise<DocumentView | undefined> {
    if (document.uri.scheme !== 'file' || document.languageId !== 'python' || !this.hasData)
      return Promise.resolve(undefined);
    const cfg = this.config();
    if (!cfg.show && !cfg.heat) return Promise.resolve(undefined);
    const uri = document.uri.toString();
    const key = `${this.generation}:${this.selection.callId}:${document.version}:${cfg.show}:${cfg.heat}:${cfg.maxValueLength}`;
    const seen = this.views.get(uri);
    if (seen && seen.key === key) return seen.view;
    const view = (async (): Promise<DocumentView | undefined> => {
      const snapshot = this.snapshots.get(document.uri.fsPath);
      if (!snapshot) return undefined; // changed before we saw it: nothing can be placed safely
      const [loaded, selectedRow] = await Promise.all([
        this.traceOf(document, cfg.heat),
        this.selectedCall(),
      ]);
      if (!loaded) return undefined;
      const selected =
        selectedRow && pathKey(selectedRow.file) === pathKey(loaded.tracePath)
          ? selectedRow
          : undefined;
      const full: FileTrace = { ...loaded.trace, selected };
      const trace: FileTrace = {
        ...(cfg.show
          ? full
          : { ...EMPTY_TRACE, annotations: { returns: [], raises: [] }, heat: full.heat }),
        heat: cfg.heat ? full.heat : EMPTY_HEAT,
      };
      const mapping = this.mappingOf(document, snapshot);
      const view = buildFileView(trace, {
        maxValueLength: cfg.maxValueLength,
        lineCount: document.lineCount,
        source: snapshot.source,
        mapping,
      });
      return { view, trace: full, tracePath: loaded.tracePath, mapping, snapshot };
    })().catch(() => undefined);
    this.views.set(uri, { key, view });
    return view;
  }

  /** The traced function whose code holds a 0-based line of the document now. */
  async functionAt(
    document: vscode.TextDocument,
    line: number,
  ): Promise<{ fn: FunctionInfo; doc: DocumentView } | undefined> {
    const doc = await this.viewFor(document);
    if (!doc) return undefined;
    const traced = doc.mapping.unmap(line);
    if (traced === undefined) return undefined;
    const fn = functionOwners(doc.snapshot.source, doc.trace.functions)(traced);
    return fn ? { fn, doc } : undefined;
  }

  private async redraw(): Promise<void> {
    const editors = vscode.window.visibleTextEditors;
    const active = vscode.window.activeTextEditor;
    let activeHeat: HeatMap = EMPTY_HEAT;
    await Promise.all(
      editors.map(async (editor) => {
        const doc = await this.viewFor(editor.document);
        if (!doc && !this.drawn.has(editor)) return;
        this.draw(editor, doc?.view);
        if (doc) this.drawn.add(editor);
        else this.drawn.delete(editor);
        if (editor === active && doc) activeHeat = doc.trace.heat;
      }),
    );
    for (const e of this.drawn) if (!editors.includes(e)) this.drawn.delete(e);
    this.onHeat(this.config().heat ? activeHeat : EMPTY_HEAT);
    this.changed.fire();
  }

  private draw(editor: vscode.TextEditor, view: FileView | undefined): void {
    const doc = editor.document;
    const groups = groupByKind(view?.decorations ?? []);
    for (const kind of DECORATION_KINDS) {
      const options = groups[kind].map((d): vscode.DecorationOptions => {
        const line = doc.lineAt(d.line);
        const start = kind === 'raise' ? line.range.start : line.range.end;
        return {
          range: new vscode.Range(start, line.range.end),
          renderOptions: { after: { contentText: d.text } },
        };
      });
      editor.setDecorations(this.valueTypes.get(kind)!, options);
    }
    const levels = groupByLevel(view?.heat ?? []);
    levels.forEach((lines, i) => {
      editor.setDecorations(
        this.heatTypes[i],
        lines.map((h) => new vscode.Range(h.line, 0, h.line, 0)),
      );
    });
  }

  dispose(): void {
    this.throttle.dispose();
    for (const d of this.subscriptions) d.dispose();
    for (const t of this.valueTypes.values()) t.dispose();
    for (const t of this.heatTypes) t.dispose();
  }
}
