// Packs a flame window into typed arrays for the trip from the store worker to the extension
// host, and back into FlameWindow objects there: tens of thousands of small objects cost far
// more to structured-clone than to rebuild from columns (and the columns are transferred, not
// copied). Pure data; used by worker.ts and storeClient.ts only.

import type { DropRegion, FlameBox, FlameBucket, FlameMark, FlameWindow } from './api';

export interface PackedWindow {
  packed: 'window';
  /** Distinct strings (qualnames, modules) the columns refer to. */
  strings: string[];
  boxId: Int32Array;
  boxDepth: Int32Array;
  boxStart: Float64Array;
  /** NaN: still running. */
  boxEnd: Float64Array;
  boxFlags: Int32Array;
  boxQualname: Int32Array;
  boxModule: Int32Array;
  /** 0 false, 1 true, 2 absent (no filter). */
  boxMatch: Uint8Array;
  bucketDepth: Int32Array;
  bucketStart: Float64Array;
  bucketEnd: Float64Array;
  bucketCount: Int32Array;
  bucketModule: Int32Array;
  /** -1: absent (no filter). */
  bucketMatches: Int32Array;
  /** As in FlameWindow (few; cloned as they are). */
  marks?: FlameMark[];
  drops?: DropRegion[];
}

export function packWindow(w: FlameWindow): { packed: PackedWindow; transfer: ArrayBuffer[] } {
  const ids = new Map<string, number>();
  const strings: string[] = [];
  const str = (s: string): number => {
    let i = ids.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      ids.set(s, i);
    }
    return i;
  };
  const nb = w.boxes.length;
  const nk = w.buckets.length;
  const p: PackedWindow = {
    packed: 'window',
    strings,
    boxId: new Int32Array(nb),
    boxDepth: new Int32Array(nb),
    boxStart: new Float64Array(nb),
    boxEnd: new Float64Array(nb),
    boxFlags: new Int32Array(nb),
    boxQualname: new Int32Array(nb),
    boxModule: new Int32Array(nb),
    boxMatch: new Uint8Array(nb),
    bucketDepth: new Int32Array(nk),
    bucketStart: new Float64Array(nk),
    bucketEnd: new Float64Array(nk),
    bucketCount: new Int32Array(nk),
    bucketModule: new Int32Array(nk),
    bucketMatches: new Int32Array(nk),
  };
  w.boxes.forEach((b, i) => {
    p.boxId[i] = b.id;
    p.boxDepth[i] = b.depth;
    p.boxStart[i] = b.startNs;
    p.boxEnd[i] = b.endNs === null ? NaN : b.endNs;
    p.boxFlags[i] = b.flags;
    p.boxQualname[i] = str(b.qualname);
    p.boxModule[i] = str(b.module);
    p.boxMatch[i] = b.match === undefined ? 2 : b.match ? 1 : 0;
  });
  w.buckets.forEach((b, i) => {
    p.bucketDepth[i] = b.depth;
    p.bucketStart[i] = b.startNs;
    p.bucketEnd[i] = b.endNs;
    p.bucketCount[i] = b.count;
    p.bucketModule[i] = str(b.module);
    p.bucketMatches[i] = b.matches === undefined ? -1 : b.matches;
  });
  if (w.marks) p.marks = w.marks;
  if (w.drops) p.drops = w.drops;
  const transfer = Object.values(p)
    .filter((v): v is Int32Array => ArrayBuffer.isView(v))
    .map((v) => v.buffer as ArrayBuffer);
  return { packed: p, transfer };
}

export function unpackWindow(p: PackedWindow): FlameWindow {
  const s = p.strings;
  const boxes: FlameBox[] = new Array(p.boxId.length);
  for (let i = 0; i < boxes.length; i++) {
    const e = p.boxEnd[i];
    const f = p.boxFlags[i];
    const box: FlameBox = {
      id: p.boxId[i],
      depth: p.boxDepth[i],
      startNs: p.boxStart[i],
      endNs: e !== e ? null : e,
      qualname: s[p.boxQualname[i]],
      module: s[p.boxModule[i]],
      flags: f,
      exception: (f & 4) !== 0,
    };
    if (p.boxMatch[i] !== 2) box.match = p.boxMatch[i] === 1;
    boxes[i] = box;
  }
  const buckets: FlameBucket[] = new Array(p.bucketDepth.length);
  for (let i = 0; i < buckets.length; i++) {
    const bucket: FlameBucket = {
      depth: p.bucketDepth[i],
      startNs: p.bucketStart[i],
      endNs: p.bucketEnd[i],
      count: p.bucketCount[i],
      module: s[p.bucketModule[i]],
    };
    if (p.bucketMatches[i] >= 0) bucket.matches = p.bucketMatches[i];
    buckets[i] = bucket;
  }
  const w: FlameWindow = { boxes, buckets };
  if (p.marks) w.marks = p.marks;
  if (p.drops) w.drops = p.drops;
  return w;
}
