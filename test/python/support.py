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
           "fixture", "tracer_env", "Collector", "run_connected", "Stream"]


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


class Collector:
    """A real trace server (TCP loopback): accepts every connection (a traced process and its
    children) and keeps each one's decoded messages, in order."""

    def __init__(self) -> None:
        import socket
        import threading
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.connections: List[List[Dict[str, Any]]] = []
        self._threads: List[Any] = []
        self._lock = threading.Lock()
        self._stop = False
        self._accepter = threading.Thread(target=self._accept, daemon=True)
        self._accepter.start()

    def _accept(self) -> None:
        import threading
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            messages: List[Dict[str, Any]] = []
            t = threading.Thread(target=self._read, args=(conn, messages), daemon=True)
            with self._lock:  # started before close() can see it (and join it)
                self.connections.append(messages)
                t.start()
                self._threads.append(t)

    def _read(self, conn: Any, messages: List[Dict[str, Any]]) -> None:
        from tracelens import wire
        reader = wire.FrameReader()
        conn.settimeout(TIMEOUT)
        with conn:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                messages.extend(reader.feed(data))

    def close(self) -> List[List[Dict[str, Any]]]:
        """Waits for every connection to end, including ones still waiting in the listen backlog
        (a loaded machine may not have accepted them yet); returns their messages."""
        import select
        import time
        deadline = time.time() + TIMEOUT
        while True:
            with self._lock:
                threads = list(self._threads)
            for t in threads:
                t.join(max(0.1, deadline - time.time()))
            pending, _, _ = select.select([self.sock], [], [], 0.3)
            with self._lock:
                grew = len(self._threads) != len(threads)
            if (not pending and not grew) or time.time() > deadline:
                break
        self._stop = True
        self.sock.close()
        return self.connections


def run_connected(target: Sequence[str], options: Sequence[str] = (), cwd: Optional[str] = None,
                  env: Optional[Dict[str, str]] = None
                  ) -> Tuple[subprocess.CompletedProcess, List["Stream"]]:
    """Runs `python -m tracelens run --connect SERVER [options] -- target` against a Collector;
    returns (process, one Stream per connection in the order they connected)."""
    collector = Collector()
    args = ["-m", "tracelens", "run", "--connect", collector.address] + list(options)
    if target and target[0] != "-m":
        args.append("--")
    proc = run_python(args + list(target), cwd=cwd,
                      env=env or tracer_env({"TRACELENS_TOKEN": "test-token"}))
    return proc, [Stream(m) for m in collector.close()]


class Stream:
    """One connection's messages, with the definitions resolved."""

    def __init__(self, messages: List[Dict[str, Any]]) -> None:
        self.messages = messages
        self.hello = messages[0] if messages and messages[0]["t"] == "hello" else None
        self.strings: Dict[int, str] = {}
        self.codes: Dict[int, List[Any]] = {}
        self.files: Dict[int, str] = {}
        self.threads: Dict[int, str] = {}
        self.events: List[List[Any]] = []
        self.lines: List[Dict[str, Any]] = []
        self.dropped = 0
        for m in messages:
            if m["t"] == "batch":
                self.strings.update({s[0]: s[1] for s in m["strings"]})
                self.codes.update({c[0]: c for c in m["codes"]})
                self.files.update({f[0]: f[1] for f in m["files"]})
                self.threads.update({t[0]: t[2] for t in m["threads"]})
                self.events.extend(m["events"])
                self.dropped += m["dropped"]
            elif m["t"] == "lines":
                self.lines.append(m)
        self.end = messages[-1] if messages and messages[-1]["t"] == "end" else None

    def name(self, code: int) -> str:
        return self.codes[code][3] if code else ""

    def text(self, sid: int) -> str:
        return self.strings[sid]

    def described(self, kinds: Optional[Sequence[int]] = None) -> List[Tuple[Any, ...]]:
        """Events as (kind, qualname, details...) with string ids replaced by their text; times
        and thread ids left out."""
        out: List[Tuple[Any, ...]] = []
        for e in self.events:
            k = e[0]
            if kinds is not None and k not in kinds:
                continue
            name = self.name(e[2])
            if k == 1:
                out.append((k, name) + tuple(self.text(s) for s in e[4:]))
            elif k in (2, 6):
                out.append((k, name, e[4], self.text(e[5])))
            elif k in (3, 4, 5):
                out.append((k, name, e[4], self.text(e[5]), self.text(e[6])))
            elif k == 8:
                out.append((k, name, e[4], self.text(e[5]), self.text(e[6])))
            elif k == 9:
                out.append((k, name, self.text(e[4])))
            else:
                out.append((k, name))
        return out
