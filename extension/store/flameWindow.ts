// What a flame chart draws of one track between two times, computed from the in-memory track
// (trackIndex.ts): the calls overlapping the window, long ones as boxes, short ones counted per
// depth and time slot. Pure computation over the arrays; no SQL, no I/O.
//
// A call overlaps [S, E] when start < E and (it has not ended or end > S). The calls starting in
// [S, E) are a binary-searched range; those starting before S and still running at S are all
// ancestors of the last call that started before S (calls nest on a thread), so a walk up its
// parents finds them in at most `depth` steps. Slots are aligned to multiples of the slot width
// (minDurationNs), so panning does not move bucket edges.

import type { FlameBox, FlameBucket, FlameWindow, WindowQuery } from './api';
import type { Track } from './trackIndex';

export const DEFAULT_MAX_BOXES = 20000;

/** What the window needs to know of a code object. */
export interface CodeNames {
  qualname: string;
  module: string;
  /** Small integer per distinct module. */
  moduleId: number;
}

/** Whether a call id matches the window's filter. */
export type Matcher = (id: number) => boolean;

export function flameWindow(
  track: Track | undefined,
  q: WindowQuery,
  codes: readonly (CodeNames | undefined)[],
  modules: readonly string[],
  match?: Matcher,
): FlameWindow {
  const out: FlameWindow = { boxes: [], buckets: [] };
  if (!track || track.n === 0 || !(q.endNs > q.startNs)) return out;
  const S = q.startNs;
  const E = q.endNs;
  const w = q.minDurationNs > 0 ? q.minDurationNs : 0;
  const maxBoxes = Math.max(0, q.maxBoxes ?? DEFAULT_MAX_BOXES);
  const { start, end, depth, code, id } = track;

  // Indexes of the overlapping calls: running ancestors of S first, then the range.
  const lo = track.lowerBound(S);
  const hi = track.lowerBound(E);
  const before: number[] = [];
  for (let i = lo - 1; i >= 0;) {
    const e = end[i];
    if (e !== e || e > S) before.push(i);
    const p = track.parent[i];
    if (p < 0) break;
    // The parent precedes its child; search only the part before it.
    i = findBefore(track, p, i);
  }
  before.reverse();

  const boxIdx: number[] = [];
  const small: number[] = [];
  const consider = (i: number): void => {
    const e = end[i];
    if (e !== e || e - start[i] >= w) boxIdx.push(i);
    else small.push(i);
  };
  for (const i of before) consider(i);
  const smallFrom = small.length;
  for (let i = lo; i < hi; i++) {
    const e = end[i];
    if (e !== e || e - start[i] >= w) boxIdx.push(i);
  }
  let extra: number[] = [];
  if (boxIdx.length > maxBoxes) {
    const dur = (i: number): number => {
      const e = end[i];
      return e !== e ? Infinity : e - start[i];
    };
    const ranked = [...boxIdx].sort((a, b) => dur(b) - dur(a) || depth[a] - depth[b] || a - b);
    extra = ranked.slice(maxBoxes);
    const kept = ranked.slice(0, maxBoxes).sort((a, b) => a - b);
    boxIdx.length = 0;
    boxIdx.push(...kept);
  }
  for (const i of boxIdx) {
    const c = codes[code[i]];
    const e = end[i];
    const box: FlameBox = {
      id: id[i],
      depth: depth[i],
      startNs: start[i],
      endNs: e !== e ? null : e,
      qualname: c?.qualname ?? '',
      module: c?.module ?? '',
      flags: track.flags[i],
      exception: (track.flags[i] & 4) !== 0,
    };
    if (match) box.match = match(id[i]);
    out.boxes.push(box);
  }
  if (w === 0) return out;

  // Buckets: dense counts per (depth, slot), with a short list of (module, count) per bucket.
  const slot0 = Math.floor(S / w) - 1;
  const slots = Math.floor(E / w) - slot0 + 1;
  const depths = track.maxDepth + 1;
  const cells = slots * depths;
  const dense = cells <= 8_000_000;
  const counts = dense ? new Int32Array(cells) : undefined;
  const sparse = dense ? undefined : new Map<number, number>();
  const matches = match ? (dense ? new Int32Array(cells) : new Map<number, number>()) : undefined;
  // Per cell: the head of its module list in the pool (dense: +1, 0 = none).
  const head = dense ? new Int32Array(cells) : undefined;
  const headMap = dense ? undefined : new Map<number, number>();
  let poolMod: Int32Array<ArrayBuffer> = new Int32Array(1024);
  let poolCount: Int32Array<ArrayBuffer> = new Int32Array(1024);
  let poolNext: Int32Array<ArrayBuffer> = new Int32Array(1024);
  let pool = 1;
  const used: number[] = [];
  const add = (i: number): void => {
    const cell = depth[i] * slots + (Math.floor(start[i] / w) - slot0);
    let h: number;
    if (counts) {
      if (counts[cell]++ === 0) used.push(cell);
      h = head![cell];
    } else {
      const n = sparse!.get(cell) ?? 0;
      if (n === 0) used.push(cell);
      sparse!.set(cell, n + 1);
      h = headMap!.get(cell) ?? 0;
    }
    if (matches && match!(id[i])) {
      if (matches instanceof Int32Array) matches[cell]++;
      else matches.set(cell, (matches.get(cell) ?? 0) + 1);
    }
    const mod = codes[code[i]]?.moduleId ?? 0;
    for (let k = h; k !== 0; k = poolNext[k]) {
      if (poolMod[k] === mod) {
        poolCount[k]++;
        return;
      }
    }
    if (pool === poolMod.length) {
      const grow = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      poolMod = grow(poolMod);
      poolCount = grow(poolCount);
      poolNext = grow(poolNext);
    }
    const k = pool++;
    poolMod[k] = mod;
    poolCount[k] = 1;
    poolNext[k] = h;
    if (head) head[cell] = k;
    else headMap!.set(cell, k);
  };
  for (let k = 0; k < smallFrom; k++) add(small[k]);
  for (let i = lo; i < hi; i++) {
    const e = end[i];
    if (e === e && e - start[i] < w) add(i);
  }
  for (const i of extra) add(i);

  used.sort((a, b) => a - b);
  for (const cell of used) {
    const d = Math.floor(cell / slots);
    const slot = (cell % slots) + slot0;
    let best = 0;
    let bestCount = -1;
    // The list is newest first: a tie goes to the module seen first.
    for (let k = head ? head[cell] : headMap!.get(cell)!; k !== 0; k = poolNext[k]) {
      if (poolCount[k] >= bestCount) {
        best = poolMod[k];
        bestCount = poolCount[k];
      }
    }
    const bucket: FlameBucket = {
      depth: d,
      startNs: slot * w,
      endNs: (slot + 1) * w,
      count: counts ? counts[cell] : sparse!.get(cell)!,
      module: modules[best] ?? '',
    };
    if (matches) {
      bucket.matches = matches instanceof Int32Array ? matches[cell] : (matches.get(cell) ?? 0);
    }
    out.buckets.push(bucket);
  }
  return out;
}

/** Index of call `id` among the indexes before `limit` (ids increase along the track). */
function findBefore(track: Track, id: number, limit: number): number {
  let lo = 0;
  let hi = limit - 1;
  const ids = track.id;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = ids[mid];
    if (v === id) return mid;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
