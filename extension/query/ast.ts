// The syntax tree of a Tracelens query, as the parser builds it and the compilers, the completion
// and the hover read it. Every node keeps its span (offsets into the query text) so errors and
// editor features can point at it. Types only; imports nothing from vscode.

import type { CompareOp, FieldDef } from './vocabulary';

/** Offsets into the query text: [start, end). */
export interface Span {
  start: number;
  end: number;
}

export interface FieldRef extends Span {
  /** As written (`qualname`, `arg.user_id`). */
  text: string;
  def: FieldDef;
  /** For `arg.NAME`: NAME. */
  argName?: string;
}

export interface Value extends Span {
  /** `string`: quoted or bare word; `number`: plain number; `duration`: number with a unit (in ns). */
  kind: 'string' | 'number' | 'duration';
  /** The string, or the number (ns for a duration). */
  value: string | number;
  /** The source text of the literal. */
  text: string;
  /** A string written without quotes. */
  bare: boolean;
}

export type Expr = AndExpr | OrExpr | NotExpr | CompareExpr | InExpr | HasExpr;

export interface AndExpr extends Span {
  type: 'and';
  items: Expr[];
}

export interface OrExpr extends Span {
  type: 'or';
  items: Expr[];
}

export interface NotExpr extends Span {
  type: 'not';
  expr: Expr;
}

export interface CompareExpr extends Span {
  type: 'compare';
  field: FieldRef;
  op: CompareOp;
  /** The operator's span. */
  opSpan: Span;
  value: Value;
}

/** `field in (v, ...)`; `not in` is parsed as a NotExpr around it. */
export interface InExpr extends Span {
  type: 'in';
  field: FieldRef;
  opSpan: Span;
  values: Value[];
}

/** A bare field: `exception`, `arg.user_id`, `return`. */
export interface HasExpr extends Span {
  type: 'has';
  field: FieldRef;
}

/** A parsed query; `expr` is null for an empty query (which matches every call). */
export interface Query {
  text: string;
  expr: Expr | null;
}
