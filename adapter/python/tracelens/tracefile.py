# Writes a trace file (SQLite, schema.sql) from the wire messages of one traced process: pairs
# call/return/unwind/yield/resume events into `calls` rows with a per-thread stack and keeps every
# exception event in `exceptions`. Used by `run --output`; reads nothing but the messages.
from __future__ import annotations

import json
import os
import sqlite3
import time
from typing import Any, Dict, List, Optional

__all__ = ["TraceFileWriter", "SCHEMA_VERSION", "read_schema"]

SCHEMA_VERSION = 1
_HERE = os.path.dirname(os.path.abspath(__file__))


def read_schema() -> str:
    with open(os.path.join(_HERE, "schema.sql"), encoding="utf-8") as f:
        return f.read()


class _Open:
    """A call that has started and not ended yet."""
    __slots__ = ("id", "code", "start", "parent", "depth", "args", "flags")

    def __init__(self, id: int, code: int, start: int, parent: Optional[int], depth: int,
                 args: Optional[str], flags: int) -> None:
        self.id, self.code, self.start, self.parent = id, code, start, parent
        self.depth, self.args, self.flags = depth, args, flags


class TraceFileWriter:
    """A wire sink that turns one process's messages into a trace file."""

    def __init__(self, path: str) -> None:
        self.path = path
        if os.path.exists(path):
            os.remove(path)
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;")
        self.db.executescript(read_schema())
        self.process = 1
        self.stacks: Dict[int, List[_Open]] = {}
        self.next_call = 1
        self.rows: List[tuple] = []
        self.exceptions: List[tuple] = []
        self.dropped = 0
        self.error: Optional[str] = None
        self.last_ts = 0
        self.closed = False

    # -- wire messages ----------------------------------------------------------------------------
    def send(self, message: Dict[str, Any]) -> None:
        kind = message["t"]
        if kind == "hello":
            self.hello(message)
        elif kind == "batch":
            self.batch(message)
        elif kind == "error":
            self.error = message["message"]
        elif kind == "end":
            self.end(message)

    def hello(self, m: Dict[str, Any]) -> None:
        db = self.db
        self.last_hello = m
        db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [
            ("format", "tracelens"), ("schema_version", str(SCHEMA_VERSION)),
            ("origin_ns", str(m["start_ns"])), ("created_by", "tracelens (Python)")])
        db.execute("INSERT INTO processes (id, pid, ppid, python, backend, argv, cwd, start_ns) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                   (self.process, m["pid"], m["ppid"], m["python"], m["backend"],
                    json.dumps(m["argv"], ensure_ascii=False), m["cwd"]))

    def batch(self, m: Dict[str, Any]) -> None:
        db = self.db
        p = self.process
        if m["strings"]:
            db.executemany("INSERT OR REPLACE INTO strings (id, text) VALUES (?, ?)", m["strings"])
        if m["files"]:
            db.executemany("INSERT OR IGNORE INTO files (id, path) VALUES (?, ?)", m["files"])
        if m["codes"]:
            db.executemany(
                "INSERT INTO codes (id, process, file, module, qualname, line, argnames, flags) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(c[0], p, c[1], c[2], c[3], c[4], json.dumps(c[5]), c[6]) for c in m["codes"]])
        if m["threads"]:
            db.executemany("INSERT INTO threads (id, process, native_id, name) VALUES (?, ?, ?, ?)",
                           [(t[0], p, t[1], t[2]) for t in m["threads"]])
        self.dropped += m["dropped"]
        for ev in m["events"]:
            self._event(ev)
        self._write_rows()
        db.commit()  # what was sent survives os._exit and kills

    def _event(self, ev: List[int]) -> None:
        kind, thread, code, ts = ev[0], ev[1], ev[2], ev[3]
        self.last_ts = ts
        stack = self.stacks.get(thread)
        if stack is None:
            stack = self.stacks[thread] = []
        if kind == 1 or kind == 7:
            parent = stack[-1].id if stack else None
            # The JSON array of string ids, built directly (same text as json.dumps, compact).
            args = "[" + ",".join(map(str, ev[4:])) + "]" if kind == 1 else None
            stack.append(_Open(self.next_call, code, ts, parent, len(stack), args,
                               0 if kind == 1 else 1))
            self.next_call += 1
        elif kind == 2 or kind == 6:
            top = self._pop_to(stack, code, ts, thread)
            if top is not None:
                flags = top.flags | (2 if kind == 6 else 0)
                self._row(thread, top, ts, ev[5], ev[4], None, None, None, flags)
        elif kind == 4:
            owner = self._find(stack, code)
            if owner is not None:
                self.exceptions.append((owner.id, 4, ts, ev[4], ev[5], ev[6]))
            top = self._pop_to(stack, code, ts, thread)
            if top is not None:
                self._row(thread, top, ts, None, None, ev[5], ev[6], ev[4], top.flags | 4)
        elif kind == 3 or kind == 5:
            owner = self._find(stack, code)
            if owner is not None:
                self.exceptions.append((owner.id, kind, ts, ev[4], ev[5], ev[6]))

    @staticmethod
    def _find(stack: List[_Open], code: int) -> Optional[_Open]:
        for entry in reversed(stack):
            if entry.code == code:
                return entry
        return None

    def _pop_to(self, stack: List[_Open], code: int, ts: int, thread: int) -> Optional[_Open]:
        """Pops the innermost open call of `code`; calls above it (their end was dropped) end too."""
        if stack and stack[-1].code == code:
            return stack.pop()
        if self._find(stack, code) is None:
            return None
        while stack:
            top = stack.pop()
            if top.code == code:
                return top
            self._row(thread, top, ts, None, None, None, None, None, top.flags)
        return None

    def _row(self, thread: int, c: _Open, end: Optional[int], value: Optional[int],
             line: Optional[int], exc_type: Optional[int], exc_message: Optional[int],
             exc_line: Optional[int], flags: int) -> None:
        self.rows.append((c.id, self.process, thread, c.parent, c.depth,
                          c.code, c.start, end, c.args, value, line, exc_type, exc_message,
                          exc_line, flags))

    def _write_rows(self) -> None:
        if self.rows:
            self.db.executemany(
                "INSERT INTO calls (id, process, thread, parent, depth, code, start_ns, end_ns, "
                "args, return_value, return_line, exc_type, exc_message, exc_line, flags) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", self.rows)
            self.rows = []
        if self.exceptions:
            self.db.executemany(
                "INSERT INTO exceptions (call, kind, ts_ns, line, type, message) "
                "VALUES (?, ?, ?, ?, ?, ?)", self.exceptions)
            self.exceptions = []

    def end(self, m: Optional[Dict[str, Any]]) -> None:
        """Writes the calls still open (end_ns NULL) and the process's end; closes the file."""
        if self.closed:
            return
        self.closed = True
        for thread, stack in self.stacks.items():
            for c in stack:
                self._row(thread, c, None, None, None, None, None, None, c.flags)
            stack.clear()
        self._write_rows()
        if m is not None:
            self.db.execute(
                "UPDATE processes SET end_ns = ?, exit_code = ?, end_reason = ?, dropped = ?, "
                "error = ? WHERE id = ?",
                (self.last_ts, m.get("exit_code"), m.get("reason"), self.dropped, self.error,
                 self.process))
        else:
            self.db.execute("UPDATE processes SET dropped = ?, error = ? WHERE id = ?",
                            (self.dropped, self.error, self.process))
        self.db.commit()
        self.db.close()

    def close(self) -> None:
        if not self.closed:
            self.end(None)
