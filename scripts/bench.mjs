// `npm run bench`: the tracer benchmark (bench/driver.py under Python 3.12 and 3.11: untraced,
// cProfile -o, tracer with the workload excluded, recording to a trace file, line mode and sampled
// heat when the tracer has them, sampled heat alone (`--no-calls --sample 100`), peak RSS) plus
// the store/editor/timeline benchmarks others ship (bench/*.bench.ts, last output line is JSON).
// Writes bench/results.json and bench/RESULTS.md.
// Env: BENCH_REPS (default 3), BENCH_WORKLOADS=a,b, BENCH_MODES=a,b, BENCH_PYTHONS=3.12,3.11,
// BENCH_PURE=1 (also record with the C accelerator off).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const benchDir = path.join(root, 'bench');
const DIST = '/usr/lib/python3/dist-packages';
const MODES = [
  'untraced',
  'cprofile',
  'excluded',
  'record',
  'record_pure',
  'line',
  'heat',
  'heat_only',
];

function log(s) {
  process.stderr.write(s + '\n');
}

/** Debian's docutils and pygments, installed when we are root and they are missing. */
function setup() {
  const missing = ['python3-docutils', 'python3-pygments'].filter((p) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
  if (missing.length === 0) return;
  if (process.getuid && process.getuid() === 0) {
    log(`bench: installing ${missing.join(' ')} (apt-get)`);
    const r = spawnSync('apt-get', ['install', '-y', ...missing], { stdio: 'inherit' });
    if (r.status !== 0) log('bench: apt-get failed; those workloads will be skipped');
  } else {
    log(`bench: ${missing.join(' ')} missing and not root; those workloads will be skipped`);
  }
}

function findPythons() {
  const wanted = (process.env.BENCH_PYTHONS || '3.12,3.11').split(',').filter(Boolean);
  const base = path.join(os.homedir(), '.pyenv', 'versions');
  const found = [];
  const versions = existsSync(base) ? readdirSync(base) : [];
  for (const w of wanted) {
    const v = versions
      .filter((d) => d === w || d.startsWith(w + '.'))
      .sort()
      .pop();
    const exe = v ? path.join(base, v, 'bin', 'python3') : null;
    if (exe && existsSync(exe)) found.push({ want: w, exe });
    else log(`bench: no Python ${w} found under ${base}`);
  }
  return found;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** Adds best/median figures and ratios to one interpreter's driver output. */
function summarise(py) {
  for (const [, w] of Object.entries(py.workloads)) {
    if (!w.modes) continue;
    const base = w.modes.untraced;
    const bBest = Math.min(...base.runs);
    const bMed = median(base.runs);
    const bRss = median(base.rss_kb);
    const bCpu = base.cpu && base.cpu.length ? median(base.cpu) : NaN;
    for (const m of Object.values(w.modes)) {
      m.best = Math.min(...m.runs);
      m.median = median(m.runs);
      m.ratio = m.median / bMed;
      m.ratio_best = m.best / bBest;
      // CPU time of the program and its writer process: what the mode costs on a machine
      // that has other work to do (steadier than wall time on a shared one).
      m.cpu_median = m.cpu && m.cpu.length ? median(m.cpu) : NaN;
      m.cpu_ratio = m.cpu_median / bCpu;
      m.rss_above_kb = median(m.rss_kb) - bRss;
    }
    const cp = w.modes.cprofile;
    const rec = w.modes.record;
    if (cp && rec) {
      // Overhead (time above untraced) of recording vs cProfile's, medians of the same run.
      // Undefined when cProfile's overhead is lost in the noise (under 5% of untraced).
      const cpOver = cp.median - bMed;
      w.record_vs_cprofile = cpOver > 0.05 * bMed ? (rec.median - bMed) / cpOver : NaN;
    }
  }
  return py;
}

/** CPU ticks of the whole machine from /proc/stat: [total, steal] (steal: time the host gave
 * this machine's CPUs to others, which adds to wall times at random). Null where there is none. */
function cpuTicks() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1);
    const v = f.map(Number);
    return [v.reduce((a, b) => a + b, 0), v[7] || 0];
  } catch {
    return null;
  }
}

