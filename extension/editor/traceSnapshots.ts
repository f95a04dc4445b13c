// Remembers the text of each file as it was when traced, so values can still be drawn on the
// lines that did not change after an edit (see lineMapping.ts). A file's text is taken from disk
// when it has not been written since the trace started; otherwise it is unknown and nothing is
// drawn there. No vscode import; reads the file system only.

import { readFileSync, statSync } from 'node:fs';
import { splitLines } from './lineMapping';
import { analyzeSource, type SourceInfo } from './sourceLines';
import { pathKey } from './tracePaths';

export interface Snapshot {
  lines: string[];
  source: SourceInfo;
}

export class TraceSnapshots {
  private readonly byPath = new Map<string, Snapshot | null>();
  /** Wall clock (ms) when the current trace started; undefined for an opened trace file. */
  private startedMs: number | undefined;

  /** A new trace starts: forget every snapshot. */
  reset(startedMs: number | undefined): void {
    this.byPath.clear();
    this.startedMs = startedMs;
  }

  /** Records a file's traced text (read by the caller at the start of the trace). */
  remember(fsPath: string, text: string): void {
    const lines = splitLines(text);
    this.byPath.set(pathKey(fsPath), { lines, source: analyzeSource(lines) });
  }

  /**
   * The file's text as traced: remembered, or read now from disk when the file has not been
   * written since the trace started (null: unknown, the file changed before we looked).
   */
  get(fsPath: string): Snapshot | null {
    const key = pathKey(fsPath);
    const seen = this.byPath.get(key);
    if (seen !== undefined) return seen;
    let snapshot: Snapshot | null = null;
    try {
      const mtimeMs = statSync(fsPath).mtimeMs;
      if (this.startedMs === undefined || mtimeMs <= this.startedMs) {
        const lines = splitLines(readFileSync(fsPath, 'utf8'));
        snapshot = { lines, source: analyzeSource(lines) };
      }
    } catch {
      snapshot = null;
    }
    this.byPath.set(key, snapshot);
    return snapshot;
  }
}
