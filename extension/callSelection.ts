// The selected call, shared by the timeline and the editor: selecting a call in one updates the
// other. Holds only the id and who chose it; no vscode import, so it is tested under plain Node.

export type SelectionSource = 'timeline' | 'editor' | 'command';

export interface SelectionChange {
  /** null: nothing selected (the editor falls back to each function's last call). */
  callId: number | null;
  source: SelectionSource;
}

export class CallSelection {
  private current: number | null = null;
  private readonly listeners = new Set<(change: SelectionChange) => void>();

  get callId(): number | null {
    return this.current;
  }

  select(callId: number | null, source: SelectionSource): void {
    if (callId === this.current) return;
    this.current = callId;
    for (const listener of [...this.listeners]) listener({ callId, source });
  }

  onDidChange(listener: (change: SelectionChange) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }
}
