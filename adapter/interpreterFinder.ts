// Chooses the Python interpreter for a launch: `python` from the configuration, else the one the
// resolver offers (the Python extension's selection), else python3 / python on PATH; checks that
// it runs and is 3.9 or newer. Versions are probed once per interpreter and cached.
// Knows nothing of DAP or vscode; failures are TracelensErrors.

import { stat } from 'node:fs/promises';
import { errors, TracelensError } from './errors';
import { runCaptured, type ProcessSpawner } from './processSpawner';

export const MIN_PYTHON: readonly [number, number] = [3, 9];
const VERSION_SCRIPT = 'import sys; print(sys.version_info[:3])';

export interface Interpreter {
  /** What to run: a path, or a command name looked up on PATH. */
  command: string;
  /** [major, minor, micro] */
  version: [number, number, number];
}

type Probe =
  { ok: true; version: [number, number, number] } | { ok: false; missing: boolean; detail: string };

/** Probes by command (and PATH when the command is a bare name); shared by all sessions. */
const probeCache = new Map<string, Promise<Probe>>();

export class InterpreterFinder {
  constructor(private readonly spawner: ProcessSpawner) {}

  /**
   * configured: `python` from launch.json; selected: what the resolver returned; env: the
   * environment the program will get (its PATH is used for lookups).
   */
  async find(
    configured: string | undefined,
    selected: string | undefined,
    env: NodeJS.ProcessEnv,
  ): Promise<Interpreter> {
    if (configured !== undefined) {
      if (configured.includes('/')) {
        const kind = await stat(configured).then(
          (s) => (s.isDirectory() ? 'directory' : 'file'),
          () => 'missing',
        );
        if (kind === 'missing') throw errors.pythonNotFound(configured);
        if (kind === 'directory')
          throw errors.pythonNotRunnable(configured, 'from `python`', 'it is a directory');
      }
      return this.accept(configured, 'from `python`', env);
    }
    if (selected) return this.accept(selected, 'the selected interpreter', env);
    let tooOld: TracelensError | undefined;
    for (const name of ['python3', 'python']) {
      const probe = await this.probe(name, env);
      if (probe.ok) {
        if (isRecentEnough(probe.version)) return { command: name, version: probe.version };
        tooOld ??= errors.pythonTooOld(name, probe.version.join('.'));
      }
    }
    throw tooOld ?? errors.noPythonFound();
  }

  private async accept(
    command: string,
    source: string,
    env: NodeJS.ProcessEnv,
  ): Promise<Interpreter> {
    const probe = await this.probe(command, env);
    if (!probe.ok) {
      if (probe.missing && source === 'from `python`') throw errors.pythonNotFound(command);
      throw errors.pythonNotRunnable(command, source, probe.detail);
    }
    if (!isRecentEnough(probe.version)) throw errors.pythonTooOld(command, probe.version.join('.'));
    return { command, version: probe.version };
  }

  private probe(command: string, env: NodeJS.ProcessEnv): Promise<Probe> {
    const key = command.includes('/') ? command : `${command}\0${env.PATH ?? ''}`;
    let probe = probeCache.get(key);
    if (!probe) {
      probe = this.runProbe(command, env);
      probeCache.set(key, probe);
      // A failed probe is not cached: the user may install or fix the interpreter and retry.
      void probe.then((p) => {
        if (!p.ok) probeCache.delete(key);
      });
    }
    return probe;
  }

  private async runProbe(command: string, env: NodeJS.ProcessEnv): Promise<Probe> {
    const run = await runCaptured(this.spawner, command, ['-c', VERSION_SCRIPT], {
      env,
      timeoutMs: 15000,
    });
    if (run.error) {
      const missing = run.error.code === 'ENOENT';
      return { ok: false, missing, detail: missing ? 'not found' : run.error.message };
    }
    const match = /\(\s*(\d+),\s*(\d+),\s*(\d+)\s*\)/.exec(run.stdout);
    if (run.code !== 0 || !match) {
      const said = (run.stderr || run.stdout).trim().split('\n').slice(-1)[0] ?? '';
      return {
        ok: false,
        missing: false,
        detail: `it exited with code ${run.code}${said ? ` (${said})` : ''}`,
      };
    }
    return { ok: true, version: [Number(match[1]), Number(match[2]), Number(match[3])] };
  }
}

function isRecentEnough(version: readonly number[]): boolean {
  return (
    version[0] > MIN_PYTHON[0] || (version[0] === MIN_PYTHON[0] && version[1] >= MIN_PYTHON[1])
  );
}
