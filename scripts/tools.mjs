// Finds, and when missing provisions, the tools `npm start` and the end-to-end tests need:
// code-server (through scripts/install-code-server.sh) and Debian's Chromium. Shared by
// scripts/start.mjs and scripts/test.mjs; it never touches the repository's files.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
export const codeServerVersion = process.env.CODE_SERVER_VERSION || '4.100.3';

/** Where install-code-server.sh puts its installs (same default as the script). */
export function toolsDir() {
  return (
    process.env.TRACELENS_TOOLS ||
    path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'tracelens')
  );
}

export function codeServerDir() {
  return path.join(toolsDir(), `code-server-${codeServerVersion}`);
}

export function codeServerBin() {
  return path.join(codeServerDir(), 'node_modules', '.bin', 'code-server');
}

export function codeServerInstalled() {
  return existsSync(path.join(codeServerDir(), '.complete')) && existsSync(codeServerBin());
}

/** Runs install-code-server.sh unless code-server is already there; returns an error or null. */
export function ensureCodeServer() {
  if (codeServerInstalled()) return null;
  console.log(`Installing code-server ${codeServerVersion} into ${codeServerDir()} ...`);
  const r = spawnSync('bash', [path.join(root, 'scripts', 'install-code-server.sh'), toolsDir()], {
    stdio: 'inherit',
    timeout: 20 * 60_000,
  });
  if (r.status === 0 && codeServerInstalled()) return null;
  return (
    `code-server could not be installed into ${codeServerDir()}.\n` +
    `  Install it with: bash scripts/install-code-server.sh (as root it also installs the Debian\n` +
    `  packages it needs: libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config\n` +
    `  ripgrep chromium; otherwise install those with sudo apt-get install first).`
  );
}

export function chromiumPath() {
  if (process.env.TRACELENS_CHROMIUM) return process.env.TRACELENS_CHROMIUM;
  for (const p of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) if (existsSync(p)) return p;
  return '/usr/bin/chromium';
}

/** Installs Debian's chromium when it is missing and we are root; returns an error or null. */
export function ensureChromium() {
  if (existsSync(chromiumPath())) return null;
  if (process.getuid?.() === 0) {
    console.log('Installing Debian chromium ...');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env });
    if (existsSync(chromiumPath())) return null;
  }
  return (
    `Chromium was not found at ${chromiumPath()}.\n` +
    `  Install it with: sudo apt-get install chromium (or set TRACELENS_CHROMIUM to its path).`
  );
}
