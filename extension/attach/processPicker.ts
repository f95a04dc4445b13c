// The "pick a process" QuickPick of "Tracelens: Attach to Python Process..." and of
// `${command:tracelens.pickProcess}`: fills while /proc is scanned (adapter/attach/processList.ts),
// Python processes first, search over command lines, a refresh button. Returns the chosen pid as
// a string. Knows nothing of debug sessions.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { debuggerFacts } from '../../adapter/attach/injection';
import {
  describeWay,
  rankProcesses,
  scanProcesses,
  type ProcessEntry,
} from '../../adapter/attach/processList';

interface ProcessItem extends vscode.QuickPickItem {
  entry: ProcessEntry;
}

function toItem(entry: ProcessEntry): ProcessItem {
  const argv0 = entry.command.split(' ')[0] || entry.exe || '?';
  return {
    label: `${entry.isPython ? '$(symbol-method) ' : ''}${path.basename(argv0)}  ${entry.pid}`,
    description: describeWay(entry),
    detail: entry.command || entry.exe || '(command line unreadable)',
    entry,
  };
}

/** Shows the picker; resolves to the chosen pid as a string, or undefined when dismissed. */
export function pickProcess(): Promise<string | undefined> {
  const picker = vscode.window.createQuickPick<ProcessItem>();
  picker.title = 'Attach Tracelens to a Python process';
  picker.placeholder = 'Search by command line (Python processes are listed first)';
  picker.matchOnDescription = true;
  picker.matchOnDetail = true;
  const refresh: vscode.QuickInputButton = {
    iconPath: new vscode.ThemeIcon('refresh'),
    tooltip: 'Refresh',
  };
  picker.buttons = [refresh];
  let generation = 0;

  const fill = async () => {
    const mine = ++generation;
    const found: ProcessEntry[] = [];
    picker.busy = true;
    picker.items = [];
    const options = {
      uid: process.getuid?.() ?? 0,
      debugger: debuggerFacts(),
      excludePids: [process.pid],
    };
    let last = 0;
    for await (const entry of scanProcesses(options)) {
      if (mine !== generation) return;
      found.push(entry);
      if (Date.now() - last > 100) {
        last = Date.now();
        picker.items = rankProcesses(found).map(toItem);
      }
    }
    if (mine !== generation) return;
    picker.items = rankProcesses(found).map(toItem);
    picker.busy = false;
  };

  return new Promise((resolve) => {
    picker.onDidTriggerButton((button) => {
      if (button === refresh) void fill();
    });
    picker.onDidAccept(() => {
      const chosen = picker.selectedItems[0];
      generation++;
      picker.hide();
      resolve(chosen ? String(chosen.entry.pid) : undefined);
    });
    picker.onDidHide(() => {
      generation++;
      resolve(undefined);
      picker.dispose();
    });
    picker.show();
    void fill();
  });
}
