// The colours the canvases draw with, read from the page's CSS variables (media/timeline.css maps
// them to VS Code's theme variables), and the theme kind from VS Code's body classes. Re-read when
// the theme changes. Browser only; no vscode import.

import type { ThemeKind } from './flame/moduleColor';

export interface ThemeColours {
  kind: ThemeKind;
  background: string;
  foreground: string;
  muted: string;
  grid: string;
  laneHeader: string;
  selection: string;
  exception: string;
  bucket: string;
  liveEdge: string;
  overviewWindow: string;
  /** Probe marks: garbage collections, audit events; hatching of dropped regions. */
  gcMark: string;
  auditMark: string;
  dropped: string;
  font: string;
  monoFont: string;
}

function themeKind(body: HTMLElement, background: string): ThemeKind {
  if (body.classList.contains('vscode-high-contrast')) return 'high-contrast';
  if (
    body.classList.contains('vscode-light') ||
    body.classList.contains('vscode-high-contrast-light')
  )
    return 'light';
  if (body.classList.contains('vscode-dark')) return 'dark';
  // Outside VS Code: judge by the background's lightness.
  const m = /rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(background);
  if (!m) return 'dark';
  const [r, g, b] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return 0.299 * r + 0.587 * g + 0.114 * b > 140 ? 'light' : 'dark';
}

export function readThemeColours(): ThemeColours {
  const body = document.body;
  const style = getComputedStyle(body);
  const v = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  const background = style.backgroundColor;
  return {
    kind: themeKind(body, background),
    background: v('--tl-background', '#1e1e1e'),
    foreground: v('--tl-foreground', '#cccccc'),
    muted: v('--tl-muted', '#8b8b8b'),
    grid: v('--tl-grid', 'rgba(128,128,128,0.25)'),
    laneHeader: v('--tl-lane-header', 'rgba(128,128,128,0.12)'),
    selection: v('--tl-selection', '#007fd4'),
    exception: v('--tl-exception', '#f14c4c'),
    bucket: v('--tl-bucket', 'rgba(128,128,128,0.55)'),
    liveEdge: v('--tl-live-edge', '#3794ff'),
    overviewWindow: v('--tl-overview-window', 'rgba(55,148,255,0.25)'),
    gcMark: v('--tl-gc-mark', v('--vscode-charts-orange', '#d18616')),
    auditMark: v('--tl-audit-mark', v('--vscode-charts-purple', '#b180d7')),
    dropped: v('--tl-dropped', v('--vscode-charts-red', '#f14c4c')),
    font: `${v('--tl-font-size', '12px')} ${v('--tl-font-family', 'sans-serif')}`,
    monoFont: `${v('--tl-mono-size', '12px')} ${v('--tl-mono-family', 'monospace')}`,
  };
}

/** Calls `listener` when VS Code switches the theme (it changes the body's class and style). */
export function onThemeChange(listener: () => void): void {
  new MutationObserver(listener).observe(document.body, {
    attributes: true,
    attributeFilter: ['class', 'style'],
  });
}
