// Errors in a query: where (offsets, 1-based line and column) and what was expected, with a
// "did you mean" when one is close. Thrown by the lexer and parser; the language server turns
// them into diagnostics. Imports nothing from vscode.

import type { Span } from './ast';

export interface Position {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units like the editor's columns. */
  column: number;
}

export function positionAt(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

export class QueryError extends Error {
  readonly offset: number;
  readonly end: number;
  readonly line: number;
  readonly column: number;
  /** The message without the position (for diagnostics shown at their range). */
  readonly reason: string;
  /** What would have been accepted here, e.g. ['a value'] or ["'and'", "'or'"]. */
  readonly expected: string[];
  /** The closest known word, when the error is about an unknown one. */
  readonly suggestion?: string;

  constructor(
    text: string,
    span: Span,
    reason: string,
    options: { expected?: string[]; suggestion?: string } = {},
  ) {
    const pos = positionAt(text, span.start);
    const where = pos.line > 1 ? `line ${pos.line}, column ${pos.column}` : `column ${pos.column}`;
    super(`${reason} at ${where}`);
    this.name = 'QueryError';
    this.offset = span.start;
    this.end = Math.max(span.end, span.start);
    this.line = pos.line;
    this.column = pos.column;
    this.reason = reason;
    this.expected = options.expected ?? [];
    this.suggestion = options.suggestion;
  }
}
