// Finding a process's Tracelens agent: the runtime directories it may have announced itself in
// (from the target's environment and ours, as tracelens/attach_files.py chooses them), and the
// checks before anything in them is trusted: a directory of ours with mode 0700, files of ours
// with mode 0600, a socket of ours. Mirrors attach_files.py; imports nothing from vscode.

import { lstatSync, readFileSync, type Stats } from 'node:fs';
import * as path from 'node:path';

/** Environment variable that overrides the runtime directory (attach_files.py DIR_ENV). */
export const AGENT_DIR_ENV = 'TRACELENS_AGENT_DIR';
export const AGENT_DISABLE_ENV = 'TRACELENS_AGENT_DISABLE';

/** What the agent wrote to <pid>.json. */
export interface Announcement {
  agent: number;
  wire: number;
  pid: number;
  python: string;
  executable: string;
  argv: string[];
  cwd: string;
  socket: string;
  token_file: string;
  started: number;
  backend: string;
}

export interface FoundAgent {
  dir: string;
  announcement: Announcement;
  socketPath: string;
  tokenPath: string;
}

/** The runtime directories to look in, most specific first, without duplicates. */
export function candidateDirs(
  targetEnv: Record<string, string | undefined>,
  ownEnv: Record<string, string | undefined>,
  uid: number,
): string[] {
  const dirs: string[] = [];
  const add = (d: string | undefined) => {
    if (d && path.isAbsolute(d) && !dirs.includes(path.resolve(d))) dirs.push(path.resolve(d));
  };
  for (const env of [targetEnv, ownEnv]) {
    add(env[AGENT_DIR_ENV]);
    if (env.XDG_RUNTIME_DIR) add(path.join(env.XDG_RUNTIME_DIR, 'tracelens'));
  }
  add(`/run/user/${uid}/tracelens`);
  add(`/tmp/tracelens-${uid}`);
  return dirs;
}

/** A file or directory that may not be trusted; the message says which and why. */
export class UnsafeAgentFile extends Error {}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

const octal = (mode: number) => (mode & 0o777).toString(8).padStart(3, '0');

/** Throws UnsafeAgentFile unless `st` is ours and reachable by no one else. */
export function checkPrivate(p: string, st: Stats, uid: number, kind: 'dir' | 'file' | 'socket') {
  const isKind = kind === 'dir' ? st.isDirectory() : kind === 'file' ? st.isFile() : st.isSocket();
  if (!isKind) throw new UnsafeAgentFile(`${p} is not a ${kind === 'dir' ? 'directory' : kind}`);
  if (st.uid !== uid) throw new UnsafeAgentFile(`${p} belongs to uid ${st.uid}, not to you`);
  if (st.mode & 0o077) {
    throw new UnsafeAgentFile(`${p} can be reached by other users (mode ${octal(st.mode)})`);
  }
}

/**
 * The agent announced by process `pid` in one of `dirs`, checked; undefined when none announced
 * it. Throws UnsafeAgentFile when an announcement exists but cannot be trusted.
 */
export function findAgent(pid: number, dirs: string[], uid: number): FoundAgent | undefined {
  for (const dir of dirs) {
    const file = path.join(dir, `${pid}.json`);
    const fileStat = lstatOrUndefined(file);
    if (!fileStat) continue;
    checkPrivate(dir, lstatSync(dir), uid, 'dir');
    checkPrivate(file, fileStat, uid, 'file');
    let announcement: Announcement;
    try {
      announcement = JSON.parse(readFileSync(file, 'utf8')) as Announcement;
    } catch {
      throw new UnsafeAgentFile(`${file} is not a valid announcement`);
    }
    if (announcement.pid !== pid) {
      throw new UnsafeAgentFile(`${file} announces process ${announcement.pid}, not ${pid}`);
    }
    const socketPath = path.join(dir, `${pid}.sock`);
    const tokenPath = path.join(dir, `${pid}.token`);
    const socketStat = lstatOrUndefined(socketPath);
    if (!socketStat) continue; // announced, but the socket is gone: treat as no agent here
    checkPrivate(socketPath, socketStat, uid, 'socket');
    return { dir, announcement, socketPath, tokenPath };
  }
  return undefined;
}

/** The agent's current token, after checking its file. */
export function readToken(found: FoundAgent, uid: number): string {
  const st = lstatOrUndefined(found.tokenPath);
  if (!st) throw new UnsafeAgentFile(`${found.tokenPath} is missing`);
  checkPrivate(found.tokenPath, st, uid, 'file');
  return readFileSync(found.tokenPath, 'utf8').trim();
}
