// Draws return values and exceptions at the end of traced lines in the visible editors, with one
// TextEditorDecorationType per kind (return, raised, caught) shared by every range. Redraws when
// the store changes (throttled) and when the visible editors change; also answers hovers' lookups
// from the same per-file cache. What goes where is decided by the pure decorationModel.

import { statSync } from 'node:fs';
import * as vscode from 'vscode';
import { Colors, REFRESH_INTERVAL_MS, Settings } from '../constants';
import type { FileAnnotations, ITraceStore } from '../store/api';
import { Throttle } from '../throttle';
import {
  buildDecorations,
  DECORATION_KINDS,
  groupByKind,
  valuesMatchFile,
  type DecorationKind,
} from './decorationModel';
import { candidatePaths } from './tracePaths';

const EMPTY: FileAnnotations = { returns: [], raises: [] };

interface CacheEntry {
  generation: number;
  annotations: Promise<FileAnnotations>;
}

function decorationType(kind: DecorationKind): vscode.TextEditorDecorationType {
  const color = new vscode.ThemeColor(
    kind === 'return'
      ? Colors.ReturnValueForeground
      : kind === 'raise'
        ? Colors.ExceptionForeground
        : Colors.HandledExceptionForeground,
  );
  return vscode.window.createTextEditorDecorationType({
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
    isWholeLine: kind !== 'return',
    backgroundColor:
      kind === 'raise' ? new vscode.ThemeColor(Colors.ExceptionLineBackground) : undefined,
    after: { color, margin: '0 0 0 2em', fontStyle: kind === 'return' ? 'italic' : 'normal' },
  });
}

export class EditorDecorator implements vscode.Disposable {
  private readonly types = new Map<DecorationKind, vscode.TextEditorDecorationType>();
  private readonly cache = new Map<string, CacheEntry>();
  private readonly throttle: Throttle;
  private readonly subscriptions: vscode.Disposable[] = [];
  private generation = -1;
  private hasData = false;
  /** Wall clock (ms) when the current trace started; files changed after it are stale. */
  private traceStartedMs: number | undefined;

  constructor(private readonly store: ITraceStore) {
    for (const kind of DECORATION_KINDS) this.types.set(kind, decorationType(kind));
    this.throttle = new Throttle(() => this.redraw(), REFRESH_INTERVAL_MS);
    this.subscriptions.push(
      store.onDidChange((summary) => {
        this.hasData = summary.calls > 0;
        if (summary.generation !== this.generation) {
          this.generation = summary.generation;
          this.cache.clear();
          this.throttle.schedule();
        }
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => this.throttle.schedule()),
      // An edit or a save can make the values stale: hide them (never draw at wrong lines).
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (
          this.hasData &&
          vscode.window.visibleTextEditors.some((v) => v.document === e.document)
        ) {
          this.throttle.schedule();
        }
      }),
      vscode.workspace.onDidSaveTextDocument(() => this.hasData && this.throttle.schedule()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (
          e.affectsConfiguration(Settings.ShowValues) ||
          e.affectsConfiguration(Settings.MaxValueLength)
        ) {
          this.throttle.schedule();
        }
      }),
    );
    void store.summary().then(
      (s) => {
        this.generation = s.generation;
        this.hasData = s.calls > 0;
        this.throttle.schedule();
      },
      () => undefined,
    );
  }

  /** Forgets everything drawn: the store was emptied, a new trace starts at `startedMs`. */
  reset(startedMs: number = Date.now()): void {
    this.cache.clear();
    this.hasData = false;
    this.traceStartedMs = startedMs;
    this.throttle.schedule();
  }

  /** Re-reads every file's annotations and redraws (a trace session just ended). */
  refresh(): void {
    this.cache.clear();
    void this.store.summary().then(
      (s) => {
        this.hasData = s.calls > 0;
        this.generation = s.generation;
        this.throttle.schedule();
      },
      () => undefined,
    );
  }

  private isStale(document: vscode.TextDocument): boolean {
    let mtimeMs: number | undefined;
    try {
      mtimeMs = statSync(document.uri.fsPath).mtimeMs;
    } catch {
      mtimeMs = undefined;
    }
    return !valuesMatchFile(document.isDirty, mtimeMs, this.traceStartedMs);
  }

  /** The annotations of a document's file, from the cache of the current store generation. */
  annotationsFor(document: vscode.TextDocument): Promise<FileAnnotations> {
    if (document.uri.scheme !== 'file' || !this.hasData || this.isStale(document)) {
      return Promise.resolve(EMPTY);
    }
    const key = document.uri.toString();
    const cached = this.cache.get(key);
    if (cached && cached.generation === this.generation) return cached.annotations;
    const annotations = this.lookup(document.uri.fsPath).catch(() => EMPTY);
    this.cache.set(key, { generation: this.generation, annotations });
    return annotations;
  }

  private async lookup(fsPath: string): Promise<FileAnnotations> {
    for (const candidate of candidatePaths(fsPath)) {
      const ann = await this.store.fileAnnotations(candidate);
      if (ann.returns.length || ann.raises.length) return ann;
    }
    return EMPTY;
  }

  private async redraw(): Promise<void> {
    const config = vscode.workspace.getConfiguration();
    const show = config.get<boolean>(Settings.ShowValues, true);
    const maxValueLength = Math.max(10, config.get<number>(Settings.MaxValueLength, 60));
    await Promise.all(
      vscode.window.visibleTextEditors.map(async (editor) => {
        const ann = show ? await this.annotationsFor(editor.document) : EMPTY;
        const doc = editor.document;
        const groups = groupByKind(
          buildDecorations(ann, {
            maxValueLength,
            lineCount: doc.lineCount,
            lineText: (line) => doc.lineAt(line - 1).text,
          }),
        );
        for (const kind of DECORATION_KINDS) {
          const options = groups[kind].map((d): vscode.DecorationOptions => {
            const line = doc.lineAt(d.line);
            const start = kind === 'return' ? line.range.end : line.range.start;
            return {
              range: new vscode.Range(start, line.range.end),
              renderOptions: { after: { contentText: d.text } },
            };
          });
          editor.setDecorations(this.types.get(kind)!, options);
        }
      }),
    );
  }

  dispose(): void {
    this.throttle.dispose();
    for (const d of this.subscriptions) d.dispose();
    for (const t of this.types.values()) t.dispose();
  }
}
