// The DebugConfigurationProvider for `tracelens`: an empty launch (F5 without launch.json) traces
// the active Python file; missing defaults are filled in (name, request, cwd); the dynamic list
// offers "Trace current file". Variables such as ${file} are substituted by VS Code itself.
// Checks only shape here; the adapter checks files, interpreters and reports what to fix.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { DEBUG_TYPE } from '../constants';

export function traceFileConfiguration(file: string): vscode.DebugConfiguration {
  return {
    type: DEBUG_TYPE,
    request: 'launch',
    name: `Trace ${path.basename(file)}`,
    program: file,
  };
}

function activePythonFile(): vscode.TextDocument | undefined {
  const doc = vscode.window.activeTextEditor?.document;
  return doc && doc.languageId === 'python' ? doc : undefined;
}

export class TraceConfigurationProvider implements vscode.DebugConfigurationProvider {
  provideDebugConfigurations(): vscode.DebugConfiguration[] {
    return [
      {
        type: DEBUG_TYPE,
        request: 'launch',
        name: 'Tracelens: Trace Current File',
        program: '${file}',
      },
    ];
  }

  resolveDebugConfiguration(
    folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): vscode.DebugConfiguration | undefined {
    if (!config.type && !config.request && !config.name) {
      const doc = activePythonFile();
      if (!doc || doc.isUntitled) {
        void vscode.window.showErrorMessage(
          'Tracelens: open a saved Python file to trace it, or add a "tracelens" configuration to launch.json.',
        );
        return undefined;
      }
      config = traceFileConfiguration(doc.uri.fsPath);
    }
    config.type = DEBUG_TYPE;
    config.request ??= 'launch';
    if (config.request === 'attach') {
      // The adapter checks processId and says what to do (adapter/attach/attacher.ts).
      config.name ??= 'Tracelens: Attach to Python Process';
      return config;
    }
    if (config.request !== 'launch') {
      void vscode.window.showErrorMessage(
        `Tracelens can only launch programs for now ("request": "launch"), not "${String(config.request)}".`,
      );
      return undefined;
    }
    if (!config.program && !config.module) {
      const doc = activePythonFile();
      if (!doc) {
        void vscode.window.showErrorMessage(
          'Tracelens: set "program" (a Python file) or "module" in the launch configuration.',
        );
        return undefined;
      }
      config.program = doc.uri.fsPath;
    }
    config.name ??= config.program
      ? `Trace ${path.basename(String(config.program))}`
      : `Trace ${config.module}`;
    if (config.cwd === undefined && folder) config.cwd = folder.uri.fsPath;
    return config;
  }

  resolveDebugConfigurationWithSubstitutedVariables(
    _folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): vscode.DebugConfiguration {
    // Without a workspace folder, run where the program is, as `python program` from its folder.
    if (
      config.cwd === undefined &&
      typeof config.program === 'string' &&
      path.isAbsolute(config.program)
    ) {
      config.cwd = path.dirname(config.program);
    }
    return config;
  }
}
