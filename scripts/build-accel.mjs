// Prebuilds the tracer's optional C accelerator (adapter/python/tracelens/_speedups.c) for every
// CPython 3.9+ found (pyenv versions, python3/python3.X on PATH) into adapter/python/tracelens/_accel/,
// where accel.py looks first. For `npm run package`; a failure for one interpreter is reported,
// never fatal. Usage: node scripts/build-accel.mjs [--clean]. Writes only into _accel/.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const tracerDir = path.join(root, 'adapter', 'python');
const outDir = path.join(tracerDir, 'tracelens', '_accel');

function candidates() {
  const found = [];
  const pyenv = path.join(os.homedir(), '.pyenv', 'versions');
  if (existsSync(pyenv)) {
    for (const v of readdirSync(pyenv)) found.push(path.join(pyenv, v, 'bin', 'python3'));
  }
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    for (const name of ['python3', ...[9, 10, 11, 12, 13, 14].map((m) => `python3.${m}`)]) {
      found.push(path.join(dir, name));
    }
  }
  const seen = new Set();
  return found.filter((p) => {
    if (!existsSync(p)) return false;
    const real = realpathSync(p);
    if (seen.has(real)) return false;
    seen.add(real);
    return true;
  });
}

if (process.argv.includes('--clean')) rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
let built = 0;
let failed = 0;
const versions = new Set();
for (const py of candidates()) {
  const v = spawnSync(
    py,
    ['-c', 'import sys; print("%d.%d" % sys.version_info[:2], sys.implementation.name)'],
    {
      encoding: 'utf8',
    },
  );
  const [version, impl] = (v.stdout || '').trim().split(' ');
  if (v.status !== 0 || impl !== 'cpython') continue;
  const [major, minor] = version.split('.').map(Number);
  if (major !== 3 || minor < 9 || versions.has(version)) continue;
  versions.add(version);
  const r = spawnSync(py, ['-m', 'tracelens.accel', outDir], {
    cwd: root,
    env: { ...process.env, PYTHONPATH: tracerDir, PYTHONDONTWRITEBYTECODE: '1' },
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (r.status === 0) {
    built++;
    console.log(`build-accel: Python ${version}: ${path.relative(root, r.stdout.trim())}`);
  } else {
    failed++;
    console.log(
      `build-accel: Python ${version}: not built (${(r.stderr || '').trim().split('\n').pop()})`,
    );
  }
}
console.log(
  `build-accel: ${built} built, ${failed} not built (the tracer falls back to pure Python)`,
);
