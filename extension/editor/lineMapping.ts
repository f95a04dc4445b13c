// Where the lines of a file as it was traced are in the file as it is now: lines in the unchanged
// head and tail keep (or shift to) their place; lines in the edited middle have none, so nothing
// recorded there is drawn (never at a wrong line). Pure; no vscode import. Linear time.

export interface LineMapping {
  /** The 0-based line now of 0-based traced line `line`, or undefined when it was edited. */
  map(line: number): number | undefined;
  /**
   * The 0-based line now of traced line `anchor` when every traced line from `first` to `last`
   * (a whole statement) is unchanged; undefined otherwise.
   */
  mapSpan(first: number, last: number, anchor: number): number | undefined;
  /** The 0-based traced line of 0-based line `line` now, or undefined when it is new or edited. */
  unmap(line: number): number | undefined;
  /** Whether the file is exactly as traced (every line maps to itself). */
  readonly identical: boolean;
}

export const IDENTITY: LineMapping = {
  map: (line) => line,
  mapSpan: (_first, _last, anchor) => anchor,
  unmap: (line) => line,
  identical: true,
};

/** Maps traced lines onto current ones by their common prefix and suffix. */
export function mapLines(traced: readonly string[], current: readonly string[]): LineMapping {
  const a = traced.length;
  const b = current.length;
  let prefix = 0;
  const most = Math.min(a, b);
  while (prefix < most && traced[prefix] === current[prefix]) prefix++;
  if (prefix === a && a === b) return IDENTITY;
  let suffix = 0;
  while (suffix < most - prefix && traced[a - 1 - suffix] === current[b - 1 - suffix]) {
    suffix++;
  }
  const delta = b - a;
  return {
    identical: false,
    map(line) {
      if (line < 0 || line >= a) return undefined;
      if (line < prefix) return line;
      if (line >= a - suffix) return line + delta;
      return undefined;
    },
    unmap(line) {
      if (line < 0 || line >= b) return undefined;
      if (line < prefix) return line;
      if (line >= b - suffix) return line - delta;
      return undefined;
    },
    mapSpan(first, last, anchor) {
      if (first < 0 || last >= a) return undefined;
      if (last < prefix) return anchor;
      if (first >= a - suffix) return anchor + delta;
      return undefined;
    },
  };
}

/** Splits a text into lines as VS Code counts them (\n, \r\n; a final newline ends a last line). */
export function splitLines(text: string): string[] {
  return text.split(/\r?\n/);
}
