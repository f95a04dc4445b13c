// Compiles a query that only names modules to the tracer's in-process filter: include / exclude
// module globs (SetFilterArguments in adapter/protocol/dap.ts; matched by the tracer with Python's
// fnmatchcase against the full module name), so the sentence that filters the timeline can also
// narrow what is recorded. When that cannot be done exactly, says why. Pure; no vscode imports.

import type { Expr, Query, Span } from './ast';

export type TracerFilterResult =
  { ok: true; include: string[]; exclude: string[] } | { ok: false; reason: string; span?: Span };

/** A set of modules: those matching any include glob and no exclude glob. */
interface Globs {
  include: string[];
  exclude: string[];
}

const ALL = '*';

class NotExpressible extends Error {
  constructor(
    readonly reason: string,
    readonly span?: Span,
  ) {
    super(reason);
  }
}

/** Escapes fnmatch's special characters so a glob matches the text literally. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[]/g, (c) => `[${c}]`);
}

/**
 * The tracer filter selecting exactly the modules the query selects. An empty query gives empty
 * lists: the tracer's default scope (the program's own code). The tracer never records its own
 * code or code without a source file, whatever the globs say.
 */
export function compileToTracerFilter(query: Query | Expr | null): TracerFilterResult {
  const expr = query && 'text' in query && 'expr' in query ? query.expr : (query as Expr | null);
  if (!expr) return { ok: true, include: [], exclude: [] };
  try {
    const g = toGlobs(expr);
    return { ok: true, include: unique(g.include), exclude: unique(g.exclude) };
  } catch (e) {
    if (e instanceof NotExpressible) return { ok: false, reason: e.reason, span: e.span };
    throw e;
  }
}

function unique(globs: string[]): string[] {
  return [...new Set(globs)];
}

const isAll = (g: Globs) => g.include.includes(ALL);

function toGlobs(expr: Expr): Globs {
  switch (expr.type) {
    case 'and': {
      const parts = expr.items.map(toGlobs);
      const narrowing = parts.filter((p) => !isAll(p));
      const distinct = new Set(narrowing.map((p) => JSON.stringify([...p.include].sort())));
      if (distinct.size > 1) {
        throw new NotExpressible(
          "the tracer records modules matching any of its include globs, so two module conditions joined by 'and' cannot both narrow it; use 'or', or 'and not' to leave modules out",
          expr,
        );
      }
      return {
        include: narrowing.length ? narrowing[0].include : [ALL],
        exclude: parts.flatMap((p) => p.exclude),
      };
    }
    case 'or': {
      const parts = expr.items.map(toGlobs);
      if (parts.some((p) => p.exclude.length)) {
        throw new NotExpressible(
          "'or' with a condition that leaves modules out cannot be expressed as include and exclude globs",
          expr,
        );
      }
      return { include: parts.some(isAll) ? [ALL] : parts.flatMap((p) => p.include), exclude: [] };
    }
    case 'not': {
      const inner = toGlobs(expr.expr);
      if (!inner.exclude.length) return { include: [ALL], exclude: inner.include };
      if (isAll(inner)) return { include: inner.exclude, exclude: [] };
      throw new NotExpressible(
        "'not' around both included and excluded modules cannot be expressed as globs",
        expr,
      );
    }
    case 'has':
      throw notModule(expr.field.def.name, expr);
    case 'in':
      if (expr.field.def.name !== 'module') throw notModule(expr.field.def.name, expr);
      return { include: expr.values.map((v) => escapeGlob(String(v.value))), exclude: [] };
    case 'compare': {
      if (expr.field.def.name !== 'module') throw notModule(expr.field.def.name, expr);
      const v = escapeGlob(String(expr.value.value));
      switch (expr.op) {
        case '==':
          return { include: [v], exclude: [] };
        case '!=':
          return { include: [ALL], exclude: [v] };
        case 'startswith':
          return { include: [`${v}*`], exclude: [] };
        case 'endswith':
          return { include: [`*${v}`], exclude: [] };
        case 'contains':
          return { include: [`*${v}*`], exclude: [] };
        default:
          throw new NotExpressible(
            `the tracer's filter takes module globs, and a regular expression ('${expr.op}') cannot be turned into one exactly: use ==, startswith, endswith, contains or in`,
            expr.opSpan,
          );
      }
    }
  }
}

function notModule(field: string, span: Span): NotExpressible {
  if (field === 'function' || field === 'file' || field === 'line' || field === 'kind') {
    return new NotExpressible(
      `the tracer's filter selects modules only, so '${field}' can filter the recorded calls but not what is recorded`,
      span,
    );
  }
  return new NotExpressible(
    `'${field}' is known only as a call runs, so it can filter the recorded calls but not what is recorded; the tracer's filter selects modules`,
    span,
  );
}
