// Checks a `launch` request's arguments and turns them into what to spawn: interpreter, command
// line of the tracer, working directory and environment. Every problem is a TracelensError that
// names the setting and the fix. Knows nothing of DAP or vscode.

import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { errors } from './errors';
import type { Interpreter, InterpreterFinder } from './interpreterFinder';
import type { LaunchArguments } from './protocol/dap';
import { TOKEN_ENV } from './protocol/wire';

/** The interpreter chosen outside the adapter (the Python extension's selection), if any. */
export type InterpreterResolver = (
  args: LaunchArguments,
) => string | undefined | Promise<string | undefined>;

export interface LaunchPlan {
  interpreter: Interpreter;
  /** `-m tracelens run --connect ADDR [filters] -- PROGRAM ARGS` (or `-m MODULE ARGS`). */
  tracerArgs(connect: string): string[];
  cwd: string;
  /** The program's environment without the token (added by tracerEnv). */
  env: NodeJS.ProcessEnv;
  /** What is traced, for messages: the program path or `-m module`. */
  target: string;
}

/**
 * Variables set for the program unless its environment already says otherwise, as the Python
 * debugger for VS Code does: output reaches the Debug Console as it is written (not in one block
 * at exit, which is what a piped, block-buffered stdout would do) and decodes as UTF-8. A launch
 * configuration may override either, or remove it with null.
 */
export const DEFAULT_PROGRAM_ENV: Readonly<Record<string, string>> = {
  PYTHONUNBUFFERED: '1',
  PYTHONIOENCODING: 'utf-8',
};

export async function planLaunch(
  args: LaunchArguments,
  options: {
    finder: InterpreterFinder;
    resolveInterpreter?: InterpreterResolver;
    tracerDir: string;
    baseEnv?: NodeJS.ProcessEnv;
    baseCwd?: string;
  },
): Promise<LaunchPlan> {
  checkShapes(args);
  const hasProgram = args.program !== undefined && args.program !== '';
  const hasModule = args.module !== undefined && args.module !== '';
  if (hasProgram && hasModule) throw errors.programAndModule();
  if (!hasProgram && !hasModule) throw errors.noProgramOrModule();

  const baseCwd = options.baseCwd ?? process.cwd();
  let cwd: string;
  const hasCwd = args.cwd !== undefined && args.cwd !== '';
  if (hasCwd) {
    cwd = path.resolve(baseCwd, args.cwd!);
    const kind = await kindOf(cwd);
    if (kind === 'missing') throw errors.cwdNotFound(cwd);
    if (kind !== 'directory') throw errors.cwdNotDirectory(cwd);
  } else {
    cwd = hasProgram ? path.dirname(path.resolve(baseCwd, args.program!)) : baseCwd;
  }

  let target: string[];
  if (hasProgram) {
    // Relative to cwd when given, else to the adapter's own directory (then cwd is its folder).
    const program = path.resolve(hasCwd ? cwd : baseCwd, args.program!);
    const kind = await kindOf(program);
    if (kind === 'missing') throw errors.programNotFound(program);
    if (kind !== 'file') throw errors.programNotFile(program);
    target = [program];
  } else {
    target = ['-m', args.module!];
  }

  const tracerMain = path.join(options.tracerDir, 'tracelens', '__main__.py');
  if ((await kindOf(tracerMain)) !== 'file') throw errors.tracerMissing(options.tracerDir);

  const env = programEnv(options.baseEnv ?? process.env, args.env, options.tracerDir);
  const configured = args.python !== undefined && args.python !== '' ? args.python : undefined;
  const python =
    configured && configured.includes('/') ? path.resolve(cwd, configured) : configured;
  const selected = python === undefined ? await options.resolveInterpreter?.(args) : undefined;
  const interpreter = await options.finder.find(python, selected || undefined, env);

  const filters: string[] = [];
  for (const glob of args.include ?? []) filters.push('--include', glob);
  for (const glob of args.exclude ?? []) filters.push('--exclude', glob);
  filters.push(...recordingOptions(args, hasProgram ? target[0] : undefined));
  const programArgs = args.args ?? [];
  return {
    interpreter,
    cwd,
    env,
    target: hasProgram ? target[0] : `-m ${args.module}`,
    // `-- PROGRAM ARGS` or `-m MODULE ARGS` (`-m` ends the tracer's options, as python's does).
    tracerArgs: (connect) => [
      '-m',
      'tracelens',
      'run',
      '--connect',
      connect,
      ...filters,
      ...(hasProgram ? ['--'] : []),
      ...target,
      ...programArgs,
    ],
  };
}

/** Samples per second of sampled line heat when the configuration names no rate. */
export const DEFAULT_SAMPLE_RATE = 100;

/** A probe name the tracer's --probes takes. */
const PROBE = /^(gc|audit(:[^,\s]+)?)$/;

