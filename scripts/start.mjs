// `npm start`: on a fresh clone installs the npm packages, provisions code-server, packages the
// VSIX, installs it into a code-server profile under ~/.cache/tracelens/start and serves demo/ on
// 127.0.0.1:${PORT:-8080} until Ctrl+C. A second run reuses what the first installed.
// Touches only node_modules/ (through npm ci), dist/ and the cache folder; never sources.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { codeServerBin, ensureCodeServer, root, toolsDir } from './tools.mjs';

const port = Number(process.env.PORT || 8080);
const home = path.join(toolsDir(), 'start');
const userDataDir = path.join(home, 'user-data');
const extensionsDir = path.join(home, 'extensions');
const logFile = path.join(home, 'code-server.log');
const workspace = path.join(root, 'demo');
const vsix = path.join(root, 'dist', 'tracelens.vsix');

/** Settings of the served VS Code: no trust prompt, no welcome page, a quiet workbench (the base
 * in workbench-settings.json is the end-to-end tests' too). */
const settings = {
  ...JSON.parse(readFileSync(path.join(root, 'scripts', 'workbench-settings.json'), 'utf8')),
  'files.exclude': { '**/__pycache__': true },
  'debug.openDebug': 'neverOpen',
};

function fail(message) {
  console.error(`\nnpm start: ${message}`);
  process.exit(1);
}

function step(cmd, args, what) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) fail(`${what} failed (exit ${r.status ?? r.signal}); see the output above.`);
}

/** A hash of the VSIX's entries (names, sizes, CRCs), not of its bytes, which carry timestamps. */
function vsixFingerprint(zip) {
  const h = createHash('sha256');
  let eocd = zip.length - 22;
  while (eocd > 0 && zip.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  let p = zip.readUInt32LE(eocd + 16);
  for (let n = zip.readUInt16LE(eocd + 10); n > 0; n--) {
    const nameLen = zip.readUInt16LE(p + 28);
    h.update(zip.subarray(p + 16, p + 28)); // crc32, compressed and uncompressed sizes
    h.update(zip.subarray(p + 46, p + 46 + nameLen));
    p += 46 + nameLen + zip.readUInt16LE(p + 30) + zip.readUInt16LE(p + 32);
  }
  return h.digest('hex');
}

function mtime(p) {
  return existsSync(p) ? statSync(p).mtimeMs : 0;
}

// 1. npm packages: when node_modules is missing or older than package-lock.json.
const installed = path.join(root, 'node_modules', '.package-lock.json');
if (!existsSync(installed) || mtime(installed) < mtime(path.join(root, 'package-lock.json'))) {
  console.log('Installing npm packages (npm ci) ...');
  step('npm', ['ci', '--no-audit', '--no-fund'], 'npm ci');
}

// 2. code-server (a no-op when already installed).
const problem = ensureCodeServer();
if (problem) fail(problem);

// 3. Python: the traced programs run under python3 from code-server's PATH.
const py = spawnSync(
  'python3',
  ['-c', 'import sys; print("%d.%d" % sys.version_info[:2]); sys.exit(sys.version_info < (3, 9))'],
  { encoding: 'utf8' },
);
if (py.error) {
  console.warn('warning: python3 is not on PATH; Tracelens needs Python 3.9+ to trace programs.');
} else if (py.status !== 0) {
  console.warn(`warning: python3 is ${py.stdout.trim()}; Tracelens needs Python 3.9 or newer.`);
}

// 4. The VSIX, installed into the profile when it changed since the last start.
if (!existsSync(workspace)) fail(`the demo workspace ${workspace} is missing.`);
console.log('Packaging the extension ...');
step(process.execPath, [path.join(root, 'scripts', 'package.mjs')], 'packaging the VSIX');
mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
mkdirSync(extensionsDir, { recursive: true });
const hash = vsixFingerprint(readFileSync(vsix));
const stamp = path.join(home, 'installed-vsix.sha256');
if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== hash) {
  console.log('Installing the extension into code-server ...');
  step(
    codeServerBin(),
    [
      '--user-data-dir',
      userDataDir,
      '--extensions-dir',
      extensionsDir,
      '--install-extension',
      vsix,
      '--force',
    ],
    'installing the VSIX into code-server',
  );
  writeFileSync(stamp, hash);
}

// 5. User settings, keeping whatever the user changed in the served VS Code.
const settingsFile = path.join(userDataDir, 'User', 'settings.json');
let current = {};
try {
  current = JSON.parse(readFileSync(settingsFile, 'utf8'));
} catch {
  /* missing or hand-edited with comments: start again */
}
writeFileSync(settingsFile, JSON.stringify({ ...settings, ...current }, null, 2) + '\n');

// 6. Serve, once the port is known to be free.
const free = await new Promise((resolve) => {
  const s = net.createServer();
  s.once('error', () => resolve(false));
  s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
});
if (!free) fail(`port ${port} is in use on 127.0.0.1; choose another with PORT=8081 npm start`);

const log = openSync(logFile, 'w');
const server = spawn(
  codeServerBin(),
  [
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    workspace,
  ],
  { cwd: workspace, stdio: ['ignore', log, log], env: process.env },
);
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    stopping = true;
    console.log('\nStopping code-server ...');
    server.kill(sig);
    setTimeout(() => server.kill('SIGKILL'), 5000).unref();
  });
}
server.on('exit', (code, signal) => {
  if (!stopping) {
    const tail = readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
    fail(`code-server stopped (exit ${code ?? signal}). The end of ${logFile}:\n${tail}`);
  }
  process.exit(0);
});

const url = `http://127.0.0.1:${port}/`;
for (let i = 0; i < 120 && !stopping; i++) {
  const up = await fetch(`${url}healthz`).then(
    (r) => r.ok,
    () => false,
  );
  if (up) {
    console.log(`\nTracelens demo: ${url}`);
    console.log('Open a Python file and run "Tracelens: Trace This File". Ctrl+C stops it.');
    console.log(`(code-server log: ${logFile})`);
    break;
  }
  await new Promise((r) => setTimeout(r, 500));
}
