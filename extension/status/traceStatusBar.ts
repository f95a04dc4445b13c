// The status bar item shown while a Tracelens session runs: calls recorded and events dropped,
// updated from the store's summary; clicking it opens the timeline. Hidden again a few seconds
// after the last trace session ends. Reads the store only through ITraceStore.summary/onDidChange.

import * as vscode from 'vscode';
import { Commands, DEBUG_TYPE } from '../constants';
import { formatCount } from '../format';
import type { ITraceStore, StoreSummary } from '../store/api';

const LINGER_MS = 10_000;

export function statusText(summary: Pick<StoreSummary, 'calls' | 'dropped' | 'running'>): string {
  const icon = summary.running ? '$(pulse)' : '$(check)';
  const calls = `${formatCount(summary.calls)} ${summary.calls === 1 ? 'call' : 'calls'}`;
  const dropped = summary.dropped ? `, ${formatCount(summary.dropped)} dropped` : '';
  return `${icon} Tracelens: ${calls}${dropped}`;
}

export class TraceStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
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
        this.hideTimer = setTimeout(() => this.item.hide(), LINGER_MS);
      }),
    );
  }

  private update(s: Pick<StoreSummary, 'calls' | 'dropped' | 'running'>): void {
    this.item.text = statusText(s);
    this.item.tooltip = `Tracelens recorded ${formatCount(s.calls)} calls${s.dropped ? ` and dropped ${formatCount(s.dropped)} events (buffer full)` : ''}. Click to show the timeline.`;
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
