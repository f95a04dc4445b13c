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
  /** 1 at the first line of each statement that holds return / yield / lambda. */
  readonly returnStmt: Uint8Array;
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
  const returnStmt = new Uint8Array(n);
  let depth = 0;
  let triple: string | null = null; // the quote of an open triple-quoted string
  let start = 0;
  for (let i = 0; i < n; i++) {
    const text = lines[i];
    // The code of the line is built from slices; strings become "" and comments are dropped.
    let out = '';
    let from = 0; // start of the slice of code not yet copied to `out`
    let continued = false;
    let j = 0;
    const len = text.length;
    if (triple) {
      const close = text.indexOf(triple);
      if (close < 0) {
        code[i] = '';
        continue; // the whole line is inside the string (the statement goes on)
      }
      triple = null;
      j = close + 3;
      out = '"""';
      from = j;
    }
    while (j < len) {
      const c = text.charCodeAt(j);
      if (c === 35 /* # */) break;
      if (c === 34 /* " */ || c === 39 /* ' */) {
        out += text.slice(from, j);
        const ch = text[j];
        const q3 = ch + ch + ch;
        if (text.startsWith(q3, j)) {
          const close = text.indexOf(q3, j + 3);
          out += '"""';
          if (close < 0) {
            triple = q3;
            j = len;
            from = len;
            break;
          }
          j = close + 3;
          from = j;
          continue;
        }
        // A one-line string: to its closing quote, or to the end of the line.
        let k = j + 1;
        while (k < len && text[k] !== ch) k += text[k] === '\\' ? 2 : 1;
        out += '""';
        j = k + 1;
        from = j;
        continue;
      }
      if (c === 40 || c === 91 || c === 123) depth++;
      else if (c === 41 || c === 93 || c === 125) depth = depth > 0 ? depth - 1 : 0;
      else if (c === 92 /* \ */ && j === len - 1) continued = true;
      j++;
    }
    out += text.slice(from, Math.min(j, len));
    code[i] = out;
    if (depth === 0 && triple === null && !continued) {
      let hasReturn = false;
      for (let k = start; k <= i; k++) {
        stmtStart[k] = start;
        stmtEnd[k] = i;
        if (!hasReturn && RETURN_SYNTAX.test(code[k])) hasReturn = true;
      }
      if (hasReturn) returnStmt[start] = 1;
      start = i + 1;
    }
  }
  // An unfinished statement at the end of the file runs to its last line.
  for (let k = start; k < n; k++) {
    stmtStart[k] = start;
    stmtEnd[k] = n - 1;
    if (RETURN_SYNTAX.test(code[k])) returnStmt[start] = 1;
  }
  return { lineCount: n, stmtStart, stmtEnd, returnStmt, code, lines };
}

/**
 * Where a value returned (or yielded) at 1-based `line` is drawn: the 0-based last line of its
 * statement when that statement holds `return`, `yield` or `lambda`; undefined otherwise (a
 * function that falls off its end "returns" None at its last line, which is noise there).
 */
export function returnAnchor(info: SourceInfo, line: number): number | undefined {
  const l0 = line - 1;
  if (!Number.isInteger(l0) || l0 < 0 || l0 >= info.lineCount) return undefined;
  return info.returnStmt[info.stmtStart[l0]] ? info.stmtEnd[l0] : undefined;
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
  let width = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32) width++;
    else if (c === 9) width += 8;
    else break;
  }
  return width;
}

const rangeCache = new WeakMap<SourceInfo, Map<number, { start: number; end: number } | null>>();

/**
 * The 0-based lines a function's code covers: from its first line (decorators included) to the
 * last line of its body (deeper indented than the `def`), or undefined when `codeLine` is no def.
 */
export function functionRange(
  info: SourceInfo,
  codeLine: number,
): { start: number; end: number } | undefined {
  let cache = rangeCache.get(info);
  if (!cache) rangeCache.set(info, (cache = new Map()));
  const seen = cache.get(codeLine);
  if (seen !== undefined) return seen ?? undefined;
  const range = computeFunctionRange(info, codeLine);
  cache.set(codeLine, range ?? null);
  return range;
}

function computeFunctionRange(
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
