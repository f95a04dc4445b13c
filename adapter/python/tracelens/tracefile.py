# Writes a trace file (SQLite, schema.sql) from the wire messages of traced processes: pairs
# call/return/unwind/yield/resume (and C call) events into `calls` rows with a per-thread stack,
# keeps every exception event in `exceptions`, probes in `probes`, `lines` figures in
# `line_stats`, and asyncio task names in calls.task. The first process is `send`; child processes
# get their own sink from child_sink() (their wire ids are moved into a range of their own).
# Used by `run --output`; reads nothing but the messages. The pairing loop runs in C when the
# accelerator is loaded, and the calls rows are then written as SQLite pages by the accelerator's
# TableWriter (the file stays valid after every batch); TRACELENS_ACCEL=0: this file's loop and
# SQL inserts, the reference.
from __future__ import annotations

import os
import sqlite3
import threading
from itertools import chain

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up time
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Tuple

from .wire import json_text, unpack_events

__all__ = ["TraceFileWriter", "SCHEMA_VERSION", "read_schema", "ID_RANGE"]

SCHEMA_VERSION = 1
_HERE = os.path.dirname(os.path.abspath(__file__))
#: Process n's string, code and thread ids are its wire ids + (n - 1) * ID_RANGE (exact in JS).
ID_RANGE = 1 << 40


def read_schema() -> str:
    with open(os.path.join(_HERE, "schema.sql"), encoding="utf-8") as f:
        return f.read()


def split_schema(schema: str) -> Tuple[str, str]:
    """The schema without its (one-line) CREATE INDEX statements, and those statements."""
    tables: List[str] = []
    indexes: List[str] = []
    for line in schema.splitlines():
        if line.upper().startswith("CREATE INDEX") and line.rstrip().endswith(";"):
            indexes.append(line)
        else:
            tables.append(line)
    return "\n".join(tables), "\n".join(indexes)


# A call that has started and not ended yet: a tuple (no object built per call)
#   (id, code, start, parent, depth, args, flags, task)
_ID, _CODE, _START, _PARENT, _DEPTH, _ARGS, _FLAGS, _TASK = range(8)
_Open = tuple

#: Most rows per INSERT of plain calls: one statement (one sqlite3_step, during which the GIL
#: is free) per this many rows costs a third less than a statement per row, and the writer no
#: longer hands the GIL to the program (and waits a switch interval for it) at every row.
ROWS_PER_INSERT = 256

#: The args text of a call event of n elements (n - 4 argument string ids), by n: "[%d,%d]"...
_ARGS_FORMATS = ["", "", "", "", "[]"] + ["[" + ",".join(["%d"] * n) + "]" for n in range(1, 13)]
_MAX_FORMAT = len(_ARGS_FORMATS)

#: The calls columns, in the order of a full row.
_CALL_COLUMNS = ("id, process, thread, parent, depth, code, start_ns, end_ns, args, return_value, "
                 "return_line, exc_type, exc_message, exc_line, flags, task")


class _Process:
    """One traced process's state in the file."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.offset = (number - 1) * ID_RANGE
        self.stacks: Dict[int, List[_Open]] = {}
        self.files: Dict[int, int] = {}       # wire file id -> files.id
        self.code_files: Dict[int, int] = {}  # wire code id -> files.id (0: C function)
        self.tasks: Dict[int, tuple] = {}     # thread -> (code, task string id) for the next call
        self.dropped = 0
        self.error: Optional[str] = None
        self.last_ts = 0
        self.ended = False
        self.hello = False
        self.shift = 0  # ns from the file's origin to this process's start
        self.args1: Dict[int, str] = {}  # wire string id -> args text of a one-argument call


#: Calls that returned or yielded with no exception and no task (TraceFileWriter.plain): 11
#: columns bound, the process a literal (binding costs most of an insert; NULLs are not bound).
_PLAIN_HEAD = ("INSERT INTO calls (id, process, thread, parent, depth, code, start_ns, end_ns, "
               "args, return_value, return_line, flags) VALUES ")
_PLAIN_VALUES = "(?, %d, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def _accelerated_pair(name: str = "pair") -> Optional[Callable[..., Any]]:
    """The accelerator's `pair` (the _events loop in C) or `pair_packed`, or None."""
    from . import accel
    return getattr(accel.load(), name, None)