function runTracerBench(py) {
  log(`bench: Python ${py.want} (${py.exe})`);
  const before = cpuTicks();
  const r = spawnSync(py.exe, [path.join(benchDir, 'driver.py')], {
    cwd: root,
    env: { ...process.env, BENCH_PYTHONPATH: DIST },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
    timeout: 15 * 60_000,
  });
  if (r.status !== 0) {
    log(`bench: driver failed under ${py.exe} (exit ${r.status ?? r.signal})`);
    return { python: py.want, error: `driver exit ${r.status ?? r.signal}` };
  }
  const out = summarise(JSON.parse(r.stdout.trim().split('\n').pop()));
  const after = cpuTicks();
  if (before && after && after[0] > before[0])
    out.steal_percent = (100 * (after[1] - before[1])) / (after[0] - before[0]);
  return out;
}

/** Others' benchmarks: bench/*.bench.ts, each printing a JSON object on its last line. */
function runTsBenches() {
  const out = {};
  const files = existsSync(benchDir)
    ? readdirSync(benchDir)
        .filter((f) => f.endsWith('.bench.ts'))
        .sort()
    : [];
  for (const f of files) {
    log(`bench: ${f}`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(benchDir, f)], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
      timeout: 5 * 60_000,
    });
    const last = (r.stdout || '').trim().split('\n').pop() || '';
    try {
      out[f] = JSON.parse(last);
    } catch {
      out[f] = {
        error: `exit ${r.status ?? r.signal}; last line is not JSON: ${last.slice(0, 200)}`,
      };
    }
  }
  return out;
}

const fmt = (x, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const ratio = (x) => (Number.isFinite(x) ? x.toFixed(2) + 'x' : '—');

function markdown(results) {
  const lines = [];
  lines.push('<!-- Written by `npm run bench` (scripts/bench.mjs); do not edit by hand. -->');
  lines.push('');
  lines.push(
    `Tracer benchmark, ${results.date}, ${results.host.cpus} CPUs, median of ${results.reps} interleaved runs ` +
      '(whole process wall time, interpreter start-up included). Ratios are to the untraced run; ' +
      '"rec/cProfile" is the time recording adds divided by the time `python -m cProfile -o` adds ' +
      '(1.00 = same overhead). Modes: "workload excluded" is `run --exclude "*" --output`; ' +
      '"recording" is `run --include PKG --output` for docutils/pygments and the default scope ' +
      '(the program) for the others, with the C accelerator when it builds, "pure Python" the same ' +
      'with TRACELENS_ACCEL=0; "line mode" records one module with `--lines` on it; "sampled heat" ' +
      'is the recording plus `--sample 100`; "sampled heat only" is `run --no-calls --sample 100 --output` ' +
      'over the same code (no call recording; bar: at most 1.10x untraced). Load average at the end: ' +
      os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' ') +
      ". CPU time taken by the host from this machine (steal) during each interpreter's runs: " +
      results.pythons
        .map(
          (py) =>
            `${py.python} ${Number.isFinite(py.steal_percent) ? py.steal_percent.toFixed(1) + '%' : 'not known'}`,
        )
        .join(', ') +
      ' (steal only ever adds time, at random: where it is high, the best-of ratios of the long runs are the steadier figures).',
  );
  lines.push('');
  lines.push(
    '| Python | workload | untraced s | cProfile -o | tracer, workload excluded | recording --output | rec/cProfile | recording, pure Python | line mode | sampled heat | sampled heat only | calls recorded | dropped | RSS above untraced (rec) |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const py of results.pythons) {
    if (!py.workloads) {
      lines.push(`| ${py.python} | (failed: ${py.error}) ||||||||||||`);
      continue;
    }
    for (const [name, w] of Object.entries(py.workloads)) {
      if (name.endsWith('-long')) continue;
      if (w.skipped) {
        lines.push(`| ${py.python} | ${name} | skipped: ${w.skipped} |||||||||||`);
        continue;
      }
      const m = w.modes;
      const cell = (k) =>
        m[k] ? (m[k].failed ? `failed` : `${ratio(m[k].ratio)} (${fmt(m[k].median)} s)`) : 'n/a';
      const tr = m.record && m.record.trace ? m.record.trace : {};
      lines.push(
        `| ${py.python} | ${name} | ${fmt(m.untraced.median)} | ${cell('cprofile')} | ${cell('excluded')} | ${cell('record')} | ${fmt(w.record_vs_cprofile, 2)} | ${cell('record_pure')} | ${cell('line')} | ${cell('heat')} | ${cell('heat_only')} | ${tr.calls ?? '—'} | ${tr.dropped ?? '—'} | ${m.record ? Math.round(m.record.rss_above_kb / 1024) + ' MB' : '—'} |`,
      );
    }
  }
  lines.push('');
  lines.push(
    'Long runs: the same workloads at a size that runs a second or so untraced, as a real ' +
      'program does, timed in the modes a user leaves on for a whole run (fixed start-up costs ' +
      'amortised). Bars: workload excluded at most 1.05x, sampled heat only at most 1.10x. Each ' +
      'cell: ratio of medians of wall time; in brackets, ratio of the best runs; then the median ' +
      'time. "CPU" columns: ratio of the medians of CPU time (user + system of the program and ' +
      'of its writer process, which the benchmark reaps as their subreaper).',
  );
  lines.push('');
  lines.push(
    '| Python | workload | arguments | untraced s | cProfile -o | tracer, workload excluded | sampled heat only | CPU: workload excluded | CPU: sampled heat only |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|');
  for (const py of results.pythons) {
    for (const [name, w] of Object.entries(py.workloads || {})) {
      if (!name.endsWith('-long') || !w.modes) continue;
      const m = w.modes;
      const cell = (k) =>
        m[k]
          ? m[k].failed
            ? `failed`
            : `${ratio(m[k].ratio)} (best ${ratio(m[k].ratio_best)}) (${fmt(m[k].median)} s)`
          : 'n/a';
      const cpu = (k) => (m[k] && !m[k].failed ? ratio(m[k].cpu_ratio) : 'n/a');
      lines.push(
        `| ${py.python} | ${name.slice(0, -5)} | ${(w.args || []).join(' ')} | ${fmt(m.untraced.median)} | ${cell('cprofile')} | ${cell('excluded')} | ${cell('heat_only')} | ${cpu('excluded')} | ${cpu('heat_only')} |`,
      );
    }
  }
  const ts = Object.entries(results.other);
  if (ts.length) {
    lines.push('');
    lines.push('Store, editor and timeline benchmarks (their own JSON figures):');
    lines.push('');
    for (const [f, v] of ts) lines.push(`- \`${f}\`: \`${JSON.stringify(v)}\``);
  }
  lines.push('');
  return lines.join('\n');
}

