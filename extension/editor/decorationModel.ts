// What the editor draws for one file, as plain data: from what the store recorded (FileTrace) and
// the file's text as traced, which current line gets which end-of-line text (return values,
// arguments, raised and propagated exceptions) and which heat level. Pure: no vscode import, so
// the rules are unit-tested in Node. The EditorDecorator draws it; hovers read it (hoverModel).

import type { CallRow, FileAnnotations, FunctionStats } from '../store/api';
import { formatArgs, formatException, shortenValue } from '../format';
import { EMPTY_HEAT, type HeatLine, type HeatMap } from './heatModel';
import { IDENTITY, type LineMapping } from './lineMapping';
import { analyzeSource, defStatement, functionRange, type SourceInfo } from './sourceLines';

/** One decoration type per kind; every range of a kind shares it. */
export type DecorationKind =
  'return' | 'args' | 'raise' | 'handled' | 'propagated' | 'propagatedCaught';

export const DECORATION_KINDS: readonly DecorationKind[] = [
  'return',
  'args',
  'raise',
  'handled',
  'propagated',
  'propagatedCaught',
];

type Ret = FileAnnotations['returns'][number];
type Raise = FileAnnotations['raises'][number];

/** A line an exception passed through on its way out of a call (it was raised further in). */
export interface Propagation {
  /** 1-based line of the call (in this file) the exception left. */
  line: number;
  type: string;
  message: string;
  callId: number;
  /** Caught by some caller further out (false: it ended the program or thread). */
  handled: boolean;
}

/** A traced function of the file: its figures and its most recent call. */
export interface FunctionInfo extends Pick<
  FunctionStats,
  'qualname' | 'line' | 'calls' | 'totalNs' | 'ownNs' | 'exceptions'
> {
  lastCall?: CallRow;
}

/** Everything recorded about one file, as the store answered. */
export interface FileTrace {
  annotations: FileAnnotations;
  functions: FunctionInfo[];
  propagations: Propagation[];
  /** The selected call, when it is a call of a function of this file. */
  selected?: CallRow;
  heat: HeatMap;
}

export const EMPTY_TRACE: FileTrace = {
  annotations: { returns: [], raises: [] },
  functions: [],
  propagations: [],
  heat: EMPTY_HEAT,
};

/** What a decoration stands for (the hover explains it). */
export type DecorationRef =
  | { kind: 'return'; entry: Ret }
  | { kind: 'args'; call: CallRow; fn: FunctionInfo }
  | { kind: 'raise'; entry: Raise }
  | { kind: 'propagated'; entry: Propagation };

export interface LineDecoration {
  /** 0-based line of the document now (VS Code's numbering). */
  line: number;
  kind: DecorationKind;
  /** The text drawn after the end of the line. */
  text: string;
}

export interface PlacedDecoration extends LineDecoration {
  ref: DecorationRef;
  /** 1-based line as recorded. */
  recordedLine: number;
  /** The selected call's own value (not the default, the function's last call). */
  selected: boolean;
}

export interface PlacedHeat {
  /** 0-based line now. */
  line: number;
  level: number;
  heat: HeatLine;
}

export interface FileView {
  decorations: PlacedDecoration[];
  heat: PlacedHeat[];
  /** Recorded lines that could not be placed because the file changed there. */
  hidden: number;
}

export interface ViewOptions {
  /** Longest end-of-line text for a value or exception (ellipsis included). */
  maxValueLength: number;
  /** Lines in the document now; nothing is drawn past its end. */
  lineCount: number;
  /** The file's text as traced, analysed; without it values go at the recorded lines as they are. */
  source?: SourceInfo;
  /** Traced lines -> current lines (default: unchanged). */
  mapping?: LineMapping;
}

export const RETURN_PREFIX = '→ ';
export const YIELD_PREFIX = '⤴ ';
export const RAISE_PREFIX = '⚠ ';
export const PROPAGATED_PREFIX = '⇡ ';
export const ARGS_PREFIX = '▸ ';
export const HANDLED_SUFFIX = ' (caught)';

/** Draw order when two things fall on one line: the first wins, the rest go to the hover. */
const PRECEDENCE: Record<DecorationKind, number> = {
  raise: 0,
  handled: 0,
  propagated: 1,
  propagatedCaught: 1,
  return: 2,
  args: 3,
};

const RETURN_SYNTAX = /\b(return|yield|lambda)\b/;

