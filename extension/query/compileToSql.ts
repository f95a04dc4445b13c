// Compiles a parsed query to a parameterised SQL condition over the store's schema
// (adapter/python/tracelens/schema.sql). Values only ever travel as `?` parameters, never pasted.
// The condition names only the alias `c` (the calls table): conditions on code, threads and
// processes become `c.code IN (SELECT ...)` sub-selects so SQLite can use the calls indexes.
// `~` calls the SQL function regexp(pattern, text): the store must call registerSqlFunctions(db).
// Values compare as the text the user sees: a structured snapshot as its repr (valueTextSql).
// Pure; imports nothing from vscode.

import type { Expr, FieldRef, Query, Value } from './ast';
import type { CompareOp } from './vocabulary';

export type SqlParam = string | number;

export interface SqlFilter {
  /** A condition over `calls c`; '1' for the empty query. Never NULL for any row. */
  where: string;
  params: SqlParam[];
}

/** A piece of SQL with its parameters in order. */
interface Frag {
  sql: string;
  params: SqlParam[];
}

function frag(strings: TemplateStringsArray, ...parts: (Frag | { param: SqlParam })[]): Frag {
  let sql = strings[0];
  const params: SqlParam[] = [];
  parts.forEach((p, i) => {
    if ('param' in p) {
      sql += '?';
      params.push(p.param);
    } else {
      sql += p.sql;
      params.push(...p.params);
    }
    sql += strings[i + 1];
  });
  return { sql, params };
}

const raw = (sql: string): Frag => ({ sql, params: [] });
const param = (v: SqlParam) => ({ param: v });

function join(frags: Frag[], sep: string): Frag {
  return { sql: frags.map((f) => f.sql).join(sep), params: frags.flatMap((f) => f.params) };
}

/** Where a condition can be decided: once per code object, thread, process, or per call. */
type Domain = 'code' | 'thread' | 'process' | 'call';

const DOMAIN_SELECT: Record<Exclude<Domain, 'call'>, string> = {
  code: 'c.code IN (SELECT k.id FROM codes k JOIN files f ON f.id = k.file WHERE ',
  thread: 'c.thread IN (SELECT t.id FROM threads t WHERE ',
  process: 'c.process IN (SELECT p.id FROM processes p WHERE ',
};

const KIND_SQL =
  "CASE WHEN k.flags & 4 THEN 'asyncgen' WHEN k.flags & 2 THEN 'coroutine' WHEN k.flags & 1 THEN 'generator' ELSE 'function' END";

/** Compiles a query (or a sub-expression) to a condition over `calls c`. */
export function compileToSql(query: Query | Expr | null): SqlFilter {
  const expr = query && 'text' in query && 'expr' in query ? query.expr : (query as Expr | null);
  if (!expr) return { where: '1', params: [] };
  return compile(expr);
}

/** A whole statement over the calls matching a filter. */
export function selectCalls(
  filter: SqlFilter,
  options: { columns?: string; orderBy?: string; limit?: number; offset?: number } = {},
): { sql: string; params: SqlParam[] } {
  let sql = `SELECT ${options.columns ?? 'c.id'} FROM calls c WHERE ${filter.where}`;
  const params = [...filter.params];
  if (options.orderBy !== '') sql += ` ORDER BY ${options.orderBy ?? 'c.start_ns, c.id'}`;
  if (options.limit !== undefined) {
    sql += ' LIMIT ? OFFSET ?';
    params.push(options.limit, options.offset ?? 0);
  }
  return { sql, params };
}

function leafDomain(field: FieldRef, expr: Expr): Domain {
  const def = field.def;
  if (def.code) return 'code';
  if (def.name === 'arg.' && expr.type === 'has') return 'code';
  if (def.name === 'thread') return 'thread';
  if (def.name === 'process') return 'process';
  return 'call';
}

function domainOf(expr: Expr): Domain | 'mixed' {
  switch (expr.type) {
    case 'not':
      return domainOf(expr.expr);
    case 'and':
    case 'or': {
      const ds = new Set(expr.items.map(domainOf));
      return ds.size === 1 ? [...ds][0] : 'mixed';
    }
    default:
      return leafDomain(expr.field, expr);
  }
}

function compile(expr: Expr): SqlFilter {
  const f = compileCall(expr);
  return { where: f.sql, params: f.params };
}

