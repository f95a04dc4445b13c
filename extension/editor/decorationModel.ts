// What the editor draws for one file, as plain data: given the store's FileAnnotations, which
// lines get which end-of-line text (return values, raised exceptions) and what their hovers say.
// Pure: no vscode import, so the rules are unit-tested in Node. The EditorDecorator draws it.

import type { FileAnnotations } from '../store/api';
import { formatException, oneLine, shortenValue } from '../format';

/** One decoration type per kind; every range of a kind shares it. */
export type DecorationKind = 'return' | 'raise' | 'handled';

export const DECORATION_KINDS: readonly DecorationKind[] = ['return', 'raise', 'handled'];

export interface LineDecoration {
  /** 0-based line (VS Code's numbering). */
  line: number;
  kind: DecorationKind;
  /** The text drawn after the end of the line. */
  text: string;
}

export interface DecorationOptions {
  /** Longest end-of-line text for a value or exception (ellipsis included). */
  maxValueLength: number;
  /** Lines in the document; annotations past its end are not drawn. */
  lineCount: number;
  /**
   * The text of a 1-based line of the document. When given, values are drawn only on lines that
   * hold a `return` or `yield` (or a lambda): a function or module that ends without one returns
   * None at its last line, which is noise there.
   */
  lineText?: (line: number) => string;
}

const RETURN_SYNTAX = /\b(return|yield|lambda)\b/;

/** Whether a value returned at this line belongs at it (see DecorationOptions.lineText). */
export function isReturnLine(text: string): boolean {
  const code = text.replace(/#.*$/, '');
  return RETURN_SYNTAX.test(code);
}

export const RETURN_PREFIX = '→ ';
export const YIELD_PREFIX = '⤴ ';
export const RAISE_PREFIX = '⚠ ';
export const HANDLED_SUFFIX = ' (caught)';

type Ret = FileAnnotations['returns'][number];
type Raise = FileAnnotations['raises'][number];

/**
 * Whether recorded lines still match the file: not when it has unsaved edits or was written
 * after the trace started (mtime and start both wall-clock ms; unknown values count as a match).
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
function latestPerLine<T extends { line: number; callId: number }>(
  items: readonly T[],
): Map<number, T> {
  const byLine = new Map<number, T>();
  for (const item of items) {
    const seen = byLine.get(item.line);
    if (!seen || item.callId > seen.callId) byLine.set(item.line, item);
  }
  return byLine;
}

function inDocument(line: number, lineCount: number): boolean {
  return Number.isInteger(line) && line >= 1 && line <= lineCount;
}

/**
 * The decorations for a file, sorted by line, at most one per line. A line that raised shows the
 * exception, not a value returned there by another call.
 */
export function buildDecorations(ann: FileAnnotations, opts: DecorationOptions): LineDecoration[] {
  const raises = latestPerLine(ann.raises);
  const returns = latestPerLine(ann.returns);
  const out: LineDecoration[] = [];
  for (const [line, r] of raises) {
    if (!inDocument(line, opts.lineCount)) continue;
    const budget = Math.max(1, opts.maxValueLength - (r.handled ? HANDLED_SUFFIX.length : 0));
    const text = RAISE_PREFIX + shortenValue(formatException(r.type, r.message), budget);
    out.push({
      line: line - 1,
      kind: r.handled ? 'handled' : 'raise',
      text: r.handled ? text + HANDLED_SUFFIX : text,
    });
  }
  for (const [line, r] of returns) {
    if (!inDocument(line, opts.lineCount) || raises.has(line)) continue;
    if (opts.lineText && !isReturnLine(opts.lineText(line))) continue;
    const prefix = r.kind === 'yield' ? YIELD_PREFIX : RETURN_PREFIX;
    out.push({
      line: line - 1,
      kind: 'return',
      text: prefix + shortenValue(r.value, opts.maxValueLength),
    });
  }
  return out.sort((a, b) => a.line - b.line);
}

/** Groups decorations by kind, every kind present (an empty list clears that kind's ranges). */
export function groupByKind(
  decorations: readonly LineDecoration[],
): Record<DecorationKind, LineDecoration[]> {
  const groups: Record<DecorationKind, LineDecoration[]> = { return: [], raise: [], handled: [] };
  for (const d of decorations) groups[d.kind].push(d);
  return groups;
}

/** A fenced code block that a value containing backticks cannot break out of. */
function codeBlock(text: string, language = 'python'): string {
  const longest = Math.max(2, ...Array.from(text.matchAll(/`+/g), (m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${language}\n${text}\n${fence}`;
}

/** Escapes Markdown's special characters in plain text (qualnames, exception types). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

function returnHover(r: Ret): string {
  const verb = r.kind === 'yield' ? 'yielded' : 'returned';
  const parts = [
    `**${escapeMarkdown(r.qualname)}** ${verb} (call ${r.callId})`,
    codeBlock(r.value),
  ];
  if (r.args.length)
    parts.push('Arguments:', codeBlock(r.args.map((a) => `${a.name}=${a.value}`).join('\n')));
  else parts.push('No arguments.');
  return parts.join('\n\n');
}

function raiseHover(r: Raise): string {
  const how = r.handled ? 'raised here and was caught' : 'raised here and was not caught';
  return [
    `**${escapeMarkdown(r.type)}** ${how} (call ${r.callId})`,
    codeBlock(oneLine(r.message) || '(no message)', 'text'),
  ].join('\n\n');
}

/** The hover's Markdown for a 1-based line, or undefined when nothing was recorded there. */
export function hoverMarkdown(ann: FileAnnotations, line: number): string | undefined {
  const raise = latestPerLine(ann.raises).get(line);
  const ret = latestPerLine(ann.returns).get(line);
  const parts: string[] = [];
  if (raise) parts.push(raiseHover(raise));
  if (ret) parts.push(returnHover(ret));
  return parts.length ? parts.join('\n\n---\n\n') : undefined;
}
