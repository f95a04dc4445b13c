// Moves through the calls of one function ("Tracelens: Previous Call" / "Next Call" and the
// hover's links): finds where a call sits among its function's calls (start order, as callsOf
// answers) and the calls before and after it. Uses ITraceStore only; no vscode import.

import type { CallRow, ITraceStore } from '../store/api';
import type { CallPosition } from './hoverModel';
import { lastCallOf } from './fileTraceLoader';

const PAGE = 1000;
/** Most calls of one function paged through to find a call's position. */
const MAX_SCAN = 200_000;

export interface FunctionRef {
  /** The file as the tracer reported it, and the function's first line there. */
  file: string;
  line: number;
  /** Calls reported by functionStats (a hint for where the last one is). */
  calls: number;
}

export class CallNavigator {
  /** call id -> index among its function's calls, for the current store generation. */
  private readonly indexes = new Map<number, number>();
  private generation = -1;

  constructor(private readonly store: ITraceStore) {}

  /** Forgets positions (the store changed). */
  reset(generation: number): void {
    if (generation === this.generation) return;
    this.generation = generation;
    this.indexes.clear();
  }

  /** The 0-based index of `callId` among the function's calls, or undefined if it is not one. */
  async indexOf(fn: FunctionRef, callId: number): Promise<number | undefined> {
    const known = this.indexes.get(callId);
    if (known !== undefined) return known;
    for (let offset = 0; offset < MAX_SCAN; offset += PAGE) {
      const rows = await this.store.callsOf(fn.file, fn.line, offset, PAGE);
      rows.forEach((r, i) => this.indexes.set(r.id, offset + i));
      const at = rows.findIndex((r) => r.id === callId);
      if (at >= 0) return offset + at;
      if (rows.length < PAGE) return undefined;
    }
    return undefined;
  }

  /** The call shown for a function: `current` when it is one of its calls, else its last call. */
  async position(fn: FunctionRef, current: CallRow | undefined): Promise<CallPosition | undefined> {
    let call: CallRow | undefined;
    let index: number | undefined;
    if (current) {
      index = await this.indexOf(fn, current.id);
      if (index !== undefined) call = current;
    }
    const last = await lastCallOf(this.store, fn.file, fn.line, fn.calls);
    if (!last) return undefined;
    if (call === undefined || index === undefined) {
      call = last.call;
      index = last.index;
    }
    this.indexes.set(last.call.id, last.index);
    const count = last.index + 1;
    const around = await this.store.callsOf(fn.file, fn.line, Math.max(0, index - 1), 3);
    const at = around.findIndex((r) => r.id === call!.id);
    return {
      call: call.id,
      index,
      count,
      previous: at > 0 ? around[at - 1].id : undefined,
      next: at >= 0 && at + 1 < around.length ? around[at + 1].id : undefined,
    };
  }

  /** The call `delta` steps from the one shown (-1: previous, +1: next), if there is one. */
  async step(
    fn: FunctionRef,
    current: CallRow | undefined,
    delta: number,
  ): Promise<{ call: CallRow; index: number; count: number } | undefined> {
    const pos = await this.position(fn, current);
    if (!pos) return undefined;
    const target = pos.index + delta;
    if (target < 0 || target >= pos.count) return undefined;
    const [row] = await this.store.callsOf(fn.file, fn.line, target, 1);
    if (!row) return undefined;
    this.indexes.set(row.id, target);
    return { call: row, index: target, count: pos.count };
  }
}
