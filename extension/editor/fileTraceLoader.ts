// Asks the store everything the editor draws for one file (FileTrace): the per-line annotations,
// the file's traced functions with their last calls, the lines exceptions passed through, the
// selected call and the line heat. Uses ITraceStore only; no vscode import, so it is tested
// against a real store. A query the store cannot answer leaves its part empty, never fails all.

import type { CallRow, FunctionStats, ITraceStore } from '../store/api';
import type { FileTrace, FunctionInfo, Propagation } from './decorationModel';
import { buildHeat, EMPTY_HEAT } from './heatModel';
import { pathKey } from './tracePaths';

/** Most calls ended by an exception looked at per file (the latest ones). */
const PROPAGATION_ROWS = 200;
/** Most parent lookups per file to tell whether a passing exception was caught further out. */
const PARENT_LOOKUPS = 200;
const PAGE = 1000;
/** calls.flags: a generator's or coroutine's run after a resume (schema.sql). */
const RESUMED = 1;

const safely = <T>(p: Promise<T>, fallback: T): Promise<T> => p.catch(() => fallback);

/** A query-language sentence for the calls of one function (the timeline's filter). */
export function functionFilter(qualname: string, file: string): string {
  return `function == ${JSON.stringify(qualname)} and file == ${JSON.stringify(file)}`;
}

/**
 * The traced functions of a file (by path key), module bodies left out; a function traced in
 * several processes (one code object each) is one entry with the figures added up.
 */
export function functionsOfFile(all: readonly FunctionStats[], file: string): FunctionStats[] {
  const key = pathKey(file);
  const byDef = new Map<string, FunctionStats>();
  for (const f of all) {
    if (f.qualname === '<module>' || pathKey(f.file) !== key) continue;
    const id = `${f.line}:${f.qualname}`;
    const seen = byDef.get(id);
    if (!seen) byDef.set(id, { ...f });
    else {
      seen.calls += f.calls;
      seen.totalNs += f.totalNs;
      seen.ownNs += f.ownNs;
      seen.exceptions += f.exceptions;
    }
  }
  return [...byDef.values()].sort((a, b) => a.line - b.line);
}

/**
 * The last call of a function and its 0-based index among the function's calls. `hint` is the
 * number of calls functionStats reported (a lower bound of the rows callsOf pages through).
 */
export async function lastCallOf(
  store: ITraceStore,
  file: string,
  line: number,
  hint: number,
): Promise<{ call: CallRow; index: number } | undefined> {
  let offset = Math.max(0, hint - 1);
  let last: { call: CallRow; index: number } | undefined;
  for (let guard = 0; guard < 1000; guard++) {
    const rows = await store.callsOf(file, line, offset, PAGE);
    if (rows.length) last = { call: rows[rows.length - 1], index: offset + rows.length - 1 };
    if (rows.length < PAGE) break;
    offset += rows.length;
  }
  if (!last && hint > 1) return lastCallOf(store, file, line, 1);
  return last;
}

/** Lines of this file that exceptions left calls by, without having been raised there. */
export async function propagationsOf(
  store: ITraceStore,
  file: string,
  raisedAt: ReadonlyMap<number, number>,
): Promise<Propagation[]> {
  const filter = `file == ${JSON.stringify(file)} and exception`;
  const first = await store.query(filter, 0, PROPAGATION_ROWS);
  const rows =
    first.total > PROPAGATION_ROWS
      ? (await store.query(filter, first.total - PROPAGATION_ROWS, PROPAGATION_ROWS)).calls
      : first.calls;
  const cache = new Map<number, CallRow | undefined>();
  let lookups = 0;
  const callById = async (id: number): Promise<CallRow | undefined> => {
    if (cache.has(id)) return cache.get(id);
    if (lookups++ >= PARENT_LOOKUPS) return undefined;
    const row = await store.call(id);
    cache.set(id, row);
    return row;
  };
  const out: Propagation[] = [];
  for (const row of rows) {
    const exc = row.exception;
    if (!exc || exc.line === null) continue;
    if (raisedAt.get(exc.line) === row.id) continue; // raised here: drawn as a raise
    // Follow the exception outwards: caught by the first caller that did not end by it.
    let handled = false;
    let parent = row.parent;
    for (let hops = 0; parent !== null && hops < 100; hops++) {
      const p = await callById(parent);
      if (!p) break;
      const same =
        p.exception && p.exception.type === exc.type && p.exception.message === exc.message;
      if (!same) {
        handled = p.endNs !== null;
        break;
      }
      parent = p.parent;
    }
    out.push({ line: exc.line, type: exc.type, message: exc.message, callId: row.id, handled });
  }
  return out;
}

export interface LoadOptions {
  /** functionStats() of the whole trace (asked once per store generation by the caller). */
  functionStats: readonly FunctionStats[];
  selectedId: number | null;
  heat: boolean;
}

/** Everything drawn for the file recorded under `file` (a path as the tracer reported it). */
export async function loadFileTrace(
  store: ITraceStore,
  file: string,
  opts: LoadOptions,
): Promise<FileTrace> {
  const [annotations, selectedRow, lineStats] = await Promise.all([
    safely(store.fileAnnotations(file), { returns: [], raises: [] }),
    opts.selectedId === null
      ? Promise.resolve(undefined)
      : safely(store.call(opts.selectedId), undefined),
    opts.heat ? safely(store.lineStats(file), []) : Promise.resolve([]),
  ]);
  const stats = functionsOfFile(opts.functionStats, file);
  const functions: FunctionInfo[] = await Promise.all(
    stats.map(async (f) => {
      const last = await safely(lastCallOf(store, file, f.line, f.calls), undefined);
      // A generator's later runs (resumed segments) carry no arguments: show its first run's.
      if (last && (last.call.flags & RESUMED) !== 0) {
        const from = Math.max(0, last.index - PAGE + 1);
        const rows = await safely(store.callsOf(file, f.line, from, last.index - from + 1), []);
        const first = rows.reverse().find((r) => (r.flags & RESUMED) === 0);
        if (first) last.call = first;
      }
      return {
        qualname: f.qualname,
        line: f.line,
        calls: f.calls,
        totalNs: f.totalNs,
        ownNs: f.ownNs,
        exceptions: f.exceptions,
        lastCall: last?.call,
      };
    }),
  );
  const raisedAt = new Map(annotations.raises.map((r) => [r.line, r.callId]));
  const propagations =
    annotations.raises.length ||
    opts.functionStats.some((f) => f.exceptions > 0 && pathKey(f.file) === pathKey(file))
      ? await safely(propagationsOf(store, file, raisedAt), [])
      : [];
  const selected =
    selectedRow && pathKey(selectedRow.file) === pathKey(file) ? selectedRow : undefined;
  return {
    annotations,
    functions,
    propagations,
    selected,
    heat: lineStats.length ? buildHeat(lineStats) : EMPTY_HEAT,
  };
}
