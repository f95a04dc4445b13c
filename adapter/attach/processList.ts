// The attach picker's model, without VS Code: scans a /proc tree (a parameter, so tests use a fake
// one) for this user's processes, tells the Python ones apart (interpreter name, libpython in the
// memory map, or an agent's announcement), says how each can be attached (agent, sys.remote_exec,
// gdb/lldb) or why not, and ranks them. Yields entries as it goes; an unreadable or vanishing
// process never stops or stalls the scan. Imports nothing from vscode.

import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { candidateDirs, findAgent, type FoundAgent } from './announcement';
import { diagnoseDebugger, hasRemoteExec, type DebuggerFacts } from './injection';
import {
  libpythonVersion,
  looksLikePythonExe,
  parseEnviron,
  PROC_ROOT,
  readProcInfoAsync,
  versionFromExeName,
  type ProcInfo,
} from './procInfo';

export type AttachWay = 'agent' | 'sys.remote_exec' | 'gdb' | 'lldb' | 'none';

export interface ProcessEntry {
  pid: number;
  /** The command line, arguments joined by spaces ("" when it cannot be read). */
  command: string;
  exe?: string;
  isPython: boolean;
  /** "3.12.1" from an agent, "3.12" from a file name, or undefined. */
  pythonVersion?: string;
  way: AttachWay;
  /** Why it cannot be attached (way "none"), or what could not be read. */
  reason?: string;
}

export interface ScanOptions {
  procRoot?: string;
  /** Our uid: other users' processes are left out. */
  uid: number;
  /** Our environment (for the runtime directories we look in). */
  env?: Record<string, string | undefined>;
  debugger: DebuggerFacts;
  /** Left out of the list (the extension host itself). */
  excludePids?: number[];
  /** Longest time one process may take to read before it is listed as unreadable. */
  perProcessMs?: number;
}

const TIMED_OUT = Symbol('timed out');

async function readText(file: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

function isPythonArgv0(argv: string[] | undefined): boolean {
  return !!argv?.length && looksLikePythonExe(argv[0]);
}

/** Describes one process, or undefined when it is gone or another user's. */
export async function describeProcess(
  pid: number,
  options: ScanOptions,
): Promise<ProcessEntry | undefined> {
  const root = options.procRoot ?? PROC_ROOT;
  const info: ProcInfo | undefined = await readProcInfoAsync(pid, root);
  if (!info) return undefined;
  if (info.uid !== undefined && info.uid !== options.uid) return undefined;
  const command = (info.argv ?? []).join(' ');
  const entry: ProcessEntry = { pid, command, exe: info.exe, isPython: false, way: 'none' };
  if (info.uid === undefined) {
    entry.reason = `cannot be read (${info.problem ?? 'unknown'})`;
    return entry;
  }
  const named = (!!info.exe && looksLikePythonExe(info.exe)) || isPythonArgv0(info.argv);
  let version = versionFromExeName(info.exe) ?? versionFromExeName(info.argv?.[0]);
  if (!named || !version) {
    const maps = await readText(path.join(root, String(pid), 'maps'));
    version ??= libpythonVersion(maps);
    if (!named && !version) {
      if (!info.exe && info.problem) entry.reason = `cannot be read (${info.problem})`;
      return entry;
    }
  }
  entry.isPython = true;
  entry.pythonVersion = version;
  const environ = parseEnviron((await readText(path.join(root, String(pid), 'environ'))) ?? '');
  let agent: FoundAgent | undefined;
  try {
    agent = findAgent(
      pid,
      candidateDirs(environ, options.env ?? process.env, options.uid),
      options.uid,
    );
  } catch (error) {
    entry.reason = `its agent's files cannot be trusted: ${(error as Error).message}`;
    return entry;
  }
  if (agent) {
    entry.way = 'agent';
    entry.pythonVersion = agent.announcement.python;
    return entry;
  }
  if (hasRemoteExec(version)) {
    entry.way = 'sys.remote_exec';
    return entry;
  }
  const blocked = diagnoseDebugger(options.debugger);
  if (blocked) {
    entry.reason = blocked;
    return entry;
  }
  entry.way = options.debugger.gdb ? 'gdb' : 'lldb';
  return entry;
}

/** Numeric entries of the /proc root, newest (highest pid) first. */
export async function listPids(root = PROC_ROOT): Promise<number[]> {
  let names: string[];
  try {
    names = await fsp.readdir(root);
  } catch {
    return [];
  }
  return names
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => b - a);
}

/** Scans the processes, yielding each of this user's as soon as it is described. */
export async function* scanProcesses(options: ScanOptions): AsyncGenerator<ProcessEntry> {
  const skip = new Set(options.excludePids ?? []);
  const limit = options.perProcessMs ?? 1000;
  for (const pid of await listPids(options.procRoot)) {
    if (skip.has(pid)) continue;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), limit);
    });
    const result = await Promise.race([
      describeProcess(pid, options).catch((error: unknown) => ({
        pid,
        command: '',
        isPython: false,
        way: 'none' as const,
        reason: `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      })),
      timeout,
    ]);
    clearTimeout(timer);
    if (result === TIMED_OUT) {
      yield {
        pid,
        command: '',
        isPython: false,
        way: 'none',
        reason: `not read within ${limit} ms`,
      };
    } else if (result && (result.command || result.isPython || result.reason)) {
      yield result; // (zombies and kernel threads have no command line: left out)
    }
  }
}

const WAY_RANK: Record<AttachWay, number> = {
  agent: 0,
  'sys.remote_exec': 1,
  gdb: 2,
  lldb: 2,
  none: 3,
};

/** Python processes first (those with an agent first of all), then the others; newest first. */
export function rankProcesses(entries: readonly ProcessEntry[]): ProcessEntry[] {
  return [...entries].sort(
    (a, b) =>
      Number(b.isPython) - Number(a.isPython) ||
      (a.isPython ? WAY_RANK[a.way] - WAY_RANK[b.way] : 0) ||
      b.pid - a.pid,
  );
}

/** How an entry can be attached, in words (the picker's description). */
export function describeWay(entry: ProcessEntry): string {
  const python = entry.isPython
    ? `Python${entry.pythonVersion ? ` ${entry.pythonVersion}` : ''}`
    : 'not Python';
  switch (entry.way) {
    case 'agent':
      return `${python} · agent`;
    case 'sys.remote_exec':
      return `${python} · via sys.remote_exec`;
    case 'gdb':
    case 'lldb':
      return `${python} · via ${entry.way}`;
    default:
      return entry.reason ? `${python} · ${entry.reason}` : python;
  }
}
