// A compact form of a flame window for the message from the extension to the webview: columns of
// small integers (times relative to the window's start, names and modules as indexes into tables)
// instead of one object per box, so a window of thousands of boxes crosses as a few arrays and
// parses fast. Pure (no DOM, no vscode); unit-tested in test/unit/flamePackedWindow.test.ts.

import type {
  DropRegion,
  FlameBox,
  FlameBucket,
  FlameMark,
  FlameWindow,
} from '../../extension/store/api';

export interface PackedWindow {
  /** Times below are ns after this. */
  baseNs: number;
  /** Asked with a filter: boxes carry match flags and buckets match counts. */
  filtered: boolean;
  names: string[];
  modules: string[];
  /** Boxes: one entry per box in each column. */
  id: number[];
  depth: number[];
  start: number[];
  /** Duration; -1 while running. */
  dur: number[];
  name: number[];
  module: number[];
  flags: number[];
  /** 1 matches, 0 does not; empty without a filter. */
  match: number[];
  /** Buckets. */
  bDepth: number[];
  bStart: number[];
  bDur: number[];
  bCount: number[];
  bModule: number[];
  /** Matching calls per bucket; empty without a filter. */
  bMatches: number[];
  /** As in FlameWindow, when asked for (few: sent as they are). */
  marks?: FlameMark[];
  drops?: DropRegion[];
}

function interner(): { table: string[]; index(text: string): number } {
  const table: string[] = [];
  const ids = new Map<string, number>();
  return {
    table,
    index(text) {
      let i = ids.get(text);
      if (i === undefined) {
        i = table.length;
        ids.set(text, i);
        table.push(text);
      }
      return i;
    },
  };
}

export function packWindow(w: FlameWindow, baseNs: number, filtered: boolean): PackedWindow {
  const names = interner();
  const modules = interner();
  const p: PackedWindow = {
    baseNs,
    filtered,
    names: names.table,
    modules: modules.table,
    id: [],
    depth: [],
    start: [],
    dur: [],
    name: [],
    module: [],
    flags: [],
    match: [],
    bDepth: [],
    bStart: [],
    bDur: [],
    bCount: [],
    bModule: [],
    bMatches: [],
  };
  for (const b of w.boxes) {
    p.id.push(b.id);
    p.depth.push(b.depth);
    p.start.push(b.startNs - baseNs);
    p.dur.push(b.endNs === null ? -1 : b.endNs - b.startNs);
    p.name.push(names.index(b.qualname));
    p.module.push(modules.index(b.module));
    // The exception bit travels in flags (schema.sql: 4 ended by exception).
    p.flags.push(b.exception ? b.flags | 4 : b.flags & ~4);
    if (filtered) p.match.push(b.match ? 1 : 0);
  }
  for (const b of w.buckets) {
    p.bDepth.push(b.depth);
    p.bStart.push(b.startNs - baseNs);
    p.bDur.push(b.endNs - b.startNs);
    p.bCount.push(b.count);
    p.bModule.push(modules.index(b.module));
    if (filtered) p.bMatches.push(b.matches ?? 0);
  }
  if (w.marks) p.marks = w.marks;
  if (w.drops) p.drops = w.drops;
  return p;
}

export function unpackWindow(p: PackedWindow): FlameWindow {
  const boxes: FlameBox[] = new Array(p.id.length);
  const filtered = p.filtered;
  for (let i = 0; i < p.id.length; i++) {
    const startNs = p.baseNs + p.start[i];
    const box: FlameBox = {
      id: p.id[i],
      depth: p.depth[i],
      startNs,
      endNs: p.dur[i] < 0 ? null : startNs + p.dur[i],
      qualname: p.names[p.name[i]],
      module: p.modules[p.module[i]],
      flags: p.flags[i],
      exception: (p.flags[i] & 4) !== 0,
    };
    if (filtered) box.match = p.match[i] === 1;
    boxes[i] = box;
  }
  const buckets: FlameBucket[] = new Array(p.bDepth.length);
  for (let i = 0; i < p.bDepth.length; i++) {
    const startNs = p.baseNs + p.bStart[i];
    const bucket: FlameBucket = {
      depth: p.bDepth[i],
      startNs,
      endNs: startNs + p.bDur[i],
      count: p.bCount[i],
      module: p.modules[p.bModule[i]],
    };
    if (filtered) bucket.matches = p.bMatches[i];
    buckets[i] = bucket;
  }
  const w: FlameWindow = { boxes, buckets };
  if (p.marks) w.marks = p.marks;
  if (p.drops) w.drops = p.drops;
  return w;
}
