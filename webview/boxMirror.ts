// An offscreen list of the calls the flame chart shows, for screen readers and tests: one
// `li.flame-box[data-call-id]` per visible box (name, module, pixel rectangle, match and
// exception flags), widest first up to a cap. Updated a moment after drawing settles, never per
// frame. Browser only.

import type { DrawnLane } from './flameRenderer';
import { formatCallDuration } from '../extension/format';

/** Most boxes listed (the list is for finding things, not a second copy of the chart). */
export const MIRROR_MAX = 500;

export function renderBoxMirror(
  list: HTMLElement,
  drawn: DrawnLane[],
  selected: number | null,
): void {
  const all = drawn.flatMap((lane) => lane.rects.map((r) => ({ lane: lane.thread, r })));
  const visible = all.filter(({ r }) => r.w >= 1);
  visible.sort((a, b) => b.r.w - a.r.w || a.r.box.startNs - b.r.box.startNs);
  const shown = visible.slice(0, MIRROR_MAX);
  shown.sort(
    (a, b) => a.lane - b.lane || a.r.box.depth - b.r.box.depth || a.r.box.startNs - b.r.box.startNs,
  );
  const fragment = document.createDocumentFragment();
  for (const { lane, r } of shown) {
    const b = r.box;
    const li = document.createElement('li');
    li.className = 'flame-box';
    li.dataset.callId = String(b.id);
    li.dataset.thread = String(lane);
    li.dataset.name = b.qualname;
    li.dataset.module = b.module;
    li.dataset.depth = String(b.depth);
    li.dataset.x = String(Math.round(r.x));
    li.dataset.y = String(Math.round(r.y));
    li.dataset.w = String(Math.round(r.w));
    li.dataset.h = String(Math.round(r.h));
    if (b.match !== undefined) li.dataset.match = String(b.match);
    if (b.exception) li.dataset.exception = 'true';
    if (b.id === selected) li.setAttribute('aria-current', 'true');
    li.textContent = `${b.qualname} (${b.module}), ${formatCallDuration(b.startNs, b.endNs)}${
      b.exception ? ', raised' : ''
    }${b.match === false ? ', not matching' : ''}`;
    fragment.append(li);
  }
  list.replaceChildren(fragment);
  list.dataset.count = String(shown.length);
  list.dataset.total = String(visible.length);
}
