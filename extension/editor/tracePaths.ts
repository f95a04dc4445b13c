// How an editor's file is matched with the paths the tracer reported (absolute, as Python saw
// them: possibly through a symlink, possibly differing in case on Windows and macOS).
// Pure apart from reading the file system's real path; no vscode import.

import * as fs from 'node:fs';
import * as path from 'node:path';

/** A comparison key for an absolute path: normalised, case-folded where the OS folds case. */
export function pathKey(p: string, platform: NodeJS.Platform = process.platform): string {
  const isWin = platform === 'win32';
  let n = isWin ? path.win32.normalize(p) : path.posix.normalize(p);
  if (n.length > 1 && /[\\/]$/.test(n) && !/^[A-Za-z]:[\\/]$/.test(n)) n = n.slice(0, -1);
  return isWin || platform === 'darwin' ? n.toLowerCase() : n;
}

/** The paths under which the tracer may have recorded this file: as given, then its real path. */
export function candidatePaths(fsPath: string): string[] {
  const out = [path.normalize(fsPath)];
  try {
    const real = fs.realpathSync.native(fsPath);
    if (pathKey(real) !== pathKey(out[0])) out.push(real);
  } catch {
    // A file that no longer exists is looked up under its given path only.
  }
  return out;
}
