// What the editor needs to know of a Python file's text to place values: the logical statement
// each physical line belongs to (brackets, triple-quoted strings, backslashes), whether it is a
// return / yield statement, where a function's `def` statement ends and how far its body reaches.
// Pure and linear in the file's length; no vscode import, no parser beyond a bracket scanner.

const RETURN_SYNTAX = /\b(return|yield|lambda)\b/;
const DEF_START = /^\s*(async\s+)?(def|class)\b/;
const DECORATOR = /^\s*@/;

export interface SourceInfo {
  readonly lineCount: number;
  /** 0-based first physical line of the statement holding line i (0-based). */
  readonly stmtStart: Int32Array;
  /** 0-based last physical line of the statement holding line i. */
  readonly stmtEnd: Int32Array;
  /** The physical lines' code with comments and string contents blanked (for keyword tests). */
  readonly code: readonly string[];
  readonly lines: readonly string[];
}

/** Scans the file once; strings and comments never count as brackets or keywords. */
export function analyzeSource(lines: readonly string[]): SourceInfo {
  const n = lines.length;
  const stmtStart = new Int32Array(n);
  const stmtEnd = new Int32Array(n);
  const code: string[] = new Array<string>(n);
  let depth = 0;
  let triple: string | null = null; // the quote of an open triple-quoted string
  let start = 0;
  for (let i = 0; i < n; i++) {
    const text = lines[i];
    let out = '';
    let continued = false;
    let j = 0;
    while (j < text.length) {
      const ch = text[j];
      if (triple) {
        if (text.startsWith(triple, j)) {
          triple = null;
          j += 3;
          out += '"""';
        } else {
          j += ch === '\\' ? 2 : 1;
          out += ' ';
        }
        continue;
      }
      if (ch === '#') break;
      if (ch === '"' || ch === "'") {
        const q3 = ch.repeat(3);
        if (text.startsWith(q3, j)) {
          triple = q3;
          j += 3;
          out += '"""';
          continue;
        }
        // A one-line string: to its closing quote, or to the end of the line.
        let k = j + 1;
        while (k < text.length && text[k] !== ch) k += text[k] === '\\' ? 2 : 1;
        out += '""';
        j = k + 1;
        continue;
      }
      if (ch === '(' || ch === '[' || ch === '{') depth++;
      else if (ch === ')' || ch === ']' || ch === '}') depth = Math.max(0, depth - 1);
      else if (ch === '\\' && j === text.length - 1) continued = true;
      out += ch;
      j++;
    }
    code[i] = out;
    if (depth === 0 && triple === null && !continued) {
      for (let k = start; k <= i; k++) {
        stmtStart[k] = start;
        stmtEnd[k] = i;
      }
      start = i + 1;
    }
  }
  // An unfinished statement at the end of the file runs to its last line.
  for (let k = start; k < n; k++) {
    stmtStart[k] = start;
    stmtEnd[k] = n - 1;
  }
  return { lineCount: n, stmtStart, stmtEnd, code, lines };
}

function statementCode(info: SourceInfo, line0: number): string {
  let s = '';
  for (let k = info.stmtStart[line0]; k <= info.stmtEnd[line0]; k++) s += info.code[k] + '\n';
  return s;
}

/**
 * Where a value returned (or yielded) at 1-based `line` is drawn: the 0-based last line of its
 * statement when that statement holds `return`, `yield` or `lambda`; undefined otherwise (a
 * function that falls off its end "returns" None at its last line, which is noise there).
 */
export function returnAnchor(info: SourceInfo, line: number): number | undefined {
  const l0 = line - 1;
  if (!Number.isInteger(l0) || l0 < 0 || l0 >= info.lineCount) return undefined;
  return RETURN_SYNTAX.test(statementCode(info, l0)) ? info.stmtEnd[l0] : undefined;
}

/** The 0-based last line of the statement holding 1-based `line` (where end-of-line text goes). */
export function statementEnd(info: SourceInfo, line: number): number | undefined {
  const l0 = line - 1;
  if (!Number.isInteger(l0) || l0 < 0 || l0 >= info.lineCount) return undefined;
  return info.stmtEnd[l0];
}

/**
 * The `def` statement of a function whose code starts at 1-based `codeLine` (decorators come
 * first: Python's first line is the first decorator's): its 0-based first and last lines.
 */
export function defStatement(
  info: SourceInfo,
  codeLine: number,
): { start: number; end: number } | undefined {
  let l0 = codeLine - 1;
  if (!Number.isInteger(l0) || l0 < 0 || l0 >= info.lineCount) return undefined;
  for (let guard = 0; guard < 100 && l0 < info.lineCount; guard++) {
    const start = info.stmtStart[l0];
    const text = info.code[start];
    if (DEF_START.test(text)) return { start, end: info.stmtEnd[l0] };
    if (!DECORATOR.test(text) && text.trim() !== '') return undefined;
    l0 = info.stmtEnd[l0] + 1;
  }
  return undefined;
}

function indentOf(text: string): number {
  const m = /^[ \t]*/.exec(text)!;
  return m[0].replace(/\t/g, '        ').length;
}

/**
 * The 0-based lines a function's code covers: from its first line (decorators included) to the
 * last line of its body (deeper indented than the `def`), or undefined when `codeLine` is no def.
 */
export function functionRange(
  info: SourceInfo,
  codeLine: number,
): { start: number; end: number } | undefined {
  const def = defStatement(info, codeLine);
  if (!def) return undefined;
  const indent = indentOf(info.lines[def.start]);
  let end = def.end;
  // A one-line body (`def f(): return 1`) ends with the def statement itself.
  if (!info.code[def.end].trimEnd().endsWith(':')) return { start: codeLine - 1, end };
  for (let k = def.end + 1; k < info.lineCount; k++) {
    if (info.stmtStart[k] !== k) {
      end = k; // inside a statement that started in the body
      continue;
    }
    if (info.code[k].trim() === '') continue;
    if (indentOf(info.lines[k]) <= indent) break;
    end = info.stmtEnd[k];
    k = end;
  }
  return { start: codeLine - 1, end };
}
