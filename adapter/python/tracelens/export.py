# `python -m tracelens export --chrome FILE OUT.json`: a trace file (schema.sql) as Chrome trace
# event JSON, which Perfetto and chrome://tracing open: one complete ("X") event per call (C
# calls and generator segments included), instant events for exceptions and probes, process and
# thread names as metadata. Reads the trace file only; writes OUT only.
from __future__ import annotations

import json
import os
import sqlite3
import sys
from typing import Any, Dict, List

from .wire import STRUCTURED_PREFIX

__all__ = ["export_command", "chrome_events", "EXPORT_HELP", "open_trace", "TraceFileError"]

EXPORT_HELP = """\
usage: python -m tracelens export --chrome FILE OUT.json

Converts the trace file FILE to OUT.json in the Chrome trace event format (open it in
https://ui.perfetto.dev or chrome://tracing): one slice per call with its arguments, return
value or exception; instants for exceptions raised, caught or propagated, and for probes; each
traced process and thread named. Times are in microseconds from the trace's start.

options:
  --chrome      the Chrome trace event format (the only format for now)
  -h, --help    show this help and exit
"""

_EXC = {3: "raised", 4: "propagated", 5: "handled"}


class TraceFileError(Exception):
    """FILE is missing, unreadable or not a Tracelens trace file."""


def open_trace(path: str) -> sqlite3.Connection:
    """Opens a trace file read-only; raises TraceFileError with a clear message."""
    if not os.path.exists(path):
        raise TraceFileError("no such trace file: %s" % path)
    if not os.path.isfile(path) or not os.access(path, os.R_OK):
        raise TraceFileError("cannot read %s (not a readable file)" % path)
    try:
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        meta = dict(db.execute("SELECT key, value FROM meta"))
    except sqlite3.Error as exc:
        raise TraceFileError("cannot read %s as a Tracelens trace file: %s" % (path, exc)) from None
    if meta.get("format") != "tracelens":
        db.close()
        raise TraceFileError("cannot read %s as a Tracelens trace file: its meta format is %r"
                             % (path, meta.get("format")))
    return db


def _shown(text: Any) -> Any:
    # A structured value (wire.STRUCTURED_PREFIX + JSON) is exported as its repr ("r").
    if not isinstance(text, str) or not text.startswith(STRUCTURED_PREFIX):
        return text
    try:
        snap = json.loads(text[1:])
    except ValueError:
        return text[1:]
    r = snap.get("r") if isinstance(snap, dict) else None
    return r if isinstance(r, str) else text[1:]


