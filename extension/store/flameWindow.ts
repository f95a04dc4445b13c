// What a flame chart draws of one track between two times, computed from the in-memory track
// (trackIndex.ts): the calls overlapping the window, long ones as boxes, short ones counted per
// depth and time slot. Pure computation over the arrays; no SQL, no I/O.
//
// A call overlaps [S, E] when start < E and (it has not ended or end > S). The calls starting in
// [S, E) are a binary-searched range; those starting before S and still running at S are all
// ancestors of the last call that started before S (calls nest on a thread), so a walk up its
// parents finds them in at most `depth` steps. Slots are aligned to multiples of the slot width
// (minDurationNs), so panning does not move bucket edges. Depths come out relative to the lane's
// top row (Track.minDepth: 0 for a thread's lane, the shallowest call's depth for a task's lane).

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
  const { start, end, code, id } = track;
  const depth = track.depth;
  /** Depth of the lane's top row (0 for a thread's lane). */
  const base = track.minDepth;

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
    const kept = longest(boxIdx, maxBoxes, start, end, depth);
    const keep = new Set(kept);
    extra = boxIdx.filter((i) => !keep.has(i));
    boxIdx.length = 0;
    boxIdx.push(...kept);
  }
  for (const i of boxIdx) {
    const c = codes[code[i]];
    const e = end[i];
    const box: FlameBox = {
      id: id[i],
      depth: depth[i] - base,
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

  // Buckets: counts per (depth, slot) cell; the first module seen in a cell is kept beside its
  // count, other modules of the cell (rare) in a short list each.
  const slot0 = Math.floor(S / w) - 1;
  const slots = Math.floor(E / w) - slot0 + 1;
  const depths = track.maxDepth - base + 1;
  const cells = slots * depths;
  if (cells > 16_000_000) {
    throw new Error(
      `a window of ${slots} slots is too fine: ask with a larger minDurationNs (about one pixel)`,
    );
  }
  const counts = new Int32Array(cells);
  const firstMod = new Int32Array(cells);
  const matches = match ? new Int32Array(cells) : undefined;
  const codeModule = moduleIdsOf(codes);
  /** Other modules of a cell: cell -> module -> count. */
  const others = new Map<number, Map<number, number>>();
  const used: number[] = [];
  const add = (i: number): void => {
    const cell = (depth[i] - base) * slots + (Math.floor(start[i] / w) - slot0);
    const mod = codeModule[code[i]];
    if (counts[cell]++ === 0) {
      used.push(cell);
      firstMod[cell] = mod;
    } else if (firstMod[cell] !== mod) {
      addOther(others, cell, mod);
    }
    if (matches && match!(id[i])) matches[cell]++;
  };
  for (let k = 0; k < smallFrom; k++) add(small[k]);
  if (matches) {
    for (let i = lo; i < hi; i++) {
      const e = end[i];
      if (e === e && e - start[i] < w) add(i);
    }
  } else {
    // The hot loop (a million calls in a zoomed-out window): inlined, no filter.
    for (let i = lo; i < hi; i++) {
      const s0 = start[i];
      const e = end[i];
      if (e === e && e - s0 < w) {
        const cell = (depth[i] - base) * slots + (Math.floor(s0 / w) - slot0);
        const mod = codeModule[code[i]];
        if (counts[cell]++ === 0) {
          used.push(cell);
          firstMod[cell] = mod;
        } else if (firstMod[cell] !== mod) {
          addOther(others, cell, mod);
        }
      }
    }
  }
  for (const i of extra) add(i);

  used.sort((a, b) => a - b);
  for (const cell of used) {
    const d = Math.floor(cell / slots);
    const slot = (cell % slots) + slot0;
    let best = firstMod[cell];
    const more = others.get(cell);
    if (more) {
      // The first module's own count is what the others leave; a tie goes to the one seen first.
      let bestCount = counts[cell];
      for (const n of more.values()) bestCount -= n;
      for (const [m, n] of more) {
        if (n > bestCount) {
          best = m;
          bestCount = n;
        }
      }
    }
    const bucket: FlameBucket = {
      depth: d,
      startNs: slot * w,
      endNs: (slot + 1) * w,
      count: counts[cell],
      module: modules[best] ?? '',
    };
    if (matches) bucket.matches = matches[cell];
    out.buckets.push(bucket);
  }
  return out;
}

function addOther(others: Map<number, Map<number, number>>, cell: number, mod: number): void {
  let m = others.get(cell);
  if (!m) {
    m = new Map();
    others.set(cell, m);
  }
  m.set(mod, (m.get(mod) ?? 0) + 1);
}

const moduleIdCache = new WeakMap<readonly unknown[], { length: number; ids: Int32Array }>();

/** Module id per code id, as a typed array (cached while no code is added). */
function moduleIdsOf(codes: readonly (CodeNames | undefined)[]): Int32Array {
  const cached = moduleIdCache.get(codes);
  if (cached && cached.length === codes.length) return cached.ids;
  const ids = new Int32Array(codes.length + 1);
  codes.forEach((c, i) => (ids[i] = c?.moduleId ?? 0));
  moduleIdCache.set(codes, { length: codes.length, ids });
  return ids;
}

/**
 * The `k` longest of the calls at `idx` (running ones first; among equal durations the shallowest,
 * then the earliest), in index order. A typed-array sort of the durations finds the cut, so a
 * million candidates cost one numeric sort, not a million comparator calls.
 */
function longest(
  idx: number[],
  k: number,
  start: Float64Array,
  end: Float64Array,
  depth: Int32Array,
): number[] {
  if (k <= 0) return [];
  const dur = (i: number): number => {
    const e = end[i];
    return e !== e ? Infinity : e - start[i];
  };
  const sorted = new Float64Array(idx.length);
  idx.forEach((i, j) => (sorted[j] = -dur(i)));
  sorted.sort();
  const cut = -sorted[k - 1];
  const out: number[] = [];
  const ties: number[] = [];
  for (const i of idx) {
    const d = dur(i);
    if (d > cut) out.push(i);
    else if (d === cut) ties.push(i);
  }
  ties.sort((a, b) => depth[a] - depth[b] || a - b);
  for (const i of ties.slice(0, k - out.length)) out.push(i);
  return out.sort((a, b) => a - b);
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
