// `npm test`: runs every check in order (lint and typecheck, build, Python tests under every
// interpreter 3.9+, TS unit tests, adapter tests, packaging, end-to-end tests), prints a header per
// stage and ends with exactly `N passed, N failed`. Orchestrates only; it edits no sources.
// Usage: node scripts/test.mjs [stage ...]   (stages: lint build python unit adapter package e2e)
//        node scripts/test.mjs --list-pythons   (the interpreters the Python stage would consider)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromiumPath, codeServerBin, ensureChromium, ensureCodeServer, root } from './tools.mjs';

/** A stage with no test files fails the run (TRACELENS_REQUIRE_ALL_TESTS=0 only reports it). */
const MISSING_TESTS_FAIL = process.env.TRACELENS_REQUIRE_ALL_TESTS !== '0';
const out = path.join(root, '.test-output');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

const running = new Set(); // children killed on Ctrl+C
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const child of running) killTree(child, 1500);
    setTimeout(() => process.exit(130), 2000);
  });
}

/** Ends a child's process group: SIGTERM (so the e2e harness can end code-server), then SIGKILL. */
function killTree(child, graceMs = 5000) {
  const signal = (sig) => {
    try {
      process.kill(-child.pid, sig);
    } catch {
      try {
        child.kill(sig);
      } catch {
        /* already gone */
      }
    }
  };
  signal('SIGTERM');
  setTimeout(() => signal('SIGKILL'), graceMs).unref();
}

/**
 * Runs a command with a hard timeout, echoing its output unless `echo` is false; resolves to
 * { code, output }.
 */
function run(cmd, args, { timeoutMs = 10 * 60_000, env = {}, echo = true } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    running.add(child);
    let output = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      console.log(`\n!! timed out after ${timeoutMs / 1000}s: ${cmd} ${args.join(' ')}`);
      killTree(child);
    }, timeoutMs);
    child.stdout.on('data', (d) => {
      output += d;
      if (echo) process.stdout.write(d);
    });
    child.stderr.on('data', (d) => {
      output += d;
      if (echo) process.stderr.write(d);
    });
    child.on('error', (e) => {
      output += String(e);
      console.log(`!! could not run ${cmd}: ${e.message}`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code: timedOut ? 124 : (code ?? (signal ? 128 : 1)), output });
    });
  });
}

/** Runs node's test runner on files: spec report on screen, TAP report parsed for counts. */
async function nodeTests(name, files, { timeoutMs, concurrency } = {}) {
  mkdirSync(out, { recursive: true });
  const tap = path.join(out, `${name}.tap`);
  rmSync(tap, { force: true });
  const args = [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
  ];
  if (concurrency) args.push(`--test-concurrency=${concurrency}`);
  const r = await run(process.execPath, [...args, ...files], { timeoutMs });
  const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  const count = (k) => {
    const m = text.match(new RegExp(`^# ${k} (\\d+)$`, 'm'));
    return m ? Number(m[1]) : 0;
  };
  const passed = count('pass');
  let failed = count('fail') + count('cancelled');
  if (r.code !== 0 && failed === 0) failed = 1; // crashed, timed out or reported nothing
  return { passed, failed, note: count('skipped') ? `${count('skipped')} skipped` : '' };
}

/** Test files matching dir/*.test.ts, sorted (Node 20's --test takes no globs). */
function testFiles(dir, except = []) {
  const abs = path.join(root, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs)
    .filter((f) => f.endsWith('.test.ts') && !except.includes(f))
    .sort()
    .map((f) => path.join(dir, f));
}

function noTests(what) {
  console.log(`no tests yet (${what})`);
  return MISSING_TESTS_FAIL
    ? { passed: 0, failed: 1, note: 'no tests yet' }
    : { passed: 0, failed: 0, note: 'no tests yet' };
}

/** One check that is not a test suite (lint, build...) counts as one case. */
async function check(label, cmd, args, opts) {
  console.log(`-- ${label}: ${[path.basename(cmd), ...args].join(' ')}`);
  const r = await run(cmd, args, opts);
  console.log(`-- ${label}: ${r.code === 0 ? 'ok' : `FAILED (exit ${r.code})`}`);
  return r.code === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 };
}

function sum(...rs) {
  return rs.reduce(
    (a, r) => ({
      passed: a.passed + r.passed,
      failed: a.failed + r.failed,
      note: [a.note, r.note].filter(Boolean).join('; '),
    }),
    { passed: 0, failed: 0, note: '' },
  );
}

