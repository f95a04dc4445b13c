// The query the filter box applies: the text itself in query mode, or in text mode a search for
// the words in function names, argument values, return values and exception messages.
// Pure (no DOM, no vscode); unit-tested in test/unit/flameFilterQuery.test.ts.

import type { FilterMode } from '../protocol';

/** The text as a query-language string literal (double quotes, escapes). */
export function quote(text: string): string {
  return `"${text
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(/\t/g, '\\t')}"`;
}

/** The query sentence for what is typed in the filter box ('' shows everything). */
export function effectiveFilter(text: string, mode: FilterMode): string {
  const t = text.trim();
  // A query keeps its spacing so that error positions are positions in the box.
  if (!t || mode === 'query') return t ? text : '';
  const q = quote(t);
  return `function contains ${q} or arg contains ${q} or return contains ${q} or exception.message contains ${q}`;
}

/** "Column N" for an offset in a one-line query. */
export function columnOf(offset: number): number {
  return offset + 1;
}
