// How the adapter starts processes (the traced program, interpreter probes). Injected into the
// session so the inline and standalone adapters, and tests, can choose; the default is Node's
// child_process.spawn. Knows nothing of DAP or vscode.

import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export type ProcessSpawner = (
  command: string,
  args: readonly string[],
  options: SpawnOptions,
) => ChildProcess;

export const nodeSpawner: ProcessSpawner = (command, args, options) =>
  spawn(command, args, options);

export interface CapturedRun {
  /** Exit code, or null when the process died by a signal or never started. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the process could not be started (ENOENT, EACCES...) or timed out. */
  error?: NodeJS.ErrnoException;
}

/** Runs a short command to completion and captures its output (killed after timeoutMs). */
export function runCaptured(
  spawner: ProcessSpawner,
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<CapturedRun> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawner(command, args, {
        env: options.env,
        cwd: options.cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      resolve({ code: null, stdout: '', stderr: '', error: error as NodeJS.ErrnoException });
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let failure: NodeJS.ErrnoException | undefined;
    const timer = setTimeout(() => {
      failure = Object.assign(new Error(`timed out after ${options.timeoutMs ?? 10000} ms`), {
        code: 'ETIMEDOUT',
      });
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 10000);
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      failure ??= e;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        error: failure,
      });
    });
  });
}
