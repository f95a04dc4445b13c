// The one parser of the Tracelens query language (grammar in README.md beside this file). It
// turns text into a checked syntax tree: unknown fields, operators that do not fit a field's type,
// values of the wrong type and bad regular expressions are errors pointing at their place.
// Pure; imports nothing from vscode.

import type { Expr, FieldRef, Query, Span, Value } from './ast';
import { didYouMean } from './didYouMean';
import { lex, type Token } from './lexer';
import { QueryError } from './queryError';
import { compileRegExp } from './regexp';
import { FIELD_NAMES, lookupField, RESERVED, type CompareOp, type FieldDef } from './vocabulary';

const TEXT_OPS = '==, !=, ~, !~, contains, startswith, endswith or in';
const NUMBER_OPS = '==, !=, <, <=, >, >= or in';
const OPERATOR_WORDS = ['contains', 'startswith', 'endswith', 'in', 'not'];

/** Parses and checks a query. Throws QueryError. An empty query (or only a comment) gives expr null. */
export function parseQuery(text: string): Query {
  return { text, expr: new Parser(text).parse() };
}

class Parser {
  private readonly tokens: Token[];
  private pos = 0;

  constructor(private readonly text: string) {
    this.tokens = lex(text);
  }

  parse(): Expr | null {
    if (this.peek().kind === 'eof') return null;
    const expr = this.orExpr();
    const t = this.peek();
    if (t.kind !== 'eof') {
      if (t.kind === ')') this.fail(t, "unmatched ')': remove it or add a '(' before", []);
      this.afterCondition(t);
    }
    return expr;
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)];
  }

  private next(): Token {
    return this.tokens[this.pos++];
  }

  private fail(span: Span, reason: string, expected: string[], suggestion?: string): never {
    throw new QueryError(this.text, span, reason, { expected, suggestion });
  }

  private isKeyword(t: Token, word: string): boolean {
    return t.kind === 'word' && t.text.toLowerCase() === word;
  }

  private orExpr(): Expr {
    const items = [this.andExpr()];
    while (this.isKeyword(this.peek(), 'or')) {
      this.next();
      items.push(this.andExpr());
    }
    return items.length === 1
      ? items[0]
      : { type: 'or', items, start: items[0].start, end: items[items.length - 1].end };
  }

  private andExpr(): Expr {
    const items = [this.unary()];
    while (this.isKeyword(this.peek(), 'and')) {
      this.next();
      items.push(this.unary());
    }
    return items.length === 1
      ? items[0]
      : { type: 'and', items, start: items[0].start, end: items[items.length - 1].end };
  }

  private unary(): Expr {
    const t = this.peek();
    if (this.isKeyword(t, 'not')) {
      this.next();
      const expr = this.unary();
      return { type: 'not', expr, start: t.start, end: expr.end };
    }
    return this.primary();
  }

  private primary(): Expr {
    const t = this.peek();
    if (t.kind === '(') {
      this.next();
      const expr = this.orExpr();
      const close = this.peek();
      if (close.kind !== ')') {
        if (close.kind === 'eof') {
          this.fail(close, `expected ')' to close '('`, ["')'"]);
        }
        this.afterCondition(close, true);
      }
      this.next();
      return { ...expr, start: t.start, end: close.end };
    }
    return this.condition();
  }

  /** Fails at a token that cannot follow a complete condition. */
  private afterCondition(t: Token, inParens = false): never {
    const expected = inParens ? ["'and'", "'or'", "')'"] : ["'and'", "'or'", 'the end'];
    const what = inParens ? "'and', 'or' or ')'" : "'and', 'or' or the end of the query";
    if (t.kind === 'word') {
      const suggestion = didYouMean(t.text, ['and', 'or']);
      this.fail(
        t,
        `expected ${what}, found '${t.text}'${suggestion ? ` (did you mean '${suggestion}'?)` : ''}`,
        expected,
        suggestion,
      );
    }
    this.fail(t, `expected ${what}, found ${describe(t)}`, expected);
  }

  private field(t: Token, prev: Token | undefined): FieldRef {
    if (t.kind !== 'word' || RESERVED.has(t.text.toLowerCase())) {
      const after = prev ? ` after ${describe(prev)}` : '';
      if (t.kind === 'eof')
        this.fail(t, `expected a field${after}, e.g. function, module, duration`, ['a field']);
      this.fail(t, `expected a field${after}, found ${describe(t)}`, ['a field']);
    }
    const def = lookupField(t.text);
    if (!def) {
      if (t.text === 'arg.' || t.text === 'args.') {
        this.fail(t, "expected an argument name after 'arg.', e.g. arg.user_id", [
          'an argument name',
        ]);
      }
      const suggestion = didYouMean(
        t.text,
        FIELD_NAMES.filter((n) => n !== 'arg.'),
      );
      this.fail(
        t,
        `unknown field '${t.text}'${suggestion ? ` (did you mean '${suggestion}'?)` : ''}`,
        ['a field'],
        suggestion,
      );
    }
    const ref: FieldRef = { text: t.text, def, start: t.start, end: t.end };
    if (def.name === 'arg.') ref.argName = t.text.slice(t.text.indexOf('.') + 1);
    return ref;
  }

  private condition(): Expr {
    const prev = this.pos > 0 ? this.tokens[this.pos - 1] : undefined;
    const ft = this.next();
    const field = this.field(ft, prev);
    const t = this.peek();
    // A bare field: `exception`, `return`, `arg.user_id`.
    if (t.kind === 'eof' || t.kind === ')' || this.isKeyword(t, 'and') || this.isKeyword(t, 'or')) {
      if (!field.def.presence) {
        this.fail(t, `expected an operator after '${field.text}' (${opsFor(field.def)})`, [
          'an operator',
        ]);
      }
      return { type: 'has', field, start: field.start, end: field.end };
    }
    let negate: Token | undefined;
    if (this.isKeyword(t, 'not')) {
      negate = this.next();
      const n = this.peek();
      const word = n.kind === 'word' ? n.text.toLowerCase() : '';
      if (!['in', 'contains', 'startswith', 'endswith'].includes(word)) {
        this.fail(n, `expected 'in', 'contains', 'startswith' or 'endswith' after 'not'`, [
          "'in'",
          "'contains'",
          "'startswith'",
          "'endswith'",
        ]);
      }
    }
    const opTok = this.next();
    let op: CompareOp | 'in';
    if (opTok.kind === 'op') {
      op = opTok.text;
    } else if (
      opTok.kind === 'word' &&
      ['in', 'contains', 'startswith', 'endswith'].includes(opTok.text.toLowerCase())
    ) {
      op = opTok.text.toLowerCase() as CompareOp | 'in';
    } else if (opTok.kind === 'word') {
      const suggestion = didYouMean(opTok.text, OPERATOR_WORDS);
      this.fail(
        opTok,
        `expected an operator after '${field.text}' (${opsFor(field.def)}), found '${opTok.text}'${suggestion ? ` (did you mean '${suggestion}'?)` : ''}`,
        ['an operator'],
        suggestion,
      );
    } else {
      this.fail(
        opTok,
        `expected an operator after '${field.text}' (${opsFor(field.def)}), found ${describe(opTok)}`,
        ['an operator'],
      );
    }
    const opSpan: Span = { start: negate?.start ?? opTok.start, end: opTok.end };
    const opText = opTok.text.toLowerCase();
    checkOperator(this.text, field, op, opTok);
    let expr: Expr;
    if (op === 'in') {
      const open = this.next();
      if (open.kind !== '(') this.fail(open, `expected '(' after 'in', e.g. in (a, b)`, ["'('"]);
      const values: Value[] = [];
      for (;;) {
        const v = this.peek();
        if (v.kind === ')' && values.length) break;
        values.push(this.value(field, op, opText, v));
        this.next();
        const sep = this.peek();
        if (sep.kind === ',') {
          this.next();
          if (this.peek().kind === ')') break;
          continue;
        }
        if (sep.kind === ')') break;
        this.fail(
          sep,
          `expected ',' or ')' in the list after ${describe(v)}, found ${describe(sep)}`,
          ["','", "')'"],
        );
      }
      const close = this.next();
      expr = { type: 'in', field, opSpan, values, start: field.start, end: close.end };
    } else {
      const v = this.peek();
      const value = this.value(field, op, opText, v);
      this.next();
      expr = { type: 'compare', field, op, opSpan, value, start: field.start, end: value.end };
    }
    return negate ? { type: 'not', expr, start: expr.start, end: expr.end } : expr;
  }

  /** Reads the value token `t` (not consumed) and checks it against the field and operator. */
  private value(field: FieldRef, op: CompareOp | 'in', opText: string, t: Token): Value {
    const where = op === 'in' ? 'in the list' : `after '${opText}'`;
    let value: Value;
    if (t.kind === 'string') {
      value = {
        kind: 'string',
        value: t.value,
        text: t.text,
        bare: false,
        start: t.start,
        end: t.end,
      };
    } else if (t.kind === 'number') {
      value = {
        kind: 'number',
        value: t.value,
        text: t.text,
        bare: false,
        start: t.start,
        end: t.end,
      };
    } else if (t.kind === 'duration') {
      value = {
        kind: 'duration',
        value: t.value,
        text: t.text,
        bare: false,
        start: t.start,
        end: t.end,
      };
    } else if (t.kind === 'word' && !RESERVED.has(t.text.toLowerCase())) {
      value = {
        kind: 'string',
        value: t.text,
        text: t.text,
        bare: true,
        start: t.start,
        end: t.end,
      };
    } else if (t.kind === 'word') {
      this.fail(
        t,
        `expected a value ${where}, found '${t.text}' (put it in quotes if you mean the text: "${t.text}")`,
        ['a value'],
      );
    } else if (t.kind === 'eof') {
      this.fail(t, `expected a value ${where}`, ['a value']);
    } else {
      this.fail(t, `expected a value ${where}, found ${describe(t)}`, ['a value']);
    }
    return checkValue(this.text, field, op, value);
  }
}

