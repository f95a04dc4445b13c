// The `tracelens.hasTrace` context key: true while the store holds calls (a trace ran or is
// running, or a saved trace was opened), false at start and after the store is cleared. The
// `when` clauses in package.json use it so trace-dependent menu items (Show Calls in Timeline)
// appear only then. Imports nothing from vscode: extension.ts passes the `setContext` call.

import type { ITraceStore, StoreSummary } from './store/api';

export const HAS_TRACE_CONTEXT = 'tracelens.hasTrace';

/** Whether a store summary means there is a trace to show. */
export function hasTrace(summary: StoreSummary): boolean {
  return summary.calls > 0;
}

/** Keeps the context key in step with the store's summaries; sets it only when it changes. */
export class TraceContextKey {
  private value: boolean | undefined;
  private readonly subscription: { dispose(): void };

  constructor(
    store: Pick<ITraceStore, 'onDidChange'>,
    private readonly setContext: (key: string, value: boolean) => PromiseLike<unknown> | void,
  ) {
    this.set(false);
    this.subscription = store.onDidChange((summary) => this.set(hasTrace(summary)));
  }

  /** The value last set. */
  get current(): boolean {
    return this.value === true;
  }

  dispose(): void {
    this.subscription.dispose();
  }

  private set(value: boolean): void {
    if (value === this.value) return;
    this.value = value;
    void Promise.resolve(this.setContext(HAS_TRACE_CONTEXT, value)).catch(() => undefined);
  }
}