/** Whether a value returned at this (single) line belongs at it: it holds return/yield/lambda. */
export function isReturnLine(text: string): boolean {
  return RETURN_SYNTAX.test(text.replace(/#.*$/, ''));
}

/**
 * Whether recorded lines still match the file by time alone: not when it has unsaved edits or
 * was written after the trace started (ms; unknown counts as a match). Without a snapshot of the
 * traced text this decides whether anything is drawn at all.
 */
export function valuesMatchFile(
  dirty: boolean,
  mtimeMs: number | undefined,
  traceStartedMs: number | undefined,
): boolean {
  if (dirty) return false;
  if (mtimeMs === undefined || traceStartedMs === undefined) return true;
  return mtimeMs <= traceStartedMs;
}

/** Keeps, per 1-based line, the entry of the most recent call (highest call id). */
export function latestPerLine<T extends { line: number; callId: number }>(
  items: readonly T[],
): Map<number, T> {
  const byLine = new Map<number, T>();
  for (const item of items) {
    const seen = byLine.get(item.line);
    if (!seen || item.callId > seen.callId) byLine.set(item.line, item);
  }
  return byLine;
}

interface Owned {
  fn: FunctionInfo;
  start: number;
  end: number;
}

/** The innermost traced function whose lines hold each 0-based traced line. */
export function functionOwners(
  source: SourceInfo | undefined,
  functions: readonly FunctionInfo[],
): (line0: number) => FunctionInfo | undefined {
  if (!source) return () => undefined;
  const ranges: Owned[] = [];
  for (const fn of functions) {
    const r = functionRange(source, fn.line);
    if (r) ranges.push({ fn, ...r });
  }
  // Outer functions first, so inner ones overwrite their lines.
  ranges.sort((a, b) => a.start - b.start || b.end - a.end);
  const owner = new Array<FunctionInfo | undefined>(source.lineCount).fill(undefined);
  for (const r of ranges) for (let k = r.start; k <= r.end; k++) owner[k] = r.fn;
  return (line0) => owner[line0];
}

const sameFunction = (fn: FunctionInfo | undefined, call: CallRow | undefined) =>
  !!fn && !!call && fn.line === call.line && fn.qualname === call.qualname;

/** Places what was recorded for a file onto its current lines; at most one text per line. */
export function buildFileView(trace: FileTrace, opts: ViewOptions): FileView {
  const { source, maxValueLength } = opts;
  const mapping = opts.mapping ?? IDENTITY;
  const owner = functionOwners(source, trace.functions);
  const selected = trace.selected;
  const selectedFn = selected
    ? trace.functions.find((fn) => sameFunction(fn, selected))
    : undefined;
  /** Lines recorded for the selected function, except the selected call's own, are left out. */
  const otherCallOfSelected = (line: number, callId: number) =>
    selectedFn !== undefined && owner(line - 1) === selectedFn && callId !== selected!.id;

  const byLine = new Map<number, PlacedDecoration>();
  let hidden = 0;
  const place = (
    recordedLine: number,
    anchor: 'statement' | 'return' | 'line',
    d: Omit<PlacedDecoration, 'line' | 'recordedLine'>,
  ): void => {
    const l0 = recordedLine - 1;
    if (!Number.isInteger(l0) || l0 < 0) return;
    let first = l0;
    let last = l0;
    let at = l0;
    if (source) {
      if (l0 >= source.lineCount) return;
      first = source.stmtStart[l0];
      last = source.stmtEnd[l0];
      if (anchor === 'return' && !source.returnStmt[first]) return;
      at = anchor === 'line' ? l0 : last;
    }
    const line = mapping.mapSpan(first, last, at);
    if (line === undefined) {
      hidden++;
      return;
    }
    if (line >= opts.lineCount) return;
    const seen = byLine.get(line);
    if (seen && PRECEDENCE[seen.kind] <= PRECEDENCE[d.kind]) return;
    // Every field named (no spread): one object shape, as this runs once per decoration.
    byLine.set(line, {
      kind: d.kind,
      text: d.text,
      ref: d.ref,
      selected: d.selected,
      line,
      recordedLine,
    });
  };

  const raises = latestPerLine(trace.annotations.raises);
  for (const [line, r] of raises) {
    if (otherCallOfSelected(line, r.callId)) continue;
    place(line, 'line', {
      kind: r.handled ? 'handled' : 'raise',
      text: raiseText(r.type, r.message, r.handled, maxValueLength),
      ref: { kind: 'raise', entry: r },
      selected: selected?.id === r.callId,
    });
  }

  const propagations = latestPerLine(trace.propagations);
  for (const [line, p] of propagations) {
    if (raises.has(line) || otherCallOfSelected(line, p.callId)) continue;
    place(line, 'statement', {
      kind: p.handled ? 'propagatedCaught' : 'propagated',
      text: propagatedText(p, maxValueLength),
      ref: { kind: 'propagated', entry: p },
      selected: selected?.id === p.callId,
    });
  }

  for (const [line, r] of latestPerLine(trace.annotations.returns)) {
    if (otherCallOfSelected(line, r.callId)) continue;
    if (selected && r.callId === selected.id) continue; // placed below from the call itself
    place(line, 'return', returnDecoration(r, maxValueLength, false));
  }

  if (selected && selectedFn) {
    if (selected.exception === null && selected.returnLine !== null) {
      const entry: Ret = {
        line: selected.returnLine,
        value: selected.returnValue ?? 'None',
        callId: selected.id,
        args: selected.args,
        qualname: selected.qualname,
        kind: (selected.flags & 2) !== 0 ? 'yield' : 'return',
      };
      place(entry.line, 'return', returnDecoration(entry, maxValueLength, true));
    } else if (selected.exception?.line != null) {
      const line = selected.exception.line;
      const raisedHere = raises.get(line)?.callId === selected.id;
      if (!raisedHere) {
        const p: Propagation = {
          line,
          type: selected.exception.type,
          message: selected.exception.message,
          callId: selected.id,
          handled: propagations.get(line)?.handled ?? false,
        };
        place(line, 'statement', {
          kind: p.handled ? 'propagatedCaught' : 'propagated',
          text: propagatedText(p, maxValueLength),
          ref: { kind: 'propagated', entry: p },
          selected: true,
        });
      }
    }
  }

  if (source) {
    for (const fn of trace.functions) {
      const call = fn === selectedFn ? selected : fn.lastCall;
      if (!call || call.args.length === 0) continue;
      const def = defStatement(source, fn.line);
      if (!def) continue;
      place(def.end + 1, 'line', {
        kind: 'args',
        text: ARGS_PREFIX + shortenValue(formatArgs(call.args, maxValueLength), maxValueLength),
        ref: { kind: 'args', call, fn },
        selected: fn === selectedFn,
      });
    }
  }

  const heat: PlacedHeat[] = [];
  for (const h of trace.heat.lines) {
    const line = mapping.map(h.line - 1);
    if (line === undefined) {
      hidden++;
      continue;
    }
    if (line < opts.lineCount) heat.push({ line, level: h.level, heat: h });
  }

  const decorations = [...byLine.values()].sort((a, b) => a.line - b.line);
  return { decorations, heat, hidden };
}

function raiseText(type: string, message: string, handled: boolean, max: number): string {
  const budget = Math.max(1, max - (handled ? HANDLED_SUFFIX.length : 0));
  const text = RAISE_PREFIX + shortenValue(formatException(type, message), budget);
  return handled ? text + HANDLED_SUFFIX : text;
}

function propagatedText(p: Propagation, max: number): string {
  const budget = Math.max(1, max - (p.handled ? HANDLED_SUFFIX.length : 0));
  const text = PROPAGATED_PREFIX + shortenValue(formatException(p.type, p.message), budget);
  return p.handled ? text + HANDLED_SUFFIX : text;
}

function returnDecoration(
  r: Ret,
  max: number,
  selected: boolean,
): Omit<PlacedDecoration, 'line' | 'recordedLine'> {
  const prefix = r.kind === 'yield' ? YIELD_PREFIX : RETURN_PREFIX;
  return {
    kind: 'return',
    text: prefix + shortenValue(r.value, max),
    ref: { kind: 'return', entry: r },
    selected,
  };
}

export interface DecorationOptions {
  maxValueLength: number;
  lineCount: number;
  /** The text of a 1-based line; when given, values go only on return / yield / lambda lines. */
  lineText?: (line: number) => string;
}

/** The end-of-line texts for a file's annotations alone, sorted by line, one per line. */
export function buildDecorations(ann: FileAnnotations, opts: DecorationOptions): LineDecoration[] {
  let source: SourceInfo | undefined;
  if (opts.lineText) {
    const lines: string[] = [];
    for (let n = 1; n <= opts.lineCount; n++) lines.push(opts.lineText(n));
    source = analyzeSource(lines);
  }
  const view = buildFileView(
    { ...EMPTY_TRACE, annotations: ann },
    { maxValueLength: opts.maxValueLength, lineCount: opts.lineCount, source },
  );
  return view.decorations.map(({ line, kind, text }) => ({ line, kind, text }));
}

/** Groups decorations by kind, every kind present (an empty list clears that kind's ranges). */
export function groupByKind<T extends LineDecoration>(
  decorations: readonly T[],
): Record<DecorationKind, T[]> {
  const groups = Object.fromEntries(DECORATION_KINDS.map((k) => [k, [] as T[]])) as Record<
    DecorationKind,
    T[]
  >;
  for (const d of decorations) groups[d.kind].push(d);
  return groups;
}
