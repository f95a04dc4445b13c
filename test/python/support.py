# Helpers shared by the Python tests: paths, running the tracer CLI or a program untraced as a
# real subprocess (sys.executable, hard timeout), and reading a trace file back as plain tuples.
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from typing import Any, Dict, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
TRACER_DIR = os.path.join(ROOT, "adapter", "python")
FIXTURES = os.path.join(ROOT, "test", "fixtures")
VECTORS = os.path.join(ROOT, "test", "vectors")
TIMEOUT = 60

if TRACER_DIR not in sys.path:
    sys.path.insert(0, TRACER_DIR)

__all__ = ["ROOT", "TRACER_DIR", "FIXTURES", "VECTORS", "run_python", "run_traced", "Trace",
           "fixture", "tracer_env"]


def fixture(name: str) -> str:
    return os.path.join(FIXTURES, name)


def tracer_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = dict(os.environ)
    env.pop("TRACELENS_TOKEN", None)
    env["PYTHONPATH"] = TRACER_DIR
    env["PYTHONIOENCODING"] = "utf-8"
    env.pop("PYTHONSTARTUP", None)
    if extra:
        env.update(extra)
    return env


def run_python(args: Sequence[str], cwd: Optional[str] = None,
               env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    """Runs sys.executable with args (no tracer), capturing output, with a hard timeout."""
    return subprocess.run([sys.executable] + list(args), cwd=cwd or FIXTURES,
                          env=env or tracer_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=TIMEOUT)


def run_traced(target: Sequence[str], options: Sequence[str] = (), cwd: Optional[str] = None,
               output: Optional[str] = None, env: Optional[Dict[str, str]] = None
               ) -> Tuple[subprocess.CompletedProcess, Optional["Trace"]]:
    """Runs `python -m tracelens run --output TMP [options] -- target`; returns (process, trace)."""
    tmp = None
    if output is None:
        tmp = tempfile.mkdtemp(prefix="tracelens-test-")
        output = os.path.join(tmp, "trace.db")
    args = ["-m", "tracelens", "run", "--output", output] + list(options)
    if target and target[0] != "-m":
        args.append("--")
    proc = run_python(args + list(target), cwd=cwd, env=env)
    trace = Trace(output) if os.path.exists(output) else None
    return proc, trace


class Trace:
    """A trace file read back: calls as (qualname, depth, args, return value) and more."""

    def __init__(self, path: str) -> None:
        self.path = path
        db = sqlite3.connect(path)
        try:
            self.meta = dict(db.execute("SELECT key, value FROM meta"))
            self.strings = dict(db.execute("SELECT id, text FROM strings"))
            self.codes = {r[0]: r[1:] for r in db.execute(
                "SELECT codes.id, module, qualname, files.path, line, argnames, flags FROM codes "
                "JOIN files ON files.id = codes.file")}
            self.threads = {r[0]: r[1] for r in db.execute("SELECT id, name FROM threads")}
            self.rows = db.execute(
                "SELECT id, thread, parent, depth, code, start_ns, end_ns, args, return_value, "
                "return_line, exc_type, exc_message, exc_line, flags FROM calls ORDER BY id"
            ).fetchall()
            self.exception_rows = db.execute(
                "SELECT call, kind, line, type, message FROM exceptions ORDER BY ts_ns, id").fetchall()
            self.process = db.execute(
                "SELECT pid, python, backend, argv, exit_code, end_reason, dropped, error "
                "FROM processes").fetchone()
        finally:
            db.close()

    def text(self, sid: Optional[int]) -> Optional[str]:
        return None if sid is None else self.strings[sid]

    def calls(self, thread: bool = False) -> List[Tuple[Any, ...]]:
        """(qualname, depth, [args], return value or None) per call row, in start order."""
        out = []
        for r in self.rows:
            args = [self.strings[s] for s in json.loads(r[7])] if r[7] else None
            row: Tuple[Any, ...] = (self.codes[r[4]][1], r[3], args, self.text(r[8]))
            if thread:
                row = row + (self.threads[r[1]],)
            out.append(row)
        return out

    def detailed(self) -> List[Tuple[Any, ...]]:
        """(qualname, depth, args, return value, return line, exc type, exc message, exc line, flags)."""
        return [c + (r[9], self.text(r[10]), self.text(r[11]), r[12], r[13])
                for c, r in zip(self.calls(), self.rows)]

    def exceptions(self) -> List[Tuple[Any, ...]]:
        """(qualname of the call, kind, line, type, message) per exception event."""
        by_id = {r[0]: r for r in self.rows}
        return [(self.codes[by_id[c][4]][1], k, line, self.strings[t], self.strings[m])
                for c, k, line, t, m in self.exception_rows]

    def files(self) -> List[str]:
        return sorted({c[2] for c in self.codes.values()})
