// Completion for a query being typed: fields where a field may start, the operators that fit the
// field's type, values from the current trace (function and module names, exception types, thread
// names, kinds), then `and` / `or` / `)`. Used by the language server and the filter box.
// Pure; imports nothing from vscode.

import { lex, type Token } from './lexer';
import type { CompleteResult, QueryCompletion, TraceNames } from './lspProtocol';
import { FIELDS, KEYWORDS, lookupField, OPERATORS, RESERVED, type FieldDef } from './vocabulary';

const BARE = /^[\p{L}_][\p{L}\p{N}_]*(?:[.-][\p{L}\p{N}_]+)*$/u;

/** How a value is written: bare when it can be, else in double quotes with escapes. */
export function writeValue(value: string): string {
  if (BARE.test(value) && !RESERVED.has(value.toLowerCase())) return value;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t')}"`;
}

type State =
  'field' | 'op' | 'negop' | 'value' | 'listOpen' | 'listValue' | 'listSep' | 'after' | 'lost';

const OP_WORDS = new Set(['contains', 'startswith', 'endswith', 'in']);

/** Completions at `offset` of `text` (a single query; `.tlq` files are completed line by line). */
export function completeAt(text: string, offset: number, names?: TraceNames): CompleteResult {
  const before = text.slice(0, offset);
  let tokens: Token[];
  try {
    tokens = lex(before, { lenient: true });
  } catch {
    return { from: offset, to: offset, items: [] };
  }
  tokens.pop(); // eof
  // The word or string being typed, if the cursor touches it.
  let from = offset;
  let typing: Token | undefined;
  const last = tokens[tokens.length - 1];
  if (
    last &&
    last.end === offset &&
    (last.kind === 'word' || (last.kind === 'string' && !last.closed) || last.kind === 'number')
  ) {
    typing = tokens.pop();
    from = typing!.start;
  }
  let to = offset;
  // Replace the rest of the word under the cursor too.
  const rest = /^[\p{L}\p{N}_.-]*/u.exec(text.slice(offset));
  if (rest && typing?.kind === 'word') to = offset + rest[0].length;

  let state: State = 'field';
  let field: FieldDef | undefined;
  let depth = 0;
  const word = (t: Token) => (t.kind === 'word' ? t.text.toLowerCase() : '');
  for (const t of tokens) {
    const w = word(t);
    switch (state) {
      case 'field':
        if (w === 'not') break;
        if (t.kind === '(') depth++;
        else if (t.kind === 'word' && (field = lookupField(t.text))) state = 'op';
        else state = 'lost';
        break;
      case 'op':
      case 'negop':
        if (state === 'op' && (w === 'and' || w === 'or')) state = 'field';
        else if (state === 'op' && w === 'not') state = 'negop';
        else if (state === 'op' && t.kind === ')') {
          depth--;
          state = 'after';
        } else if (w === 'in') state = 'listOpen';
        else if (t.kind === 'op' || OP_WORDS.has(w)) state = 'value';
        else state = 'lost';
        break;
      case 'value':
        state =
          t.kind === 'word' || t.kind === 'string' || t.kind === 'number' || t.kind === 'duration'
            ? 'after'
            : 'lost';
        break;
      case 'listOpen':
        state = t.kind === '(' ? 'listValue' : 'lost';
        break;
      case 'listValue':
        state =
          t.kind === 'word' || t.kind === 'string' || t.kind === 'number' || t.kind === 'duration'
            ? 'listSep'
            : 'lost';
        break;
      case 'listSep':
        state = t.kind === ',' ? 'listValue' : t.kind === ')' ? 'after' : 'lost';
        break;
      case 'after':
        if (w === 'and' || w === 'or') state = 'field';
        else if (t.kind === ')') depth--;
        else state = 'lost';
        break;
      case 'lost':
        break;
    }
  }

  const items: QueryCompletion[] = [];
  switch (state) {
    case 'field':
      items.push(...fieldItems());
      items.push(keyword('not'));
      break;
    case 'op':
      items.push(...operatorItems(field!));
      if (field!.presence) items.push(keyword('and'), keyword('or'));
      if (field!.presence && depth > 0) items.push(punctuation(')'));
      break;
    case 'negop':
      for (const w of ['in', 'contains', 'startswith', 'endswith']) {
        if (w === 'in' || field!.type === 'text')
          items.push(operatorItem(w, w === 'in' ? 'in (' : w));
      }
      break;
    case 'value':
    case 'listValue':
      items.push(...valueItems(field!, names, typing?.kind === 'string'));
      break;
    case 'listOpen':
      items.push(punctuation('('));
      break;
    case 'listSep':
      items.push(punctuation(','), punctuation(')'));
      break;
    case 'after':
      items.push(keyword('and'), keyword('or'));
      if (depth > 0) items.push(punctuation(')'));
      break;
    case 'lost':
      break;
  }
  return { from, to, items };
}

function fieldItems(): QueryCompletion[] {
  return FIELDS.map((f) => {
    const label = f.name === 'arg.' ? 'arg.NAME' : f.name;
    return {
      label,
      kind: 'field' as const,
      insertText: f.name === 'arg.' ? 'arg.' : f.name,
      detail: `${f.type}${f.aliases.length ? ` (also ${f.aliases.join(', ')})` : ''}`,
      documentation: `${f.doc}\n\nExample: \`${f.example}\``,
    };
  });
}

function operatorItem(text: string, insertText = text): QueryCompletion {
  const def = OPERATORS.find((o) => o.text === text.replace(/^not /, ''));
  return { label: text, kind: 'operator', insertText, documentation: def?.doc };
}

function operatorItems(field: FieldDef): QueryCompletion[] {
  const items = OPERATORS.filter((o) => o.types.includes(field.type)).map((o) =>
    operatorItem(o.text, o.text === 'in' ? 'in (' : o.text),
  );
  if (field.type === 'text') {
    for (const w of ['not in', 'not contains', 'not startswith', 'not endswith'])
      items.push(operatorItem(w, w === 'not in' ? 'not in (' : w));
  } else {
    items.push(operatorItem('not in', 'not in ('));
  }
  return items;
}

function keyword(w: string): QueryCompletion {
  return { label: w, kind: 'keyword', insertText: w, documentation: KEYWORDS[w] };
}

function punctuation(p: string): QueryCompletion {
  return { label: p, kind: 'punctuation', insertText: p };
}

function valueItems(
  field: FieldDef,
  names: TraceNames | undefined,
  quoted: boolean,
): QueryCompletion[] {
  let values: string[] = [];
  if (field.values) values = field.values;
  else if (field.names && names) values = [...new Set(names[field.names])].sort();
  const items = values.map((v) => ({
    label: v,
    kind: 'value' as const,
    insertText: quoted ? `"${writeValue(v).replace(/^"|"$/g, '')}"` : writeValue(v),
    detail: field.name === 'arg.' ? 'argument' : field.name,
  }));
  if (field.type === 'duration' && !quoted) {
    for (const d of ['1ms', '10ms', '100ms', '1s'])
      items.push({ label: d, kind: 'value', insertText: d, detail: 'duration' });
  }
  return items;
}