/** Every Python interpreter installed: pyenv versions and python3.x on PATH, by real path. */
function pythons() {
  const candidates = [];
  const pyenv = path.join(process.env.PYENV_ROOT || path.join(os.homedir(), '.pyenv'), 'versions');
  if (existsSync(pyenv)) {
    for (const v of readdirSync(pyenv).sort())
      candidates.push(path.join(pyenv, v, 'bin', 'python3'));
  }
  const names = ['python3', 'python'];
  for (let minor = 6; minor <= 15; minor++) names.push(`python3.${minor}`);
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir.includes(`${path.sep}.pyenv${path.sep}shims`)) continue; // shims resolve to pyenv's own
    for (const n of names) candidates.push(path.join(dir, n));
  }
  const found = new Map();
  const probe =
    'import os,sys;print(os.path.realpath(sys.executable));print("%d.%d.%d" % sys.version_info[:3])';
  for (const c of candidates) {
    if (!existsSync(c)) continue;
    let real;
    try {
      real = realpathSync(c);
    } catch {
      continue;
    }
    if ([...found.values()].some((p) => p.real === real)) continue;
    const r = spawnSync(c, ['-c', probe], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) continue;
    const [exe, version] = r.stdout.trim().split('\n');
    const key = realpathSync(exe);
    if (!found.has(key)) found.set(key, { path: c, real: key, version });
  }
  return [...found.values()].sort((a, b) =>
    a.version.localeCompare(b.version, undefined, { numeric: true }),
  );
}

/** Counts from unittest's summary lines (`Ran N tests`, `FAILED (failures=.., errors=..)`). */
function unittestCounts(text, code) {
  let ran = 0;
  let failed = 0;
  let skipped = 0;
  for (const m of text.matchAll(/^Ran (\d+) tests? in /gm)) ran += Number(m[1]);
  for (const m of text.matchAll(/^(?:FAILED|OK) \((.*)\)\s*$/gm)) {
    for (const part of m[1].split(',')) {
      const [k, v] = part.trim().split('=');
      if (k === 'failures' || k === 'errors' || k === 'unexpected successes') failed += Number(v);
      if (k === 'skipped') skipped += Number(v);
    }
  }
  if (code !== 0 && failed === 0) failed = 1; // crashed or timed out before its summary
  return { passed: Math.max(0, ran - failed - skipped), failed, skipped };
}