function printTable(results) {
  const rows = [['python', 'workload', ...MODES, 'rec/cprof']];
  for (const py of results.pythons) {
    for (const [name, w] of Object.entries(py.workloads || {})) {
      if (w.skipped) {
        rows.push([py.python, name, 'skipped']);
        continue;
      }
      rows.push([
        py.python,
        name,
        ...MODES.map((k) =>
          w.modes[k]
            ? w.modes[k].failed
              ? 'FAILED'
              : k === 'untraced'
                ? fmt(w.modes[k].median) + 's'
                : ratio(w.modes[k].ratio)
            : 'n/a',
        ),
        fmt(w.record_vs_cprofile, 2),
      ]);
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i] ?? '').length)));
  for (const r of rows) console.log(r.map((c, i) => String(c ?? '').padEnd(widths[i])).join('  '));
  for (const [f, v] of Object.entries(results.other)) console.log(`${f}: ${JSON.stringify(v)}`);
}

const t0 = Date.now();
setup();
const results = {
  date: new Date().toISOString(),
  host: { cpus: os.cpus().length, platform: `${os.platform()} ${os.release()}` },
  reps: Number(process.env.BENCH_REPS || 3),
  pythons: [],
  other: {},
};
for (const py of findPythons()) results.pythons.push(runTracerBench(py));
if (!process.env.BENCH_SKIP_TS) results.other = runTsBenches();
results.seconds = Math.round((Date.now() - t0) / 1000);
writeFileSync(path.join(benchDir, 'results.json'), JSON.stringify(results, null, 1) + '\n');
writeFileSync(path.join(benchDir, 'RESULTS.md'), markdown(results));
printTable(results);
log(`bench: done in ${results.seconds} s; bench/results.json and bench/RESULTS.md written`);
