// What /proc says about one process: owner uid, executable, command line, initial environment.
// The /proc root is a parameter so tests can use a fake tree. Every read may fail (the process
// ended: ENOENT; another user's: EACCES): each field is then undefined, never an exception.
// Imports nothing from vscode.

import { promises as fsp, readFileSync, readlinkSync, statSync } from 'node:fs';
import * as path from 'node:path';

export const PROC_ROOT = '/proc';

export interface ProcInfo {
  pid: number;
  /** Real uid from status (`Uid:` line), else the owner of the /proc/<pid> directory. */
  uid?: number;
  /** The executable's path (readlink of exe). */
  exe?: string;
  /** argv; empty for kernel threads and zombies. */
  argv?: string[];
  /** Why something could not be read (first error met), e.g. "EACCES". */
  problem?: string;
}

function errno(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? String(error);
}

/** The real uid in a /proc/<pid>/status text. */
export function uidFromStatus(status: string): number | undefined {
  const m = /^Uid:\s+(\d+)/m.exec(status);
  return m ? Number(m[1]) : undefined;
}

/** argv from a NUL-separated /proc/<pid>/cmdline. */
export function argvFromCmdline(cmdline: string): string[] {
  const parts = cmdline.split('\0');
  if (parts.length && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** Environment variables from a NUL-separated /proc/<pid>/environ. */
export function parseEnviron(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of text.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** Reads one process's facts (synchronously: a handful of small files). */
export function readProcInfo(pid: number, root = PROC_ROOT): ProcInfo | undefined {
  const dir = path.join(root, String(pid));
  const info: ProcInfo = { pid };
  try {
    info.uid = statSync(dir).uid;
  } catch (error) {
    if (errno(error) === 'ENOENT') return undefined;
    info.problem = errno(error);
  }
  try {
    info.uid = uidFromStatus(readFileSync(path.join(dir, 'status'), 'utf8')) ?? info.uid;
  } catch (error) {
    if (errno(error) === 'ENOENT') return undefined;
    info.problem ??= errno(error);
  }
  try {
    info.exe = readlinkSync(path.join(dir, 'exe'));
  } catch (error) {
    info.problem ??= errno(error);
  }
  try {
    info.argv = argvFromCmdline(readFileSync(path.join(dir, 'cmdline'), 'utf8'));
  } catch (error) {
    info.problem ??= errno(error);
  }
  return info;
}

/** The same as readProcInfo, asynchronously (the picker reads many processes). */
export async function readProcInfoAsync(
  pid: number,
  root = PROC_ROOT,
): Promise<ProcInfo | undefined> {
  const dir = path.join(root, String(pid));
  const info: ProcInfo = { pid };
  const attempt = async <T>(work: () => Promise<T>): Promise<T | undefined | 'gone'> => {
    try {
      return await work();
    } catch (error) {
      if (errno(error) === 'ENOENT' || errno(error) === 'ESRCH') return 'gone';
      info.problem ??= errno(error);
      return undefined;
    }
  };
  const st = await attempt(() => fsp.stat(dir));
  if (st === 'gone') return undefined;
  info.uid = st?.uid;
  const status = await attempt(() => fsp.readFile(path.join(dir, 'status'), 'utf8'));
  if (status === 'gone') return undefined;
  if (status) info.uid = uidFromStatus(status) ?? info.uid;
  const exe = await attempt(() => fsp.readlink(path.join(dir, 'exe')));
  if (typeof exe === 'string' && exe !== 'gone') info.exe = exe;
  const cmdline = await attempt(() => fsp.readFile(path.join(dir, 'cmdline'), 'utf8'));
  if (typeof cmdline === 'string' && cmdline !== 'gone') info.argv = argvFromCmdline(cmdline);
  return info;
}

/** The process's initial environment, or {} when it cannot be read. */
export function readEnviron(pid: number, root = PROC_ROOT): Record<string, string> {
  try {
    return parseEnviron(readFileSync(path.join(root, String(pid), 'environ'), 'utf8'));
  } catch {
    return {};
  }
}

/** True for an executable named like a CPython interpreter: python, python3, python3.12d... */
export function looksLikePythonExe(exe: string): boolean {
  return /^python\d*(\.\d+)?[a-z]*$/.test(path.basename(exe.replace(/ \(deleted\)$/, '')));
}

/** "3.12" from an interpreter's file name (python3.12), or undefined. */
export function versionFromExeName(exe: string | undefined): string | undefined {
  const m = /^python(\d+\.\d+)/.exec(path.basename(exe ?? ''));
  return m ? m[1] : undefined;
}

/** "3.12" when the memory map shows libpython3.12 (an embedded or shared-library Python). */
export function libpythonVersion(maps: string | undefined): string | undefined {
  const m = /libpython(\d+\.\d+)/.exec(maps ?? '');
  return m ? m[1] : undefined;
}

/** /proc/<pid>/maps, or undefined when it cannot be read. */
export function readMaps(pid: number, root = PROC_ROOT): string | undefined {
  try {
    return readFileSync(path.join(root, String(pid), 'maps'), 'utf8');
  } catch {
    return undefined;
  }
}