def _table_writer(db: Any, path: str) -> Optional[Tuple[Any, int]]:
    """The accelerator's writer of the calls table's pages for this (new, empty) file and the
    descriptor it writes to, or None (no accelerator, or a page layout it does not write:
    auto-vacuum, an odd page size). TRACELENS_PAGES=0 leaves the rows to SQL inserts."""
    from . import accel
    cls = getattr(accel.load(), "TableWriter", None)
    if cls is None or os.environ.get("TRACELENS_PAGES", "") == "0":
        return None
    if db.execute("PRAGMA auto_vacuum").fetchall()[0][0] != 0:
        return None
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 'calls'"
                      ).fetchall()[0][0]
    page_size = db.execute("PRAGMA page_size").fetchall()[0][0]
    db.commit()
    with open(path, "rb") as f:
        header = f.read(100)
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        return None
    fd = os.open(path, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
    try:
        return cls(fd, page_size, header[20], root, header[44]), fd
    except (ValueError, OSError):
        os.close(fd)
        return None


def _variable_limit(db: Any) -> int:
    """How many values SQLite binds in one statement."""
    try:
        return int(db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))  # Python 3.11+
    except AttributeError:
        return 32766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999


class TraceFileWriter:
    """A wire sink that turns the messages of one process (and its children) into a trace file."""

    def __init__(self, path: str) -> None:
        self.path = path
        if os.path.exists(path):
            os.remove(path)
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;")
        # Tables now, indexes when the file is closed: building them once over all rows costs
        # half of keeping them up to date row by row (a file cut short by os._exit has none).
        tables, self._indexes = split_schema(read_schema())
        self.db.executescript(tables)
        self.next_call = 1
        self.rows: List[tuple] = []   # calls rows, every column
        self.plain: List[tuple] = []  # calls rows of _insert_plain (11 columns)
        self._variables = _variable_limit(self.db)
        self._inserts: Dict[Tuple[str, str, int], str] = {}  # see _insert_many
        self.exceptions: List[tuple] = []
        self.probes: List[tuple] = []
        self.closed = False
        self._lock = threading.Lock()
        self._processes: List[_Process] = []
        self.main = self._new_process()
        #: The C accelerator's copy of the _events loop (None: off or not built; this loop then).
        self._pair: Optional[Callable[..., int]] = _accelerated_pair()
        self._pair_packed: Optional[Callable[..., Any]] = (
            _accelerated_pair("pair_packed") if self._pair is not None else None)
        #: The C writer of the calls table's pages (None: rows go in with SQL inserts).
        pages = _table_writer(self.db, path) if self._pair is not None else None
        self._pages: Any = pages[0] if pages else None
        self._pages_fd: Optional[int] = pages[1] if pages else None
        self._long: Dict[int, tuple] = {}  # rows the page writer left to SQL (full rows, by id)
        self.pages_error: Optional[str] = None

    def _new_process(self) -> _Process:
        p = _Process(len(self._processes) + 1)
        self._processes.append(p)
        return p

    # -- wire messages ----------------------------------------------------------------------------
    def send(self, message: Dict[str, Any]) -> None:
        """The first (traced) process's messages."""
        self._handle(self.main, message)

    def child_sink(self) -> Callable[[Dict[str, Any]], None]:
        """A sink for one more process (a child connecting back): its messages only."""
        with self._lock:
            p = self._new_process()

        def send(message: Dict[str, Any]) -> None:
            self._handle(p, message)
        return send

    def _handle(self, p: _Process, message: Dict[str, Any]) -> None:
        with self._lock:
            if self.closed:
                return
            kind = message["t"]
            if kind == "hello":
                self.hello(p, message)
            elif kind == "batch":
                self.batch(p, message)
            elif kind == "lines":
                self.lines(p, message)
            elif kind == "error":
                p.error = message["message"]
                self.db.execute("UPDATE processes SET error = ? WHERE id = ?", (p.error, p.number))
                self.db.commit()
            elif kind == "end":
                self._end_process(p, message)
                self.db.commit()

    def hello(self, p: _Process, m: Dict[str, Any]) -> None:
        db = self.db
        p.hello = True
        if p.number == 1:
            self.origin_ns = m["start_ns"]
            db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [
                ("format", "tracelens"), ("schema_version", str(SCHEMA_VERSION)),
                ("origin_ns", str(m["start_ns"])), ("created_by", "tracelens (Python)")])
        # Times are per process since its own start; the file's origin is the first process's.
        p.shift = m["start_ns"] - getattr(self, "origin_ns", m["start_ns"])
        db.execute("INSERT INTO processes (id, pid, ppid, python, backend, argv, cwd, start_ns) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   (p.number, m["pid"], m["ppid"], m["python"], m["backend"],
                    json_text(m["argv"], ensure_ascii=False, compact=False), m["cwd"], p.shift))
        db.commit()

    def batch(self, p: _Process, m: Dict[str, Any]) -> None:
        db = self.db
        n = p.number
        off = p.offset
        if m["strings"]:
            self._insert_many("INSERT OR REPLACE INTO strings (id, text) VALUES ", "(?, ?)", 2,
                              m["strings"] if not off else [(s[0] + off, s[1])
                                                            for s in m["strings"]])
        for fid, path in m["files"]:
            db.execute("INSERT OR IGNORE INTO files (path) VALUES (?)", (path,))
            p.files[fid] = db.execute("SELECT id FROM files WHERE path = ?", (path,)).fetchall()[0][0]
        if m["codes"]:
            rows = []
            for c in m["codes"]:
                file = p.files.get(c[1], 0) if c[1] else 0
                p.code_files[c[0]] = file
                rows.append((c[0] + off, n, file, c[2], c[3], c[4], json_text(c[5], compact=False), c[6]))
            db.executemany(
                "INSERT INTO codes (id, process, file, module, qualname, line, argnames, flags) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        if m["threads"]:
            db.executemany("INSERT INTO threads (id, process, native_id, name) VALUES (?, ?, ?, ?)",
                           [(t[0] + off, n, t[1], t[2]) for t in m["threads"]])
        p.dropped += m["dropped"]
        self._events(p, m["events"])
        packed = m.get("packed")
        if packed:
            self._packed(p, packed)
        self._write_rows(p)
        db.commit()  # what was sent survives os._exit and kills

    def _events(self, p: _Process, events: List[List[int]]) -> None:
        """The hot loop: calls, resumes and the returns/yields of the innermost open call inline
        (the same rows as _event and _row: keep them in step); other events go to _event.
        _speedups.c's `pair` does the same loop in C when the accelerator is loaded."""
        if not events:
            return
        if self._pair is not None:
            self.next_call = self._pair(self, p, events, p.stacks, p.tasks, self.plain, self.rows,
                                        p.number, p.offset, p.shift, self.next_call)
            p.last_ts = events[-1][3]
            return
        stacks = p.stacks
        tasks = p.tasks
        args1 = p.args1
        plain = self.plain.append
        wide = self.rows.append
        n, off, shift = p.number, p.offset, p.shift
        next_call = self.next_call
        slow = self._event
        for ev in events:
            kind = ev[0]
            if kind == 2 or kind == 6:
                thread = ev[1]
                stack = stacks.get(thread)
                if stack:
                    c = stack[-1]
                    if c[1] == ev[2]:
                        del stack[-1]
                        if c[7] is None:
                            plain((c[0], thread + off, c[3], c[4], c[1] + off, c[2] + shift,
                                   ev[3] + shift, c[5], ev[5] + off, ev[4],
                                   c[6] | 2 if kind == 6 else c[6]))
                        else:
                            wide((c[0], n, thread + off, c[3], c[4], c[1] + off, c[2] + shift,
                                  ev[3] + shift, c[5], ev[5] + off, ev[4], None, None, None,
                                  c[6] | 2 if kind == 6 else c[6], c[7] + off))
                        continue
            elif (kind == 1 or kind == 7) and not tasks:
                thread = ev[1]
                stack = stacks.get(thread)
                if stack is None:
                    stack = stacks[thread] = []
                if kind == 7:
                    stack.append((next_call, ev[2], ev[3], stack[-1][0] if stack else None,
                                  len(stack), None, 1, None))
                else:
                    k = len(ev)
                    if k == 5:
                        sid = ev[4]
                        args = args1.get(sid)
                        if args is None:
                            if len(args1) > 100_000:
                                args1.clear()
                            args = args1[sid] = "[%d]" % (sid + off)
                    elif off:
                        args = "[" + ",".join([str(s + off) for s in ev[4:]]) + "]"
                    elif k == 6:
                        args = "[%d,%d]" % (ev[4], ev[5])
                    elif k < _MAX_FORMAT:
                        args = _ARGS_FORMATS[k] % tuple(ev[4:])
                    else:
                        args = "[" + ",".join(map(str, ev[4:])) + "]"
                    stack.append((next_call, ev[2], ev[3], stack[-1][0] if stack else None,
                                  len(stack), args, 0, None))
                next_call += 1
                continue
            self.next_call = next_call
            slow(p, ev)
            next_call = self.next_call
        self.next_call = next_call
        p.last_ts = events[-1][3]

    def _packed(self, p: _Process, data: bytes) -> None:
        """Packed events (wire.pack_events): the accelerator's pair_packed, or _events over
        them decoded."""
        if self._pair_packed is not None:
            # The page writer keeps the plain rows itself (no tuple each) until it places them.
            self.next_call, last = self._pair_packed(
                self, p, data, p.stacks, p.tasks, self.plain, self.rows, p.number, p.offset,
                p.shift, self.next_call, self._pages if self.pages_error is None else None)
            if last is not None:
                p.last_ts = last
            return
        self._events(p, unpack_events(data))

    def _event(self, p: _Process, ev: List[int]) -> None:
        kind, thread, code, ts = ev[0], ev[1], ev[2], ev[3]
        p.last_ts = ts
        stack = p.stacks.get(thread)
        if stack is None:
            stack = p.stacks[thread] = []
        if kind == 1 or kind == 7 or kind == 10:
            parent = stack[-1][_ID] if stack else None
            task = None
            if p.tasks:
                pending = p.tasks.pop(thread, None)
                if pending is not None and pending[0] == code:
                    task = pending[1]
            if kind == 1:
                # The JSON array of string ids, built directly (same text as json.dumps, compact).
                if p.offset:
                    args: Optional[str] = "[" + ",".join(str(s + p.offset) for s in ev[4:]) + "]"
                else:
                    args = "[" + ",".join(map(str, ev[4:])) + "]"
                flags = 0
            elif kind == 7:
                args, flags = None, 1
            else:
                args, flags = "[]", 8
            stack.append((self.next_call, code, ts, parent, len(stack), args, flags, task))
            self.next_call += 1
        elif kind == 2 or kind == 6:
            top = self._pop_to(p, stack, code, ts, thread)
            if top is not None:
                flags = top[_FLAGS] | (2 if kind == 6 else 0)
                self._row(p, thread, top, ts, ev[5] + p.offset, ev[4], None, None, None, flags)
        elif kind == 11:
            top = self._pop_to(p, stack, code, ts, thread)
            if top is not None:
                self._row(p, thread, top, ts, None, None, None, None, None, top[_FLAGS])
        elif kind == 4:
            owner = self._find(stack, code)
            if owner is not None:
                self.exceptions.append((owner[_ID], 4, ts + p.shift, ev[4], ev[5] + p.offset,
                                        ev[6] + p.offset))
            top = self._pop_to(p, stack, code, ts, thread)
            if top is not None:
                self._row(p, thread, top, ts, None, None, ev[5] + p.offset, ev[6] + p.offset,
                          ev[4], top[_FLAGS] | 4)
        elif kind == 3 or kind == 5:
            owner = self._find(stack, code)
            if owner is not None:
                self.exceptions.append((owner[_ID], kind, ts + p.shift, ev[4], ev[5] + p.offset,
                                        ev[6] + p.offset))
        elif kind == 9:
            p.tasks[thread] = (code, ev[4])
        elif kind == 8:
            owner = stack[-1][_ID] if stack else None
            file = p.code_files.get(code) if code else None
            self.probes.append((p.number, thread + p.offset, owner, ts + p.shift, ev[5] + p.offset,
                                ev[6] + p.offset, file or None, ev[4] or None))

    @staticmethod
    def _find(stack: List[_Open], code: int) -> Optional[_Open]:
        for entry in reversed(stack):
            if entry[_CODE] == code:
                return entry
        return None

    def _pop_to(self, p: _Process, stack: List[_Open], code: int, ts: int,
                thread: int) -> Optional[_Open]:
        """Pops the innermost open call of `code`; calls above it (their end was dropped) end too."""
        if stack and stack[-1][_CODE] == code:
            return stack.pop()
        if self._find(stack, code) is None:
            return None
        while stack:
            top = stack.pop()
            if top[_CODE] == code:
                return top
            self._row(p, thread, top, ts, None, None, None, None, None, top[_FLAGS])
        return None

    def _row(self, p: _Process, thread: int, c: _Open, end: Optional[int], value: Optional[int],
             line: Optional[int], exc_type: Optional[int], exc_message: Optional[int],
             exc_line: Optional[int], flags: int) -> None:
        off = p.offset
        shift = p.shift
        task = c[_TASK]
        self.rows.append((c[_ID], p.number, thread + off, c[_PARENT], c[_DEPTH], c[_CODE] + off,
                          c[_START] + shift, None if end is None else end + shift, c[_ARGS],
                          value, line, exc_type, exc_message, exc_line, flags,
                          None if task is None else task + off))

    def _running_rows(self, since: int) -> List[tuple]:
        """Full calls rows (end missing) of the calls still running whose id is `since` or more,
        sorted by id: every process's stacks, each in id order from the bottom."""
        out: List[tuple] = []
        for q in self._processes:
            off, shift, n = q.offset, q.shift, q.number
            for thread, stack in q.stacks.items():
                for i in range(len(stack) - 1, -1, -1):
                    c = stack[i]
                    if c[_ID] < since:
                        break
                    task = c[_TASK]
                    out.append((c[_ID], n, thread + off, c[_PARENT], c[_DEPTH], c[_CODE] + off,
                                c[_START] + shift, None, c[_ARGS], None, None, None, None, None,
                                c[_FLAGS], None if task is None else task + off))
        out.sort()
        return out

    def _write_pages(self, p: _Process) -> None:
        """The calls rows of this batch (and the calls still running) as pages. When the page
        writer fails, pages_error says why and this batch's rows (as every later one) go in
        with SQL."""
        pages = self._pages
        self.plain.sort()
        self.rows.sort()
        self.db.commit()  # SQLite's transaction ends before the pages and the header change
        try:
            left = pages.place(self.plain, self.rows, self._running_rows(pages.placed), p.number)
        except Exception as exc:
            self.pages_error = "%s: %s" % (type(exc).__name__, exc)
            self._pages = None
            take = getattr(pages, "take_pending", None)
            if take is not None:
                self.plain.extend(take())  # the rows it kept go in with SQL too
            return
        for row in left:
            row = _full_row(row, p.number)
            self._long[row[0]] = row
        self.plain = []
        self.rows = []

    def _write_rows(self, p: _Process) -> None:
        db = self.db
        if self._pages is not None and (self.plain or self.rows or getattr(self._pages, "pending", 0)
                                        or self.next_call > self._pages.placed):
            self._write_pages(p)
        if self.pages_error is not None and (self.plain or self.rows):
            # After the page writer stopped: rows it wrote (running calls) may come again.
            self._insert_rows("INSERT OR REPLACE",
                              [_full_row(r, p.number) for r in self.plain] + self.rows)
            self.plain = []
            self.rows = []
        if self.plain:
            self.plain.sort()  # by call id: appended at the end of the table's b-tree
            self._insert_many(_PLAIN_HEAD, _PLAIN_VALUES % p.number, 11, self.plain)
            self.plain = []
        if self.rows:
            self._insert_rows("INSERT", self.rows)
            self.rows = []
        if self.exceptions:
            self._insert_many("INSERT INTO exceptions (call, kind, ts_ns, line, type, message) "
                              "VALUES ", "(?, ?, ?, ?, ?, ?)", 6, self.exceptions)
            self.exceptions = []
        if self.probes:
            db.executemany(
                "INSERT INTO probes (process, thread, call, ts_ns, name, detail, file, line) "
                "VALUES (?, ?, ?, ?, (SELECT text FROM strings WHERE id = ?), ?, ?, ?)",
                self.probes)
            self.probes = []

    def _insert_rows(self, verb: str, rows: List[tuple]) -> None:
        rows.sort()
        self.db.executemany("%s INTO calls (%s) VALUES (%s)"
                            % (verb, _CALL_COLUMNS, ", ".join("?" * 16)), rows)

    def _insert_many(self, head: str, values: str, width: int, rows: List[Any]) -> None:
        """Inserts rows of `width` values: `head` then `values` once per row, up to
        ROWS_PER_INSERT rows per statement (the same rows as one statement per row)."""
        k = max(1, min(ROWS_PER_INSERT, self._variables // width))
        full = len(rows) - len(rows) % k if k > 1 else 0
        if full:
            self.db.executemany(self._insert_sql(head, values, k), (
                tuple(chain.from_iterable(rows[i:i + k])) for i in range(0, full, k)))
        if full < len(rows):
            self.db.executemany(self._insert_sql(head, values, 1), rows[full:])

    def _insert_sql(self, head: str, values: str, rows: int) -> str:
        sql = self._inserts.get((head, values, rows))
        if sql is None:
            sql = self._inserts[(head, values, rows)] = head + ", ".join([values] * rows)
        return sql

    def lines(self, p: _Process, m: Dict[str, Any]) -> None:
        """Adds a `lines` message's deltas to line_stats (per process, file, line, sampled)."""
        sampled = 1 if m.get("sampled") else 0
        rows = []
        for fid, line, hits, own, total in m["stats"]:
            file = p.files.get(fid)
            if file is not None:
                rows.append((p.number, file, line, hits, own, total, sampled))
        if rows:
            self.db.executemany(
                "INSERT INTO line_stats (process, file, line, hits, own_ns, total_ns, sampled) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (process, file, line, sampled) DO UPDATE "
                "SET hits = hits + excluded.hits, own_ns = own_ns + excluded.own_ns, "
                "total_ns = total_ns + excluded.total_ns", rows)
            self.db.commit()

    def _end_process(self, p: _Process, m: Optional[Dict[str, Any]]) -> None:
        """Writes the process's calls still open (end_ns NULL) and its end."""
        if p.ended or not p.hello:
            return
        p.ended = True
        for thread, stack in p.stacks.items():
            for c in stack:
                self._row(p, thread, c, None, None, None, None, None, None, c[_FLAGS])
            stack.clear()
        self._write_rows(p)
        if m is not None:
            self.db.execute(
                "UPDATE processes SET end_ns = ?, exit_code = ?, end_reason = ?, dropped = ?, "
                "error = ? WHERE id = ?",
                (p.last_ts + p.shift, m.get("exit_code"), m.get("reason"), p.dropped, p.error,
                 p.number))
        else:
            self.db.execute("UPDATE processes SET dropped = ?, error = ? WHERE id = ?",
                            (p.dropped, p.error, p.number))

    def end(self, m: Optional[Dict[str, Any]]) -> None:
        """The first process ended (kept for callers of the single-process writer)."""
        with self._lock:
            if not self.closed:
                self._end_process(self.main, m)
                self.db.commit()

    def abandon(self) -> None:
        """Closes the file as it is, finishing nothing (it is written by another writer)."""
        with self._lock:
            self.closed = True
            self._pages = None
            if self._pages_fd is not None:
                os.close(self._pages_fd)
                self._pages_fd = None
            self.db.close()

    def close(self) -> None:
        """Ends every process still open and closes the file (later messages are ignored)."""
        with self._lock:
            if self.closed:
                return
            for p in self._processes:
                self._end_process(p, None)
            self.closed = True
            long_rows = sorted(self._long.values())
            if long_rows:
                # Rows longer than a page (the page writer's leftovers), into its b-tree with SQL.
                self._insert_rows("INSERT OR REPLACE", long_rows)
                self._long.clear()
            try:
                self._write_indexes(long_rows)
            finally:
                self._pages = None
                if self._pages_fd is not None:
                    os.close(self._pages_fd)
                    self._pages_fd = None
            self.db.commit()
            self.db.close()

    def _write_indexes(self, long_rows: List[tuple]) -> None:
        """The schema's indexes: those on calls (parent | code | thread, start_ns) built as pages by
        the page writer and entered in sqlite_master, when it wrote the rows; the others (and
        all of them otherwise) with CREATE INDEX."""
        statements = [s for s in self._indexes.splitlines() if s.strip()]
        ours: List[Tuple[str, int, str]] = []
        pages = self._pages if self.pages_error is None else None
        if pages is not None:
            columns = {"(parent,": 0, "(code,": 1, "(thread,": 2}
            for statement in statements:
                w = statement.split()
                if (len(w) == 10 and w[:6] == ["CREATE", "INDEX", "IF", "NOT", "EXISTS", w[5]]
                        and w[6:8] == ["ON", "calls"] and w[8] in columns
                        and w[9] == "start_ns);"):
                    # The statement as SQLite keeps it in sqlite_master.
                    ours.append((w[5], columns[w[8]],
                                 "CREATE INDEX %s ON calls %s %s" % (w[5], w[8], w[9][:-1])))
        names = {o[0] for o in ours}
        self.db.executescript("\n".join(s for s in statements if s.split()[5] not in names))
        if not ours:
            return
        with open(self.path, "rb") as f:
            header = f.read(100)
        try:
            pages.keep(long_rows, 0)
            built = pages.index_all([column for _name, column, _sql in ours])  # at once
            roots = [(name, root, sql) for (name, _column, sql), root in zip(ours, built)]
            db = self.db
            db.execute("PRAGMA writable_schema = ON")
            db.executemany("INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) "
                           "VALUES ('index', ?, 'calls', ?, ?)", roots)
            version = db.execute("PRAGMA schema_version").fetchall()[0][0]
            db.execute("PRAGMA schema_version = %d" % (version + 1))
            db.execute("PRAGMA writable_schema = OFF")
            db.commit()
        except Exception as exc:
            # Not allowed here (SQLite's defensive mode, say): the pages written go, SQL builds.
            self.pages_error = "indexes: %s: %s" % (type(exc).__name__, exc)
            try:
                self.db.rollback()
            except sqlite3.Error:
                pass
            _cut_back(self.path, header)
            self.db.executescript("\n".join(statements))


def _full_row(row: tuple, process: int) -> tuple:
    """A calls row with every column (a plain row has 11: no process, exception or task)."""
    if len(row) == 16:
        return row
    return (row[0], process) + row[1:10] + (None, None, None, row[10], None)


def _cut_back(path: str, header: bytes) -> None:
    """Puts the file back to the page count of `header` (pages appended after it go), with a
    changed change counter so that SQLite rereads it."""
    pages = int.from_bytes(header[28:32], "big")
    page_size = int.from_bytes(header[16:18], "big") or 65536
    counter = (int.from_bytes(header[24:28], "big") + 2) & 0xFFFFFFFF
    with open(path, "r+b") as f:
        f.seek(24)
        f.write(counter.to_bytes(4, "big") + pages.to_bytes(4, "big"))
        f.seek(92)
        f.write(counter.to_bytes(4, "big"))
        f.truncate(pages * page_size)