/** The tracer's line heat options: `--sample HZ`, or `--lines GLOB` per file (exact). */
export function lineHeatOptions(args: LaunchArguments, program: string | undefined): string[] {
  if (args.lineHeat === 'sampled')
    return ['--sample', String(args.lineHeatSampleRate ?? DEFAULT_SAMPLE_RATE)];
  if (args.lineHeat !== 'exact') return [];
  const files = args.lineHeatFiles?.length ? args.lineHeatFiles : program ? [program] : [];
  return files.flatMap((f) => ['--lines', f]);
}

/**
 * What the tracer records besides the filters: `--no-calls` (with sampled heat, the only heat it
 * allows) when `calls` is false, `--values structured`, `--probes`, then the line heat options.
 */
export function recordingOptions(args: LaunchArguments, program: string | undefined): string[] {
  const out: string[] = [];
  if (args.values === 'structured') out.push('--values', 'structured');
  if (args.probes?.length && args.calls !== false) out.push('--probes', args.probes.join(','));
  if (args.calls === false) {
    out.push('--no-calls');
    return [...out, ...lineHeatOptions({ ...args, lineHeat: 'sampled' }, program)];
  }
  return [...out, ...lineHeatOptions(args, program)];
}

/** The program's environment: base, then the configuration's (null removes), then defaults. */
export function programEnv(
  base: NodeJS.ProcessEnv,
  overrides: Record<string, string | null> | undefined,
  tracerDir: string,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const [name, value] of Object.entries(overrides ?? {})) {
    if (value === null) delete env[name];
    else env[name] = value;
  }
  for (const [name, value] of Object.entries(DEFAULT_PROGRAM_ENV)) {
    if (!(name in env) && !(overrides && name in overrides)) env[name] = value;
  }
  env.PYTHONPATH = env.PYTHONPATH ? `${tracerDir}${path.delimiter}${env.PYTHONPATH}` : tracerDir;
  delete env[TOKEN_ENV];
  return env;
}

/** The environment of the tracer process: the program's plus the session token. */
export function tracerEnv(plan: LaunchPlan, token: string): NodeJS.ProcessEnv {
  return { ...plan.env, [TOKEN_ENV]: token };
}

function checkShapes(args: LaunchArguments): void {
  const isStr = (v: unknown) => typeof v === 'string';
  const strings = (v: unknown) => v === undefined || (Array.isArray(v) && v.every(isStr));
  if (args.program !== undefined && !isStr(args.program))
    throw errors.invalidArgument('program', 'a path');
  if (args.module !== undefined && !isStr(args.module))
    throw errors.invalidArgument('module', 'a module name');
  if (args.cwd !== undefined && !isStr(args.cwd))
    throw errors.invalidArgument('cwd', 'a directory path');
  if (args.python !== undefined && !isStr(args.python))
    throw errors.invalidArgument('python', 'an interpreter path');
  if (!strings(args.args)) throw errors.invalidArgument('args', 'a list of strings');
  if (!strings(args.include)) throw errors.invalidArgument('include', 'a list of module globs');
  if (!strings(args.exclude)) throw errors.invalidArgument('exclude', 'a list of module globs');
  if (args.lineHeat !== undefined && !['off', 'sampled', 'exact'].includes(args.lineHeat))
    throw errors.invalidArgument('lineHeat', '"off", "sampled" or "exact"');
  if (args.calls !== undefined && typeof args.calls !== 'boolean')
    throw errors.invalidArgument('calls', 'true or false');
  if (args.calls === false && (args.lineHeat === 'exact' || args.lineHeat === 'off'))
    throw errors.invalidArgument(
      'lineHeat',
      '"sampled" (or left out) when `calls` is false: without call recording only sampled line heat can be recorded',
    );
  if (args.values !== undefined && !['repr', 'structured'].includes(args.values))
    throw errors.invalidArgument('values', '"repr" or "structured"');
  if (
    args.probes !== undefined &&
    !(strings(args.probes) && args.probes.every((p) => PROBE.test(p)))
  )
    throw errors.invalidArgument(
      'probes',
      'a list of probe names: "gc", "audit", "audit:EVENT" or "audit:*"',
    );
  if (!strings(args.lineHeatFiles))
    throw errors.invalidArgument('lineHeatFiles', 'a list of file paths or globs');
  const rate = args.lineHeatSampleRate;
  if (rate !== undefined && !(typeof rate === 'number' && rate > 0 && rate <= 10_000))
    throw errors.invalidArgument(
      'lineHeatSampleRate',
      'a number of samples per second (1 to 10000)',
    );
  if (args.env !== undefined) {
    const ok =
      typeof args.env === 'object' &&
      args.env !== null &&
      !Array.isArray(args.env) &&
      Object.values(args.env).every((v) => v === null || isStr(v));
    if (!ok)
      throw errors.invalidArgument(
        'env',
        'an object whose values are strings (or null to remove a variable)',
      );
  }
}

async function kindOf(p: string): Promise<'file' | 'directory' | 'other' | 'missing'> {
  try {
    const s = await stat(p);
    return s.isFile() ? 'file' : s.isDirectory() ? 'directory' : 'other';
  } catch {
    return 'missing';
  }
}
