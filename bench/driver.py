# Runs the tracer benchmark under ONE interpreter (the one running this file) and prints a JSON
# object: per workload and mode, wall times of every run (interleaved, rotated order), CPU times
# (the program's and its writer process's), peak RSS (wait4's ru_maxrss of that very child) and
# what the trace file holds. Called by scripts/bench.mjs;
# runs only child processes and writes only in a temporary directory.
from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional

__all__ = ["main", "WORKLOADS"]

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# BENCH_TRACER_DIR: another copy of adapter/python (e.g. a snapshot of a commit).
TRACER_DIR = os.environ.get("BENCH_TRACER_DIR") or os.path.join(ROOT, "adapter", "python")
WL = os.path.join(HERE, "workloads")

# name -> (script, args, modules recorded in "record" mode (None: the program's own code),
#          module used for line mode, and "long": the arguments of a run of a second or more,
#          timed in the cheap modes only (LONG_MODES) so fixed start-up costs are amortised as in
#          a real program)
WORKLOADS: Dict[str, Dict[str, Any]] = {
    "recursion": {"script": "recursion.py", "args": ["27"], "include": None, "line": "__main__",
                  "long": ["35"]},
    "objects": {"script": "objects.py", "args": ["40000"], "include": None, "line": "__main__",
                "long": ["500000"]},
    "generators": {"script": "generators.py", "args": ["20000"], "include": None,
                   "line": "__main__", "long": ["600000"]},
    "docutils": {"script": "docutils_html.py", "args": ["20"], "include": ["docutils", "docutils.*"],
                 "line": "docutils.parsers.rst.states", "needs": "docutils", "long": ["90"]},
    "pygments": {"script": "pygments_highlight.py", "args": ["1"],
                 "include": ["pygments", "pygments.*"], "line": "pygments.lexer",
                 "needs": "pygments", "long": ["10"]},
}


# The modes timed on the long runs: what a user leaves on for a whole program.
LONG_MODES = ("untraced", "cprofile", "excluded", "heat_only")


def tracer_options() -> Dict[str, Optional[List[str]]]:
    """Line-mode and sampled-heat options of `run`, if this tracer has them (read from --help)."""
    out = subprocess.run([sys.executable, "-m", "tracelens", "run", "--help"], cwd=TRACER_DIR,
                         capture_output=True, text=True).stdout
    found: Dict[str, Optional[List[str]]] = {"line": None, "heat": None, "no_calls": None}
    for m in re.finditer(r"^\s+(--[\w-]+)(?:[ =]([A-Z][A-Z_]*))?", out, re.M):
        opt, value = m.group(1), m.group(2)
        if found["line"] is None and re.match(r"--line", opt):
            found["line"] = [opt, value or ""]
        if found["heat"] is None and re.match(r"--(sampl|heat)", opt):
            found["heat"] = [opt, value or ""]
        if opt == "--no-calls":
            found["no_calls"] = [opt, ""]
    return found


def commands(name: str, spec: Dict[str, Any], tmp: str, opts: Dict[str, Any]) -> Dict[str, List[str]]:
    py = sys.executable
    script = os.path.join(WL, spec["script"])
    args = spec["args"]
    db = os.path.join(tmp, name + ".db")
    run = [py, "-m", "tracelens", "run"]
    include: List[str] = []
    for g in spec["include"] or []:
        include += ["--include", g]
    cmds = {
        "untraced": [py, script] + args,
        "cprofile": [py, "-m", "cProfile", "-o", os.path.join(tmp, name + ".prof"), script] + args,
        "excluded": run + ["--exclude", "*", "--output", db, "--", script] + args,
        "record": run + include + ["--output", db, "--", script] + args,
    }
    if os.environ.get("BENCH_PURE") == "1":
        # The same recording with the C accelerator switched off (pure-Python tracer).
        cmds["record_pure"] = ["env", "TRACELENS_ACCEL=0"] + cmds["record"]
    if opts.get("line"):
        # Line mode on one module (its calls recorded too, as line mode needs them in scope).
        opt, value = opts["line"]
        line_mod = spec["line"]
        cmds["line"] = run + ["--include", line_mod, opt, line_mod, "--output", db, "--",
                              script] + args
    if opts.get("heat"):
        # Sampled line heat of the workload's code at 100 Hz (with its calls recorded).
        opt, value = opts["heat"]
        cmds["heat"] = run + include + ([opt, "100"] if value else [opt]) + \
            ["--output", db, "--", script] + args
    if opts.get("heat") and opts.get("no_calls"):
        # Sampled heat only: the sampler at its default rate (100 Hz) over the same code, no
        # call recording (the "sampled heat costs at most 1.10x untraced").
        opt, value = opts["heat"]
        cmds["heat_only"] = run + include + [opts["no_calls"][0]] + \
            ([opt, "100"] if value else [opt]) + ["--output", db, "--", script] + args
    return cmds