function opsFor(def: FieldDef): string {
  return def.type === 'text' ? TEXT_OPS : NUMBER_OPS;
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'the end of the query';
    case 'string':
      return `the text ${t.text}`;
    case 'number':
    case 'duration':
      return `'${t.text}'`;
    default:
      return `'${t.text}'`;
  }
}

function checkOperator(text: string, field: FieldRef, op: CompareOp | 'in', opTok: Token): void {
  const type = field.def.type;
  const numeric = op === '<' || op === '<=' || op === '>' || op === '>=';
  const textual =
    op === '~' || op === '!~' || op === 'contains' || op === 'startswith' || op === 'endswith';
  if (type === 'text' && numeric) {
    throw new QueryError(
      text,
      opTok,
      `'${opTok.text}' compares numbers and durations, and ${field.text} is text: use ${TEXT_OPS}`,
      {
        expected: ['an operator'],
      },
    );
  }
  if (type !== 'text' && textual) {
    const kind = type === 'duration' ? 'a duration' : 'a number';
    throw new QueryError(
      text,
      opTok,
      `'${opTok.text}' works on text, and ${field.text} is ${kind}: use ${NUMBER_OPS}`,
      {
        expected: ['an operator'],
      },
    );
  }
}

/** Converts a value to what the field holds, or throws. */
function checkValue(text: string, field: FieldRef, op: CompareOp | 'in', v: Value): Value {
  const def = field.def;
  if (def.type === 'text') {
    if (v.kind !== 'string') {
      // thread == 1234 compares the native id; elsewhere a number is its text: arg.n == 3.
      if (def.numberMeans && v.kind === 'number' && (op === '==' || op === '!=' || op === 'in'))
        return v;
      v = { ...v, kind: 'string', value: v.text };
    }
    if (
      def.values &&
      (op === '==' || op === '!=' || op === 'in') &&
      !def.values.includes(v.value as string)
    ) {
      const suggestion = didYouMean(v.value as string, def.values);
      throw new QueryError(
        text,
        v,
        `unknown ${def.name} ${v.text}${suggestion ? ` (did you mean '${suggestion}'?)` : ''}: it is one of ${def.values.join(', ')}`,
        { expected: def.values, suggestion },
      );
    }
    if (op === '~' || op === '!~') {
      try {
        compileRegExp(v.value as string);
      } catch (e) {
        throw new QueryError(
          text,
          v,
          `invalid regular expression ${v.text}: ${(e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '')}`,
          {
            expected: ['a regular expression'],
          },
        );
      }
    }
    return v;
  }
  if (def.type === 'number') {
    if (v.kind === 'number') return v;
    if (v.kind === 'duration') {
      throw new QueryError(
        text,
        v,
        `${field.text} is a number, not a duration: write it without a unit, e.g. ${field.text} ${op === 'in' ? '==' : op} ${Number.parseFloat(v.text)}`,
        {
          expected: ['a number'],
        },
      );
    }
    throw new QueryError(text, v, `${field.text} is a number: write e.g. ${def.example}`, {
      expected: ['a number'],
    });
  }
  // duration
  if (v.kind === 'duration') return v;
  if (v.kind === 'number' && v.value === 0) return { ...v, kind: 'duration', value: 0 };
  if (v.kind === 'number') {
    throw new QueryError(
      text,
      v,
      `${field.text} needs a unit: write e.g. ${v.text}ms (units: ns, us, ms, s, m)`,
      {
        expected: ['a duration'],
      },
    );
  }
  throw new QueryError(text, v, `${field.text} is a duration: write e.g. ${def.example}`, {
    expected: ['a duration'],
  });
}