function compileCall(expr: Expr): Frag {
  const d = domainOf(expr);
  if (d !== 'call' && d !== 'mixed') {
    const inner = compileInside(expr);
    return { sql: `${DOMAIN_SELECT[d]}${inner.sql})`, params: inner.params };
  }
  switch (expr.type) {
    case 'not':
      return frag`NOT ${compileCall(expr.expr)}`;
    case 'and':
    case 'or': {
      // Items deciding on the same table are asked together, in one sub-select.
      const groups = new Map<Domain, Expr[]>();
      const order: (Expr | Domain)[] = [];
      for (const item of expr.items) {
        const id = domainOf(item);
        if (id === 'call' || id === 'mixed') {
          order.push(item);
        } else {
          if (!groups.has(id)) {
            groups.set(id, []);
            order.push(id);
          }
          groups.get(id)!.push(item);
        }
      }
      const parts = order.map((o) => {
        if (typeof o !== 'string') return compileCall(o);
        const items = groups.get(o)!;
        const sub: Expr =
          items.length === 1
            ? items[0]
            : { type: expr.type, items, start: items[0].start, end: items[items.length - 1].end };
        return compileCall(sub);
      });
      return parts.length === 1
        ? parts[0]
        : frag`(${join(parts, expr.type === 'and' ? ' AND ' : ' OR ')})`;
    }
    default:
      return callLeaf(expr);
  }
}

/** Inside a domain's sub-select (aliases k and f, t, or p). */
function compileInside(expr: Expr): Frag {
  switch (expr.type) {
    case 'not':
      return frag`NOT ${compileInside(expr.expr)}`;
    case 'and':
    case 'or':
      return frag`(${join(expr.items.map(compileInside), expr.type === 'and' ? ' AND ' : ' OR ')})`;
    case 'has':
      // The only bare field decided per code object: arg.NAME (the function has that parameter).
      return frag`EXISTS (SELECT 1 FROM json_each(k.argnames) an WHERE an.value = ${param(expr.field.argName!)})`;
    default: {
      const def = expr.field.def;
      let column: string;
      switch (def.name) {
        case 'function':
          column = 'k.qualname';
          break;
        case 'module':
          column = 'k.module';
          break;
        case 'file':
          column = 'f.path';
          break;
        case 'line':
          column = 'k.line';
          break;
        case 'kind':
          column = KIND_SQL;
          break;
        case 'thread':
          return threadLeaf(expr);
        case 'process':
          column = 'p.pid';
          break;
        default:
          throw new Error(`no table for field ${def.name}`);
      }
      return leaf(raw(column), false, expr); // codes and processes columns are NOT NULL
    }
  }
}

function threadLeaf(expr: Exclude<Expr, { type: 'and' | 'or' | 'not' | 'has' }>): Frag {
  const values = expr.type === 'in' ? expr.values : [expr.value];
  const ids = values.filter((v) => v.kind === 'number');
  if (!ids.length) return leaf(raw('t.name'), true, expr);
  if (expr.type === 'compare') return leaf(raw('t.native_id'), true, expr);
  const names = values.filter((v) => v.kind !== 'number');
  const byId = leaf(raw('t.native_id'), true, { ...expr, values: ids });
  if (!names.length) return byId;
  return frag`(${byId} OR ${leaf(raw('t.name'), true, { ...expr, values: names })})`;
}

/**
 * The text a value compares as, from a column of `strings`: a structured snapshot
 * (STRUCTURED_PREFIX U+001E + JSON, adapter/protocol/wire.ts) as its repr `r`, exactly what
 * valueText() (extension/valueSnapshot.ts) shows, so a filter matches it as it matches the same
 * value recorded as a plain repr; any other string as itself. Only strings starting with U+001E
 * reach the JSON functions. The CAST keeps TEXT affinity, so `arg.n == 3` and `arg.n > 2` compare
 * as they do on the bare column.
 */
export function valueTextSql(column: string): string {
  const json = `substr(${column}, 2)`;
  return (
    `CAST(CASE WHEN unicode(${column}) = 30 THEN ` +
    `CASE WHEN json_valid(${json}) AND json_type(${json}, '$.r') = 'text' ` +
    `THEN json_extract(${json}, '$.r') ELSE ${json} END ELSE ${column} END AS TEXT)`
  );
}

const VALUE_TEXT = valueTextSql('s.text');

/** The SQL of a call's value held as a strings id in a calls column. */
const STRING_COLUMNS: Record<string, string> = {
  return: 'c.return_value',
  exception: 'c.exc_type',
  'exception.type': 'c.exc_type',
  'exception.message': 'c.exc_message',
};