def become_subreaper() -> bool:
    """Linux: orphaned descendants (the trace file's writer process, forked twice so the
    program cannot wait for it) become this process's children, so their CPU time is counted."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def run_once(cmd: List[str], env: Dict[str, str]) -> Dict[str, Any]:
    """One run: wall time of the program's process (start to exit), its peak RSS, and the CPU
    time (user + system) of it and every process it left behind (reaped here, see
    become_subreaper)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         cwd=WL)
    assert p.stderr is not None
    err = p.stderr.read()
    _pid, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") \
        else status >> 8
    cpu = usage.ru_utime + usage.ru_stime
    while True:  # what outlived the program (its writer process) ends at once after it
        try:
            _pid, _status, more = os.wait4(-1, 0)
        except ChildProcessError:
            break
        cpu += more.ru_utime + more.ru_stime
    return {"wall": wall, "cpu": cpu, "rss_kb": usage.ru_maxrss, "code": p.returncode,
            "stderr": err.decode("utf-8", "replace")[-400:]}


def trace_counts(db: str) -> Dict[str, Any]:
    try:
        c = sqlite3.connect(db)
        calls = c.execute("SELECT count(*) FROM calls").fetchone()[0]
        exc = c.execute("SELECT count(*) FROM exceptions").fetchone()[0]
        dropped, error = c.execute("SELECT dropped, error FROM processes").fetchone()
        sampled = c.execute("SELECT count(*), coalesce(sum(hits), 0) FROM line_stats "
                            "WHERE sampled = 1").fetchone()
        c.close()
        return {"calls": calls, "exceptions": exc, "dropped": dropped, "error": error,
                "sampled_lines": sampled[0], "samples": sampled[1]}
    except Exception as e:
        return {"error": "cannot read the trace file: %s" % e}


def main() -> int:
    reps = int(os.environ.get("BENCH_REPS", "3"))
    only = [w for w in os.environ.get("BENCH_WORKLOADS", "").split(",") if w]
    modes_wanted = [m for m in os.environ.get("BENCH_MODES", "").split(",") if m]
    extra_path = os.environ.get("BENCH_PYTHONPATH", "")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [TRACER_DIR, extra_path] if p)
    env.pop("PYTHONSTARTUP", None)
    # Bytecode caches as users have them (this environment may switch them off), kept out of the
    # source trees.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "tracelens-bench-pycache")
    opts = tracer_options()
    tmp = tempfile.mkdtemp(prefix="tracelens-bench-")
    result: Dict[str, Any] = {"python": "%d.%d.%d" % sys.version_info[:3],
                              "executable": sys.executable, "reps": reps, "workloads": {},
                              "options": opts, "cpu_of_descendants": become_subreaper()}
    try:
        plans = {}
        for name, spec in WORKLOADS.items():
            if only and name not in only:
                continue
            need = spec.get("needs")
            if need:
                chk = subprocess.run([sys.executable, "-c", "import " + need], env=env,
                                     capture_output=True, text=True)
                if chk.returncode != 0:
                    result["workloads"][name] = {"skipped": "%s does not import: %s" % (
                        need, chk.stderr.strip().splitlines()[-1:] or "?")}
                    continue
            cmds = commands(name, spec, tmp, opts)
            if modes_wanted:
                cmds = {m: c for m, c in cmds.items() if m in modes_wanted or m == "untraced"}
            plans[name] = cmds
            if spec.get("long") and os.environ.get("BENCH_LONG", "1") != "0":
                long_cmds = commands(name + "-long", dict(spec, args=spec["long"]), tmp, opts)
                plans[name + "-long"] = {m: c for m, c in long_cmds.items()
                                         if m in LONG_MODES and m in cmds}
        for name, cmds in plans.items():
            result["workloads"][name] = {
                "modes": {m: {"runs": [], "cpu": [], "rss_kb": []} for m in cmds},
                "args": cmds["untraced"][2:]}
        for name, cmds in plans.items():
            if name.endswith("-long"):
                continue  # same code as the short run, already warm
            # Warm-up (bytecode caches of the workload, its package and the tracer), not counted.
            for mode in ("untraced", "excluded", "cprofile", "heat_only"):
                if mode in cmds:  # BENCH_MODES may leave some out
                    run_once(cmds[mode], env)
        for r in range(reps):
            for name, cmds in plans.items():
                modes = list(cmds)
                k = r % len(modes)
                for mode in modes[k:] + modes[:k]:  # rotate so no mode always runs first
                    out = run_once(cmds[mode], env)
                    slot = result["workloads"][name]["modes"][mode]
                    if out["code"] != 0:
                        slot["failed"] = "exit %s: %s" % (out["code"], out["stderr"])
                    slot["runs"].append(round(out["wall"], 4))
                    slot["cpu"].append(round(out["cpu"], 4))
                    slot["rss_kb"].append(out["rss_kb"])
                    if (mode.startswith("record") or mode.startswith("heat")) and r == reps - 1:
                        slot["trace"] = trace_counts(os.path.join(tmp, name + ".db"))
                    sys.stderr.write("  %s %-10s %-9s %.3fs\n" % (result["python"], name, mode,
                                                                  out["wall"]))
                    sys.stderr.flush()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
