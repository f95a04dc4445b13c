// "Tracelens: Attach to Python Process...": picks a process and starts a `tracelens` attach
// session for it (the adapter finds its agent, or installs one, and says why when it cannot).
// Also the attach configuration the command builds. Touches nothing else.

import * as vscode from 'vscode';
import { DEBUG_TYPE } from '../constants';
import { pickProcess } from './processPicker';

export function attachConfiguration(pid: number): vscode.DebugConfiguration {
  return { type: DEBUG_TYPE, request: 'attach', name: `Attach to process ${pid}`, processId: pid };
}

export async function attachToProcess(): Promise<boolean> {
  const pid = await pickProcess();
  if (!pid) return false;
  const folder = vscode.workspace.workspaceFolders?.[0];
  return vscode.debug.startDebugging(folder, attachConfiguration(Number(pid)));
}
