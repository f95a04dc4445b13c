// Splits a query into tokens: words (fields, keywords, bare values such as `app.models`), quoted
// strings with escapes, numbers, durations with units, operators and punctuation. `#` starts a
// comment to the end of the line. Throws QueryError at the exact place of a bad token.
// Pure; imports nothing from vscode.

import type { Span } from './ast';
import { QueryError } from './queryError';
import { UNITS } from './vocabulary';

export type Token =
  | (Span & { kind: 'word'; text: string })
  | (Span & { kind: 'string'; text: string; value: string; closed: boolean })
  | (Span & { kind: 'number'; text: string; value: number })
  | (Span & { kind: 'duration'; text: string; value: number; unit: string })
  | (Span & { kind: 'op'; text: '==' | '!=' | '~' | '!~' | '<' | '<=' | '>' | '>=' })
  | (Span & { kind: '(' | ')' | ',' | 'eof'; text: string });

const WORD = /[\p{L}_][\p{L}\p{N}_]*(?:[.-][\p{L}\p{N}_]+)*\.?/uy;
const NUMBER = /-?\d+(?:\.\d+)?/y;
const UNIT = /[\p{L}_]+/uy;
const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '0': '\0',
  '\\': '\\',
  '"': '"',
  "'": "'",
};

export interface LexOptions {
  /** Do not throw on an unterminated string (completion lexes text that is still being typed). */
  lenient?: boolean;
}

export function lex(text: string, options: LexOptions = {}): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (
    start: number,
    end: number,
    reason: string,
    expected?: string[],
    suggestion?: string,
  ): never => {
    throw new QueryError(text, { start, end }, reason, { expected, suggestion });
  };
  while (i < text.length) {
    const ch = text[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    const start = i;
    if (ch === '"' || ch === "'") {
      let value = '';
      i++;
      let closed = false;
      while (i < text.length) {
        const c = text[i];
        if (c === ch) {
          closed = true;
          i++;
          break;
        }
        if (c === '\n') break;
        if (c === '\\' && i + 1 < text.length) {
          const e = text[i + 1];
          if (e in ESCAPES) {
            value += ESCAPES[e];
            i += 2;
            continue;
          }
          if (e === 'u') {
            const m = /^u\{([0-9a-fA-F]{1,6})\}|^u([0-9a-fA-F]{4})/.exec(text.slice(i + 1, i + 10));
            if (!m)
              fail(i, i + 2, "'\\u' needs four hex digits or {hex}, e.g. \\u00e9 or \\u{1F600}");
            const code = parseInt(m![1] ?? m![2], 16);
            if (code > 0x10ffff)
              fail(i, i + 1 + m![0].length, `'\\${m![0]}' is beyond the last Unicode character`);
            value += String.fromCodePoint(code);
            i += 1 + m![0].length;
            continue;
          }
          // Any other escape keeps its backslash, so regular expressions read naturally: "\d+".
          value += c + e;
          i += 2;
          continue;
        }
        value += c;
        i++;
      }
      if (!closed && !options.lenient) {
        fail(start, i, `unterminated string: add a closing ${ch}`, [ch]);
      }
      tokens.push({ kind: 'string', text: text.slice(start, i), value, closed, start, end: i });
      continue;
    }
    if (/\d/.test(ch) || (ch === '-' && /\d/.test(text[i + 1] ?? ''))) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text)!;
      i += m[0].length;
      const n = Number(m[0]);
      UNIT.lastIndex = i;
      const u = UNIT.exec(text);
      if (u) {
        i += u[0].length;
        const unit = u[0];
        if (!(unit in UNITS)) {
          const lower = unit.toLowerCase();
          fail(
            start,
            i,
            `unknown unit '${unit}' in '${text.slice(start, i)}': use ns, us, ms, s or m`,
            ['ns', 'us', 'ms', 's', 'm'],
            lower in UNITS ? lower : undefined,
          );
        }
        tokens.push({
          kind: 'duration',
          text: text.slice(start, i),
          value: Math.round(n * UNITS[unit]),
          unit,
          start,
          end: i,
        });
      } else {
        tokens.push({ kind: 'number', text: m[0], value: n, start, end: i });
      }
      continue;
    }
    WORD.lastIndex = i;
    const w = WORD.exec(text);
    if (w) {
      i += w[0].length;
      tokens.push({ kind: 'word', text: w[0], start, end: i });
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === '==' || two === '!=' || two === '!~' || two === '<=' || two === '>=') {
      i += 2;
      tokens.push({ kind: 'op', text: two, start, end: i });
      continue;
    }
    if (ch === '~' || ch === '<' || ch === '>') {
      i++;
      tokens.push({ kind: 'op', text: ch, start, end: i });
      continue;
    }
    if (ch === '(' || ch === ')' || ch === ',') {
      i++;
      tokens.push({ kind: ch, text: ch, start, end: i });
      continue;
    }
    if (two === '&&') fail(start, start + 2, "'&&' is written 'and' here", ["'and'"], 'and');
    if (two === '||') fail(start, start + 2, "'||' is written 'or' here", ["'or'"], 'or');
    if (ch === '=')
      fail(start, start + 1, "'=' is not an operator: use '==' to compare", ["'=='"], '==');
    if (ch === '!')
      fail(start, start + 1, "'!' is written 'not' here (or use '!=' / '!~')", ["'not'"], 'not');
    const cp = String.fromCodePoint(text.codePointAt(i)!);
    fail(
      start,
      start + cp.length,
      `unexpected character '${cp}': put text in quotes, e.g. "${cp}"`,
    );
  }
  tokens.push({ kind: 'eof', text: '', start: text.length, end: text.length });
  return tokens;
}
