# `python -m tracelens stats [--json] FILE`: per-function calls, total and own time of a trace
# file (SQLite, schema.sql). Reads the file only; never writes it.
from __future__ import annotations

import json
import os
import sqlite3
import sys
from typing import Any, Dict, List

__all__ = ["stats_command", "function_stats"]


def function_stats(path: str) -> List[Dict[str, Any]]:
    """Rows of {module, function, file, line, calls, total_ns, own_ns}, largest own time first."""
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        meta = dict(db.execute("SELECT key, value FROM meta"))
        if meta.get("format") != "tracelens":
            raise ValueError("not a Tracelens trace file (meta format is %r)" % meta.get("format"))
        calls = db.execute("SELECT id, parent, code, start_ns, end_ns, flags FROM calls "
                           "ORDER BY id").fetchall()
        codes = {row[0]: row[1:] for row in db.execute(
            "SELECT codes.id, module, qualname, files.path, line FROM codes "
            "JOIN files ON files.id = codes.file")}
    finally:
        db.close()
    info = {c[0]: c for c in calls}
    child_time: Dict[int, int] = {}
    for cid, parent, code, start, end, flags in calls:
        if parent is not None and end is not None:
            child_time[parent] = child_time.get(parent, 0) + (end - start)
    out: Dict[int, Dict[str, Any]] = {}
    for cid, parent, code, start, end, flags in calls:
        c = codes.get(code)
        if c is None:
            continue
        row = out.get(code)
        if row is None:
            row = out[code] = {"module": c[0], "function": c[1], "file": c[2], "line": c[3],
                               "calls": 0, "total_ns": 0, "own_ns": 0}
        if not flags & 1:
            row["calls"] += 1
        if end is None:
            continue
        duration = end - start
        row["own_ns"] += duration - child_time.get(cid, 0)
        # Total time counts a recursive call once: skip calls with an ancestor of the same code.
        p = parent
        nested = False
        while p is not None:
            anc = info.get(p)
            if anc is None:
                break
            if anc[2] == code:
                nested = True
                break
            p = anc[1]
        if not nested:
            row["total_ns"] += duration
    return sorted(out.values(), key=lambda r: (-r["own_ns"], r["function"]))


def stats_command(args: List[str], help_text: str) -> int:
    as_json = False
    files = []
    for a in args:
        if a in ("-h", "--help"):
            sys.stdout.write(help_text)
            return 0
        if a == "--json":
            as_json = True
        elif a.startswith("-"):
            sys.stderr.write("tracelens: unknown option %r\nTry 'python -m tracelens stats --help' "
                             "for the options.\n" % a)
            return 2
        else:
            files.append(a)
    if len(files) != 1:
        sys.stderr.write("tracelens: stats needs exactly one trace file\n")
        return 2
    path = files[0]
    from .export import TraceFileError, open_trace
    try:
        open_trace(path).close()
        rows = function_stats(path)
    except TraceFileError as exc:
        sys.stderr.write("tracelens: %s\n" % exc)
        return 2
    except (sqlite3.Error, ValueError) as exc:
        sys.stderr.write("tracelens: cannot read %s as a Tracelens trace file: %s\n" % (path, exc))
        return 2
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=1) + "\n")
        return 0
    sys.stdout.write("%10s %14s %14s  %s\n" % ("calls", "total_ms", "own_ms", "function"))
    for r in rows:
        sys.stdout.write("%10d %14.3f %14.3f  %s (%s:%d)\n" % (
            r["calls"], r["total_ns"] / 1e6, r["own_ns"] / 1e6, r["function"],
            os.path.basename(r["file"]), r["line"]))
    return 0
