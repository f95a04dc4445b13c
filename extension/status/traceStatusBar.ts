// The status bar item shown while a Tracelens session runs: calls recorded and events dropped,
// updated from the store's summary, and the line heat legend of the active editor (while heat is
// drawn the item stays); clicking it opens the timeline. Hidden again a few seconds after the last
// trace session ends. Reads the store only through ITraceStore.summary/onDidChange.

import * as vscode from 'vscode';
import { Commands, DEBUG_TYPE } from '../constants';
import { heatLabel, heatLegend, type HeatMap } from '../editor/heatModel';
import { formatCount } from '../format';
import type { ITraceStore, StoreSummary } from '../store/api';

const LINGER_MS = 10_000;

export function statusText(summary: Pick<StoreSummary, 'calls' | 'dropped' | 'running'>): string {
  const icon = summary.running ? '$(pulse)' : '$(check)';
  const calls = `${formatCount(summary.calls)} ${summary.calls === 1 ? 'call' : 'calls'}`;
  const dropped = summary.dropped ? `, ${formatCount(summary.dropped)} dropped` : '';
  return `${icon} Tracelens: ${calls}${dropped}`;
}

/** The tooltip's Markdown: what was recorded, then the heat legend when heat is drawn. */
export function statusTooltip(
  s: Pick<StoreSummary, 'calls' | 'dropped'>,
  heat: HeatMap | undefined,
): string {
  let text = `Tracelens recorded ${formatCount(s.calls)} calls${s.dropped ? ` and dropped ${formatCount(s.dropped)} events (buffer full)` : ''}. Click to show the timeline.`;
  const legend = heat ? heatLegend(heat) : [];
  if (legend.length) {
    text += `\n\n**Line heat** (${heat!.sampled ? 'sampled' : 'exact'}), this file:\n\n`;
    text += legend.map((row) => `- ${row}`).join('\n');
  }
  return text;
}

export class TraceStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private summary: Pick<StoreSummary, 'calls' | 'dropped' | 'running'> = {
    calls: 0,
    dropped: 0,
    running: true,
  };
  private heat: HeatMap | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly sessions = new Set<string>();
  private hideTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(store: ITraceStore) {
    this.item = vscode.window.createStatusBarItem(
      'tracelens.status',
      vscode.StatusBarAlignment.Left,
      50,
    );
    this.item.name = 'Tracelens';
    this.item.command = Commands.ShowTimeline;
    this.update({ calls: 0, dropped: 0, running: true });
    this.subscriptions.push(
      store.onDidChange((s) => this.update(s)),
      vscode.debug.onDidStartDebugSession((s) => {
        if (s.type !== DEBUG_TYPE) return;
        this.sessions.add(s.id);
        if (this.hideTimer) clearTimeout(this.hideTimer);
        this.hideTimer = undefined;
        this.item.show();
      }),
      vscode.debug.onDidTerminateDebugSession((s) => {
        if (!this.sessions.delete(s.id) || this.sessions.size) return;
        this.hideTimer = setTimeout(() => {
          this.hideTimer = undefined;
          if (!this.heat?.lines.length) this.item.hide();
        }, LINGER_MS);
      }),
    );
  }

  /** The active editor's line heat (empty: none drawn): its label and legend join the item. */
  setHeat(heat: HeatMap): void {
    const had = !!this.heat?.lines.length;
    this.heat = heat.lines.length ? heat : undefined;
    if (this.heat) this.item.show();
    else if (had && !this.sessions.size && !this.hideTimer) this.item.hide();
    this.update(this.summary);
  }

  private update(s: Pick<StoreSummary, 'calls' | 'dropped' | 'running'>): void {
    this.summary = s;
    const label = this.heat ? heatLabel(this.heat) : '';
    this.item.text = statusText(s) + (label ? ` · $(flame) ${label}` : '');
    this.item.tooltip = new vscode.MarkdownString(statusTooltip(s, this.heat));
    this.item.backgroundColor = s.dropped
      ? new vscode.ThemeColor('statusBarItem.warningBackground')
      : undefined;
  }

  dispose(): void {
    if (this.hideTimer) clearTimeout(this.hideTimer);
    for (const d of this.subscriptions) d.dispose();
    this.item.dispose();
  }
}