function callLeaf(expr: Exclude<Expr, { type: 'and' | 'or' | 'not' }>): Frag {
  const def = expr.field.def;
  if (expr.type === 'has') {
    switch (def.name) {
      case 'duration':
        return raw('c.end_ns IS NOT NULL');
      case 'arg':
        return raw('COALESCE(json_array_length(c.args) > 0, 0)');
      default:
        return raw(`${STRING_COLUMNS[def.name]} IS NOT NULL`);
    }
  }
  const column = STRING_COLUMNS[def.name];
  if (column) {
    // Interned values: find the matching strings once, then the calls that refer to them.
    const negated = expr.type === 'compare' && (expr.op === '!=' || expr.op === '!~');
    const positive = negated
      ? ({ ...expr, op: expr.op === '!=' ? '==' : '~' } as typeof expr)
      : expr;
    const test = frag`COALESCE(${raw(column)} IN (SELECT s.id FROM strings s WHERE ${leaf(raw(VALUE_TEXT), false, positive)}), 0)`;
    return negated ? frag`NOT ${test}` : test;
  }
  switch (def.name) {
    case 'depth':
      return leaf(raw('c.depth'), false, expr);
    case 'duration':
      return leaf(raw('(c.end_ns - c.start_ns)'), true, expr);
    case 'start':
      return leaf(raw('c.start_ns'), false, expr);
    case 'arg.': {
      const name = expr.field.argName!;
      const value = frag`(SELECT ${raw(VALUE_TEXT)} FROM codes ak JOIN json_each(ak.argnames) an JOIN json_each(c.args) av ON av.key = an.key JOIN strings s ON s.id = av.value WHERE ak.id = c.code AND an.value = ${param(name)})`;
      const test = leaf(value, true, expr);
      if (expr.type === 'compare' && (expr.op === '!=' || expr.op === '!~')) return test;
      // Only calls of functions with that parameter can match: found through the calls_code index.
      return frag`(c.code IN (SELECT ak.id FROM codes ak JOIN json_each(ak.argnames) an WHERE an.value = ${param(name)}) AND ${test})`;
    }
    case 'arg': {
      // Each call's argument ids against the matching strings, found once.
      const negated = expr.type === 'compare' && (expr.op === '!=' || expr.op === '!~');
      const positive = negated
        ? ({ ...expr, op: expr.op === '!=' ? '==' : '~' } as typeof expr)
        : expr;
      const test = frag`EXISTS (SELECT 1 FROM json_each(c.args) av WHERE av.value IN (SELECT s.id FROM strings s WHERE ${leaf(raw(VALUE_TEXT), false, positive)}))`;
      return negated ? frag`NOT ${test}` : test;
    }
    default:
      throw new Error(`no column for field ${def.name}`);
  }
}

/** One comparison of `column` (SQL); two-valued (never NULL) when the column may be NULL. */
function leaf(
  column: Frag,
  nullable: boolean,
  expr: Exclude<Expr, { type: 'and' | 'or' | 'not' | 'has' }>,
): Frag {
  const guard = (f: Frag): Frag => (nullable ? frag`COALESCE(${f}, 0)` : f);
  if (expr.type === 'in') {
    const list = join(
      expr.values.map((v) => frag`${param(sqlValue(v))}`),
      ', ',
    );
    return guard(frag`${column} IN (${list})`);
  }
  const v = sqlValue(expr.value);
  const op: CompareOp = expr.op;
  switch (op) {
    case '==':
      return guard(frag`${column} = ${param(v)}`);
    case '!=':
      return frag`NOT ${guard(frag`${column} = ${param(v)}`)}`;
    case '<':
    case '<=':
    case '>':
    case '>=':
      return guard(frag`${column} ${raw(op)} ${param(v)}`);
    case '~':
      return guard(frag`regexp(${param(v)}, ${column})`);
    case '!~':
      return frag`NOT ${guard(frag`regexp(${param(v)}, ${column})`)}`;
    case 'contains':
      return guard(frag`instr(${column}, ${param(v)}) > 0`);
    case 'startswith':
      return guard(frag`substr(${column}, 1, ${param([...String(v)].length)}) = ${param(v)}`);
    case 'endswith': {
      const n = [...String(v)].length;
      if (!n) return guard(frag`${column} IS NOT NULL`);
      return guard(frag`substr(${column}, ${param(-n)}) = ${param(v)}`);
    }
  }
}

function sqlValue(v: Value): SqlParam {
  return v.value;
}
