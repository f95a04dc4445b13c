// What a key does in the flame chart, as in Perfetto: W/S zoom in/out around the centre (or the
// pointer), A/D pan, F zoom to the selected call, 0 or Escape back to the whole trace, arrows move
// the selection, Enter reveals the source. No DOM and no vscode imports; unit-tested.

import { directionOfKey, type NavDirection } from './callNavigation';

export type FlameAction =
  | { kind: 'zoom'; factor: number }
  | { kind: 'pan'; fraction: number }
  | { kind: 'zoomToSelection' }
  | { kind: 'reset' }
  | { kind: 'navigate'; direction: NavDirection }
  | { kind: 'reveal' };

/** One key press zooms by this factor (S: its inverse). */
export const KEY_ZOOM = 0.7;
/** One key press pans by this fraction of the window. */
export const KEY_PAN = 0.2;

/** The action of a key (KeyboardEvent.key), or undefined; modifiers other than Shift are ignored. */
export function flameAction(key: string, shift = false): FlameAction | undefined {
  const fast = shift ? 2 : 1;
  switch (key.length === 1 ? key.toLowerCase() : key) {
    case 'w':
      return { kind: 'zoom', factor: Math.pow(KEY_ZOOM, fast) };
    case 's':
      return { kind: 'zoom', factor: Math.pow(1 / KEY_ZOOM, fast) };
    case 'a':
      return { kind: 'pan', fraction: -KEY_PAN * fast };
    case 'd':
      return { kind: 'pan', fraction: KEY_PAN * fast };
    case 'f':
      return { kind: 'zoomToSelection' };
    case '0':
    case 'Escape':
      return { kind: 'reset' };
    case 'Enter':
      return { kind: 'reveal' };
  }
  const direction = directionOfKey(key);
  return direction ? { kind: 'navigate', direction } : undefined;
}

/** Wheel zoom factor for a wheel delta (pixels): smooth, symmetric in and out. */
export function wheelZoomFactor(deltaY: number): number {
  const d = Math.max(-500, Math.min(500, deltaY));
  return Math.pow(2, d / 300);
}