def chrome_events(db: sqlite3.Connection) -> List[Dict[str, Any]]:
    strings = {sid: _shown(t) for sid, t in db.execute("SELECT id, text FROM strings")}
    codes = {r[0]: r[1:] for r in db.execute("SELECT id, module, qualname, file, line, argnames "
                                             "FROM codes")}
    files = dict(db.execute("SELECT id, path FROM files"))
    pids = {}
    out: List[Dict[str, Any]] = []
    for pid_row in db.execute("SELECT id, pid, argv FROM processes ORDER BY id"):
        pids[pid_row[0]] = pid_row[1]
        try:
            argv = " ".join(json.loads(pid_row[2] or "[]"))
        except ValueError:
            argv = ""
        out.append({"name": "process_name", "ph": "M", "pid": pid_row[1], "tid": 0,
                    "args": {"name": ("python %s" % argv).strip()}})
    tids = {}
    for tid, process, native, name in db.execute(
            "SELECT id, process, native_id, name FROM threads ORDER BY id"):
        tids[tid] = native or tid
        out.append({"name": "thread_name", "ph": "M", "pid": pids.get(process, process),
                    "tid": native or tid, "args": {"name": name or "thread %d" % tid}})

    def text(sid: Any) -> Any:
        return None if sid is None else strings.get(sid)

    def us(ns: int) -> float:
        return ns / 1000.0

    last_end = db.execute("SELECT MAX(COALESCE(end_ns, start_ns)) FROM calls").fetchone()[0] or 0
    for (cid, process, thread, code, start, end, args, value, exc_type, exc_message, flags,
         task) in db.execute(
            "SELECT id, process, thread, code, start_ns, end_ns, args, return_value, exc_type, "
            "exc_message, flags, task FROM calls ORDER BY start_ns, id"):
        c = codes.get(code)
        name = c[1] if c else "?"
        ev_args: Dict[str, Any] = {}
        if c is not None:
            if c[2]:
                ev_args["file"] = "%s:%d" % (files.get(c[2], "?"), c[3])
            ev_args["module"] = c[0]
            if args:
                names = json.loads(c[4] or "[]")
                values = [text(s) for s in json.loads(args)]
                ev_args["args"] = dict(zip(names, values))
        if value is not None:
            ev_args["return" if not flags & 2 else "yield"] = text(value)
        if exc_type is not None:
            ev_args["exception"] = "%s: %s" % (text(exc_type), text(exc_message))
        if task is not None:
            ev_args["task"] = text(task)
        if end is None:
            ev_args["unfinished"] = True
        out.append({"name": name, "cat": "c" if flags & 8 else "python", "ph": "X",
                    "ts": us(start), "dur": us((end if end is not None else last_end) - start),
                    "pid": pids.get(process, process), "tid": tids.get(thread, thread),
                    "args": ev_args})
    for kind, ts, line, etype, message, process, thread, code in db.execute(
            "SELECT e.kind, e.ts_ns, e.line, e.type, e.message, c.process, c.thread, c.code "
            "FROM exceptions e JOIN calls c ON c.id = e.call ORDER BY e.ts_ns"):
        c = codes.get(code)
        out.append({"name": "%s %s" % (text(etype), _EXC.get(kind, "exception")), "ph": "i",
                    "s": "t", "ts": us(ts), "pid": pids.get(process, process),
                    "tid": tids.get(thread, thread), "cat": "exception",
                    "args": {"message": text(message), "line": line,
                             "function": c[1] if c else "?"}})
    for process, thread, ts, name, detail, file, line in db.execute(
            "SELECT process, thread, ts_ns, name, detail, file, line FROM probes ORDER BY ts_ns"):
        out.append({"name": name, "ph": "i", "s": "t", "ts": us(ts), "cat": "probe",
                    "pid": pids.get(process, process), "tid": tids.get(thread, thread),
                    "args": {"detail": text(detail),
                             "where": "%s:%s" % (files.get(file, "?"), line) if file else None}})
    return out


def export_command(args: List[str]) -> int:
    fmt = None
    paths: List[str] = []
    for a in args:
        if a in ("-h", "--help"):
            sys.stdout.write(EXPORT_HELP)
            return 0
        if a == "--chrome":
            fmt = "chrome"
        elif a.startswith("-"):
            sys.stderr.write("tracelens: unknown option %r\nTry 'python -m tracelens export "
                             "--help' for the options.\n" % a)
            return 2
        else:
            paths.append(a)
    if fmt is None:
        sys.stderr.write("tracelens: export needs a format: --chrome\n")
        return 2
    if len(paths) != 2:
        sys.stderr.write("tracelens: export needs a trace file and an output file "
                         "(python -m tracelens export --chrome FILE OUT.json)\n")
        return 2
    source, target = paths
    try:
        db = open_trace(source)
    except TraceFileError as exc:
        sys.stderr.write("tracelens: %s\n" % exc)
        return 2
    try:
        events = chrome_events(db)
    except sqlite3.Error as exc:
        sys.stderr.write("tracelens: cannot read %s as a Tracelens trace file: %s\n" % (source, exc))
        return 2
    finally:
        db.close()
    try:
        with open(target, "w", encoding="utf-8") as f:
            json.dump({"traceEvents": events, "displayTimeUnit": "ns",
                       "otherData": {"source": "tracelens", "trace": os.path.abspath(source)}},
                      f, ensure_ascii=False)
    except OSError as exc:
        sys.stderr.write("tracelens: cannot write %s: %s\n" % (target, exc.strerror or exc))
        return 2
    return 0