const stages = {
  async lint() {
    return sum(
      await check('eslint', bin('eslint'), ['.'], { timeoutMs: 5 * 60_000 }),
      await check('prettier', bin('prettier'), ['--check', '.'], { timeoutMs: 5 * 60_000 }),
      await check('typecheck', bin('tsc'), ['-p', '.', '--noEmit'], { timeoutMs: 5 * 60_000 }),
    );
  },

  async build() {
    return check('build', process.execPath, ['scripts/build.mjs'], { timeoutMs: 5 * 60_000 });
  },

  async python() {
    const runner = path.join('test', 'python', 'run.py');
    if (!existsSync(path.join(root, runner))) return noTests(`${runner} does not exist`);
    const all = pythons();
    const supported = all.filter((p) => {
      const [maj, min] = p.version.split('.').map(Number);
      return maj === 3 && min >= 9;
    });
    for (const p of all.filter((p) => !supported.includes(p))) {
      console.log(`skipping Python ${p.version} (${p.real}): unsupported, Tracelens needs 3.9+`);
    }
    if (!supported.length) {
      console.log('no Python 3.9+ interpreter found: install one (e.g. apt-get install python3)');
      return { passed: 0, failed: 1, note: 'no Python 3.9+' };
    }
    // Interpreters run side by side (TRACELENS_PY_JOBS, default: 2 on two or more CPUs); each
    // one's output is printed whole when it finishes.
    const jobs = Math.max(
      1,
      Number(process.env.TRACELENS_PY_JOBS) || Math.min(2, os.availableParallelism?.() ?? 1),
    );
    if (jobs > 1) console.log(`running ${jobs} interpreters at a time`);
    const results = new Array(supported.length);
    let next = 0;
    const worker = async () => {
      while (next < supported.length) {
        const i = next++;
        const p = supported[i];
        const header = `-- Python ${p.version} (${p.real})`;
        if (jobs === 1) console.log(header);
        const r = await run(p.real, [runner], {
          timeoutMs: 10 * 60_000,
          env: { PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
          echo: jobs === 1,
        });
        if (jobs > 1) process.stdout.write(`${header}\n${r.output}`);
        const c = unittestCounts(r.output, r.code);
        console.log(
          `-- Python ${p.version}: ${c.passed} passed, ${c.failed} failed` +
            (c.skipped ? `, ${c.skipped} skipped` : ''),
        );
        results[i] = { version: p.version, ...c };
      }
    };
    await Promise.all(Array.from({ length: jobs }, worker));
    const ran = results.map((c) => `${c.version}${c.failed ? ' FAILED' : ''}`);
    console.log(`Python tests ran under: ${ran.join(', ')}`);
    const total = sum(...results.map((c) => ({ passed: c.passed, failed: c.failed })));
    return { ...total, note: `Python ${ran.join(', ')}` };
  },

  async unit() {
    const files = testFiles('test/unit', ['vsix.test.ts']);
    if (!files.length) return noTests('test/unit/*.test.ts');
    return nodeTests('unit', files, { timeoutMs: 5 * 60_000 });
  },

  async adapter() {
    const files = testFiles('test/adapter');
    if (!files.length) return noTests('test/adapter/*.test.ts');
    return nodeTests('adapter', files, { timeoutMs: 8 * 60_000 });
  },

  async package() {
    const made = await check('package', process.execPath, ['scripts/package.mjs'], {
      timeoutMs: 5 * 60_000,
    });
    if (made.failed) return made;
    return sum(made, await nodeTests('vsix', ['test/unit/vsix.test.ts'], { timeoutMs: 60_000 }));
  },

  async e2e() {
    const files = testFiles('test/e2e');
    if (!files.length) return noTests('test/e2e/*.test.ts');
    for (const problem of [ensureCodeServer(), ensureChromium()]) {
      if (problem) {
        console.log(`!! end-to-end tests cannot run: ${problem}`);
        return { passed: 0, failed: 1, note: 'code-server or Chromium missing' };
      }
    }
    // Each run's profiles, logs and screenshots replace the last run's.
    rmSync(path.join(out, 'e2e'), { recursive: true, force: true });
    rmSync(path.join(out, 'screenshots'), { recursive: true, force: true });
    if (!existsSync(path.join(root, 'dist', 'tracelens.vsix'))) {
      console.log('!! dist/tracelens.vsix is missing: the package stage must succeed first');
      return { passed: 0, failed: 1, note: 'no VSIX' };
    }
    return nodeTests('e2e', files, {
      timeoutMs: 15 * 60_000,
      concurrency: 1,
      env: { TRACELENS_CODE_SERVER: codeServerBin(), TRACELENS_CHROMIUM: chromiumPath() },
    });
  },
};

const titles = {
  lint: 'Lint, format check and typecheck',
  build: 'Build',
  python: 'Python tracer tests',
  unit: 'TypeScript unit tests',
  adapter: 'Adapter tests',
  package: 'Package the VSIX',
  e2e: 'End-to-end tests (code-server + Chromium)',
};

if (process.argv.includes('--list-pythons')) {
  for (const p of pythons()) console.log(`${p.version}\t${p.real}\t(found as ${p.path})`);
  process.exit(0);
}
const chosen = process.argv.slice(2);
for (const c of chosen) {
  if (!(c in stages)) {
    console.error(`unknown stage "${c}"; stages: ${Object.keys(stages).join(' ')}`);
    process.exit(2);
  }
}
const summary = [];
const started = Date.now();
for (const name of Object.keys(stages)) {
  if (chosen.length && !chosen.includes(name)) continue;
  console.log(`\n=== ${titles[name]} ===`);
  const t0 = Date.now();
  let r;
  try {
    r = await stages[name]();
  } catch (e) {
    console.log(`!! stage ${name} broke: ${e?.stack || e}`);
    r = { passed: 0, failed: 1, note: 'stage broke' };
  }
  const secs = (Date.now() - t0) / 1000;
  summary.push({ name, ...r, secs });
  console.log(`=== ${titles[name]}: ${r.passed} passed, ${r.failed} failed (${secs.toFixed(1)}s)`);
}

console.log('\n=== Summary ===');
for (const s of summary) {
  const status = s.failed ? 'FAIL' : s.note === 'no tests yet' ? 'none' : 'ok';
  console.log(
    `${status.padEnd(5)}${s.name.padEnd(9)}${String(s.passed).padStart(4)} passed` +
      `${String(s.failed).padStart(4)} failed ${`${s.secs.toFixed(1)}s`.padStart(8)}` +
      (s.note ? `  (${s.note})` : ''),
  );
}
const total = sum(...summary);
console.log(`total time ${((Date.now() - started) / 1000).toFixed(1)}s`);
console.log(`${total.passed} passed, ${total.failed} failed`);
process.exit(total.failed ? 1 : 0);
