// Compiles the regular expressions of `~` and `!~`: JavaScript syntax, searched anywhere in the
// text (like Python's re.search), and a leading `(?i)` (Python's way) ignores case. The parser
// uses it to check a pattern and the store's SQL function `regexp` to run it.
// Pure; imports nothing from vscode.

export function compileRegExp(pattern: string): RegExp {
  let flags = 'u';
  let source = pattern;
  const m = /^\(\?([imsx]+)\)/.exec(source);
  if (m) {
    source = source.slice(m[0].length);
    for (const f of m[1]) {
      if (f === 'i' || f === 'm' || f === 's') flags += f;
      else throw new SyntaxError(`the flag '${f}' is not supported: use i, m or s`);
    }
  }
  try {
    return new RegExp(source, flags);
  } catch (e) {
    if (flags.includes('u')) {
      // Patterns valid without the u flag (e.g. an escaped '-' or ']') are accepted as written.
      try {
        return new RegExp(source, flags.replace('u', ''));
      } catch {
        /* report the first error */
      }
    }
    throw e;
  }
}
