// Hover documentation for a query: what a field holds (and what a bare mention means), what an
// operator or keyword does, and what a duration is in nanoseconds. Used by the language server
// and the filter box. Pure; imports nothing from vscode.

import { lex, type Token } from './lexer';
import type { HoverResult } from './lspProtocol';
import { KEYWORDS, lookupField, OPERATORS } from './vocabulary';

/** Markdown for the token at `offset` of `text`, or null. */
export function hoverAt(text: string, offset: number): HoverResult {
  const tokens = lexUpTo(text);
  const t =
    tokens.find((tok) => tok.start <= offset && offset < tok.end) ??
    tokens.find((tok) => tok.end === offset && tok.kind !== 'eof');
  if (!t) return null;
  const at = (markdown: string): HoverResult => ({ start: t.start, end: t.end, markdown });
  if (t.kind === 'word') {
    const w = t.text.toLowerCase();
    if (KEYWORDS[w]) return at(`**${w}**\n\n${KEYWORDS[w]}`);
    const op = OPERATORS.find((o) => o.text === w);
    if (op) return at(`**${op.text}** (${op.types.join(', ')})\n\n${op.doc}`);
    const prev = tokens[tokens.indexOf(t) - 1];
    // A word after an operator is a value, not a field.
    if (
      prev &&
      (prev.kind === 'op' || prev.kind === '(' || prev.kind === ',') &&
      (prev.kind !== '(' || isListOpen(tokens, prev))
    ) {
      return null;
    }
    const def = lookupField(t.text);
    if (!def) return null;
    const title = def.name === 'arg.' ? `arg.${t.text.slice(t.text.indexOf('.') + 1)}` : def.name;
    const lines = [
      `**${title}** — ${def.type}${def.aliases.length ? ` (also written ${def.aliases.join(', ')})` : ''}`,
      '',
      def.doc,
    ];
    if (def.presence) lines.push('', `Alone, \`${t.text}\` means: ${def.presence}.`);
    if (def.values) lines.push('', `Values: ${def.values.join(', ')}.`);
    lines.push('', `Example: \`${def.example}\``);
    return at(lines.join('\n'));
  }
  if (t.kind === 'op') {
    const op = OPERATORS.find((o) => o.text === t.text);
    return op ? at(`**${op.text}** (${op.types.join(', ')})\n\n${op.doc}`) : null;
  }
  if (t.kind === 'duration') {
    return at(`**${t.text}** = ${t.value.toLocaleString('en-US')} ns`);
  }
  return null;
}

function isListOpen(tokens: Token[], paren: Token): boolean {
  const before = tokens[tokens.indexOf(paren) - 1];
  return before?.kind === 'word' && before.text.toLowerCase() === 'in';
}

/** Tokens of the text, or of the part before a lexing error. */
function lexUpTo(text: string): Token[] {
  try {
    return lex(text, { lenient: true });
  } catch (e) {
    const offset = (e as { offset?: number }).offset ?? 0;
    try {
      return lex(text.slice(0, offset), { lenient: true });
    } catch {
      return [];
    }
  }
}
