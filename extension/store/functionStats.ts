// Per-function figures from the in-memory tracks (trackIndex.ts): calls, total time counting a
// recursive call once (only calls flagged "outermost of its code", bit 16, add their duration),
// own time (duration minus the children's, computed as calls end) and calls ended by an
// exception. One loop over the arrays; a filter arrives as a matcher on call ids. No SQL, no I/O.

import type { FunctionStats } from './api';
import type { Matcher } from './flameWindow';
import type { TrackIndex } from './trackIndex';

/** Bits of calls.flags used here (schema.sql). */
const RAISED = 4;
const OUTERMOST = 16;

/** What the figures need to know of a code object. */
export interface CodeDescription {
  module: string;
  qualname: string;
  path: string;
  line: number;
}

export function functionStats(
  index: TrackIndex,
  describe: (code: number) => CodeDescription | undefined,
  match?: Matcher,
): FunctionStats[] {
  const calls: number[] = [];
  const total: number[] = [];
  const own: number[] = [];
  const raised: number[] = [];
  for (const t of index.tracks.values()) {
    const { id, start, end, code, flags } = t;
    const ownNs = t.own;
    for (let i = 0, n = t.n; i < n; i++) {
      if (match && !match(id[i])) continue;
      const c = code[i];
      if (calls[c] === undefined) {
        calls[c] = 0;
        total[c] = 0;
        own[c] = 0;
        raised[c] = 0;
      }
      calls[c]++;
      const f = flags[i];
      if (f & RAISED) raised[c]++;
      const e = end[i];
      if (e !== e) continue;
      if (f & OUTERMOST) total[c] += e - start[i];
      own[c] += ownNs[i];
    }
  }
  const out: FunctionStats[] = [];
  calls.forEach((n, c) => {
    const d = describe(c);
    out.push({
      code: c,
      module: d?.module ?? '',
      qualname: d?.qualname ?? '',
      file: d?.path ?? '',
      line: d?.line ?? 0,
      calls: n,
      totalNs: total[c],
      ownNs: own[c],
      exceptions: raised[c],
    });
  });
  out.sort((a, b) => b.totalNs - a.totalNs || a.code - b.code);
  return out;
}
