// Asks the Python extension (ms-python.python), when it is installed, which interpreter the user
// selected for a file or folder. Everything is guarded: the extension may be absent, inactive,
// slow or of an older API shape; then the answer is "none" and the adapter falls back to PATH.
// Touches nothing but the Python extension's public `environments` API.

import * as vscode from 'vscode';
import { PYTHON_EXTENSION_ID } from '../constants';

/** Where a session can ask for the user's selected interpreter. */
export interface IPythonInterpreterSource {
  /** The interpreter's executable for a resource, or undefined when none is known. */
  activeInterpreter(resource: vscode.Uri | undefined): Promise<string | undefined>;
}

interface EnvironmentPath {
  id: string;
  path: string;
}
interface ResolvedEnvironment {
  executable?: { uri?: vscode.Uri };
}
interface PythonEnvironmentsApi {
  getActiveEnvironmentPath(resource?: vscode.Uri | vscode.WorkspaceFolder): EnvironmentPath;
  resolveEnvironment(env: EnvironmentPath | string): Promise<ResolvedEnvironment | undefined>;
}
interface PythonExtensionApi {
  environments?: PythonEnvironmentsApi;
}

const TIMEOUT_MS = 10_000;

function withTimeout<T>(promise: Thenable<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    Promise.resolve(promise).then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}

export class PythonExtensionInterpreter implements IPythonInterpreterSource {
  constructor(private readonly log: (message: string) => void) {}

  async activeInterpreter(resource: vscode.Uri | undefined): Promise<string | undefined> {
    try {
      const ext = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION_ID);
      if (!ext) return undefined;
      const api = ext.isActive ? ext.exports : await withTimeout(ext.activate(), TIMEOUT_MS);
      const envs = api?.environments;
      if (!envs || typeof envs.getActiveEnvironmentPath !== 'function') return undefined;
      const envPath = envs.getActiveEnvironmentPath(resource);
      if (!envPath) return undefined;
      const resolved = await withTimeout(envs.resolveEnvironment(envPath), TIMEOUT_MS);
      const executable = resolved?.executable?.uri?.fsPath;
      if (executable) this.log(`Python extension's interpreter: ${executable}`);
      return executable || undefined;
    } catch (error) {
      this.log(`Could not ask the Python extension for its interpreter: ${String(error)}`);
      return undefined;
    }
  }
}
