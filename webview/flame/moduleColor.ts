// Colours of the flame chart's boxes: a stable hash of the module name picks one of a fixed set
// of hues, at a lightness that suits the theme (dark or light), so a module keeps its colour
// across zooms, reloads and traces. No DOM and no vscode imports; unit-tested.

/** FNV-1a, 32 bits, over UTF-16 code units. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Hues (degrees) that stay apart from the red used for exceptions. */
export const HUES = [28, 45, 75, 110, 145, 170, 190, 210, 230, 255, 280, 305] as const;

export type ThemeKind = 'dark' | 'light' | 'high-contrast';

export interface BoxColours {
  fill: string;
  text: string;
}

export function paletteIndex(module: string): number {
  return hashString(module) % HUES.length;
}

/** The fill and text colour of a box of `module`; `dim`: a non-matching box under a filter. */
export function moduleColour(module: string, theme: ThemeKind, dim = false): BoxColours {
  const hue = HUES[paletteIndex(module)];
  if (theme === 'dark') {
    return dim
      ? { fill: `hsl(${hue} 12% 22%)`, text: 'hsl(0 0% 55%)' }
      : { fill: `hsl(${hue} 45% 36%)`, text: 'hsl(0 0% 96%)' };
  }
  if (theme === 'high-contrast') {
    return dim
      ? { fill: `hsl(${hue} 10% 15%)`, text: 'hsl(0 0% 60%)' }
      : { fill: `hsl(${hue} 70% 28%)`, text: 'hsl(0 0% 100%)' };
  }
  return dim
    ? { fill: `hsl(${hue} 15% 92%)`, text: 'hsl(0 0% 55%)' }
    : { fill: `hsl(${hue} 60% 78%)`, text: 'hsl(0 0% 8%)' };
}
