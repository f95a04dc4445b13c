// Keyboard moves in the flame chart over the boxes one lane has loaded: Up to the parent, Down to
// the first child, Left/Right to the previous/next sibling (same depth, same parent). Answers
// undefined when the target is not among the loaded boxes (the extension then asks the store).
// No DOM and no vscode imports; unit-tested.

import type { FlameBox } from '../../extension/store/api';

export type NavDirection = 'parent' | 'firstChild' | 'previousSibling' | 'nextSibling';

const end = (b: FlameBox): number => b.endNs ?? Infinity;

/** The last index in `sorted` (by startNs) whose start is <= ns, or -1. */
function lastAtOrBefore(sorted: readonly FlameBox[], ns: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid].startNs <= ns) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

export class NavIndex {
  private readonly byDepth = new Map<number, FlameBox[]>();
  private readonly byId = new Map<number, FlameBox>();

  constructor(boxes: readonly FlameBox[]) {
    for (const b of boxes) {
      this.byId.set(b.id, b);
      let row = this.byDepth.get(b.depth);
      if (!row) this.byDepth.set(b.depth, (row = []));
      row.push(b);
    }
    for (const row of this.byDepth.values())
      row.sort((a, b) => a.startNs - b.startNs || a.id - b.id);
  }

  get(id: number): FlameBox | undefined {
    return this.byId.get(id);
  }

  parent(box: FlameBox): FlameBox | undefined {
    const row = this.byDepth.get(box.depth - 1);
    if (!row) return undefined;
    const i = lastAtOrBefore(row, box.startNs);
    const p = i >= 0 ? row[i] : undefined;
    return p && end(p) >= box.startNs ? p : undefined;
  }

  firstChild(box: FlameBox): FlameBox | undefined {
    const row = this.byDepth.get(box.depth + 1);
    if (!row) return undefined;
    // The first child starts at or after the box's start (a child never starts before its parent).
    const i = lastAtOrBefore(row, box.startNs - 1) + 1;
    const c = row[i];
    return c && c.startNs < end(box) ? c : undefined;
  }

  sibling(box: FlameBox, step: -1 | 1): FlameBox | undefined {
    const row = this.byDepth.get(box.depth);
    if (!row) return undefined;
    const i = row.indexOf(box);
    const s = row[i + step];
    if (!s) return undefined;
    if (box.depth === 0) return s;
    const p = this.parent(box);
    if (!p) return undefined;
    return s.startNs >= p.startNs && s.startNs < end(p) ? s : undefined;
  }

  move(id: number, direction: NavDirection): FlameBox | undefined {
    const box = this.byId.get(id);
    if (!box) return undefined;
    switch (direction) {
      case 'parent':
        return this.parent(box);
      case 'firstChild':
        return this.firstChild(box);
      case 'previousSibling':
        return this.sibling(box, -1);
      case 'nextSibling':
        return this.sibling(box, 1);
    }
  }
}

/** The arrow key's move (Up parent, Down first child, Left/Right siblings), or undefined. */
export function directionOfKey(key: string): NavDirection | undefined {
  switch (key) {
    case 'ArrowUp':
      return 'parent';
    case 'ArrowDown':
      return 'firstChild';
    case 'ArrowLeft':
      return 'previousSibling';
    case 'ArrowRight':
      return 'nextSibling';
    default:
      return undefined;
  }
}
