# Writes the shared wire test vectors: for each case, NAME.json (the messages, as one JSON list)
# and NAME.bin (the same messages encoded as frames by tracelens/wire.py). Deterministic: run
# `python3 test/vectors/make_vectors.py` after a protocol change and commit both files.
# The Python test encodes the .json and compares bytes; the TypeScript test decodes the .bin.
from __future__ import annotations

import json
import os
import sys
from typing import Any, Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "adapter", "python"))

from tracelens import wire  # noqa: E402

__all__ = ["CASES", "write_all", "dump_json"]


def dump_json(messages: List[Dict[str, Any]]) -> str:
    return json.dumps(messages, separators=(",", ":"), ensure_ascii=False)


HELLO = {
    "t": "hello", "version": wire.WIRE_VERSION, "token": "0123456789abcdef0123456789abcdef",
    "pid": 4242, "ppid": 4241, "python": "3.12.1", "backend": "monitoring",
    "argv": ["/work/demo/hello.py", "--name", "ada"], "cwd": "/work/demo",
    # Real start_ns values exceed 2**53 and lose precision in JavaScript; the vectors stay below
    # so that both sides can re-encode what they decode byte for byte.
    "start_ns": 1700000000123456,
}

# What tracing test/fixtures/hello.py sends (times made round): <module> calls add(2, 3).
HELLO_RUN = [
    HELLO,
    {"t": "batch", "seq": 1,
     "strings": [[1, "2"], [2, "3"], [3, "5"]],
     "files": [[1, "/work/demo/hello.py"]],
     "codes": [[1, 1, "__main__", "<module>", 1, [], 0],
               [2, 1, "__main__", "add", 5, ["a", "b"], 0]],
     "threads": [[1, 4243, "MainThread"]],
     "events": [[1, 1, 1, 1000], [1, 1, 2, 2000, 1, 2], [2, 1, 2, 3000, 6, 3]],
     "dropped": 0},
    {"t": "batch", "seq": 2, "strings": [[4, "None"]], "files": [], "codes": [], "threads": [],
     "events": [[2, 1, 1, 9000, 9, 4]], "dropped": 0},
    {"t": "end", "exit_code": 0, "reason": "exit"},
]

# Every event kind and code flag, two threads, an exception's whole life, dropped records.
EVERY_KIND = [
    dict(HELLO, backend="settrace", python="3.11.7", argv=["-m", "app.main"]),
    {"t": "batch", "seq": 1,
     "strings": [[1, "[1, 2]"], [2, "{'k': 3}"], [3, "ValueError"], [4, "bad value: 7"],
                 [5, "7"], [6, "None"], [7, "app.errors.AppError"], [8, "wrapped"]],
     "files": [[1, "/work/app/main.py"], [2, "/work/app/gen.py"]],
     "codes": [[1, 1, "app.main", "main", 10, ["args", "kwargs"], 24],
               [2, 2, "app.gen", "numbers", 3, ["n"], 1],
               [3, 2, "app.gen", "fetch", 9, ["url"], 2],
               [4, 2, "app.gen", "stream", 15, [], 4]],
     "threads": [[1, 101, "MainThread"], [2, 102, "worker-1"]],
     "events": [[1, 1, 1, 10, 1, 2],
                [1, 1, 2, 20, 5],
                [6, 1, 2, 30, 4, 5],
                [7, 1, 2, 40],
                [3, 1, 2, 50, 5, 3, 4],
                [4, 1, 2, 60, 5, 3, 4],
                [5, 1, 1, 70, 12, 3, 4],
                [1, 2, 3, 75, 1],
                [6, 2, 3, 80, 11, 6],
                [3, 1, 1, 90, 13, 7, 8],
                [4, 1, 1, 100, 13, 7, 8]],
     "dropped": 3},
    {"t": "error", "message": "RuntimeError: internal error in the writer"},
    {"t": "end", "exit_code": 1, "reason": "exception"},
]

# Text that JSON encoders disagree on if careless: quotes, backslashes, control characters,
# non-ASCII (accents, CJK, emoji outside the BMP), U+2028/2029, the cut marker, DEL.
TEXT = [
    dict(HELLO, argv=["/tmp/é t/prog.py", "naïve", "日本語"], cwd="/tmp/é t"),
    {"t": "batch", "seq": 1,
     "strings": [[1, "'quote \" and \\\\ backslash'"], [2, "'line\\nbreak'"],
                 [3, "tab\there\nnewline\r\u0001\u001f\u007f"], [4, "caf\u00e9 \u65e5\u672c \U0001F600"],
                 [5, "sep\u2028para\u2029end"], [6, "'" + "x" * 117 + "\u2026"],
                 [7, "<repr failed: ValueError: nope>"], [8, ""]],
     "files": [[1, "/tmp/é t/prog.py"]],
     "codes": [[1, 1, "__main__", "Caf\u00e9.m\u00e9thode", 3, ["self", "\u00e9"], 0]],
     "threads": [[1, 7, "Th\u00e9\u00e2tre \U0001F3AD"]],
     "events": [[1, 1, 1, 5, 7, 4], [2, 1, 1, 6, 4, 3], [1, 1, 1, 7, 1, 2],
                [2, 1, 1, 8, 5, 5], [1, 1, 1, 9, 6, 8], [2, 1, 1, 10, 4, 8]],
     "dropped": 0},
    {"t": "end", "exit_code": None, "reason": "signal"},
]

# Probes, asyncio tasks, C calls, exact and sampled line figures, a structured value, and a
# child process's hello (its own pid, its parent's pid).
NEW_KINDS = [
    dict(HELLO, pid=4300, ppid=4242, argv=["/work/demo/child.py"]),
    {"t": "batch", "seq": 1,
     "strings": [[1, "main-task"], [2, "gc.start"], [3, "gen=2"], [4, "gc.stop"],
                 [5, "gen=2 collected=14"], [6, "audit"], [7, "open ('/tmp/x', 'r', 524288)"],
                 [8, "None"], [9, wire.STRUCTURED_PREFIX + '{"t":"list","r":"[1, 2]","n":2,'
                               '"i":[{"t":"int","r":"1"},{"t":"int","r":"2"}]}']],
     "files": [[1, "/work/demo/child.py"]],
     "codes": [[1, 1, "__main__", "main", 3, [], 2],
               [2, 0, "builtins", "len", 0, [], 0],
               [3, 1, "__main__", "<module>", 1, [], 0]],
     "threads": [[1, 4301, "MainThread"]],
     "events": [[1, 1, 3, 5],
                [9, 1, 1, 10, 1],
                [1, 1, 1, 11],
                [10, 1, 2, 20],
                [11, 1, 2, 25],
                [8, 1, 1, 30, 4, 6, 7],
                [8, 1, 0, 40, 0, 2, 3],
                [8, 1, 0, 45, 0, 4, 5],
                [2, 1, 1, 50, 6, 9],
                [2, 1, 3, 60, 9, 8]],
     "dropped": 0},
    {"t": "lines", "sampled": False, "stats": [[1, 4, 1, 900, 1200], [1, 5, 3, 300, 300]]},
    {"t": "lines", "sampled": True, "stats": [[1, 5, 2, 2000000, 2000000]]},
    {"t": "end", "exit_code": 0, "reason": "exit"},
]

# Adapter -> tracer control messages.
CONTROL = [
    {"t": "pause"},
    {"t": "resume"},
    {"t": "filter", "include": ["app.*", "tests.test_*"], "exclude": ["app.vendored.*"]},
    {"t": "filter", "include": [], "exclude": [],
     "spec": {"or": [{"function_regex": "^load"}, {"field": "depth", "op": "lt", "value": 2}]},
     "max_depth": 5, "from": "app.main.*"},
    {"t": "detach"},
]

CASES: Dict[str, List[Dict[str, Any]]] = {
    "hello_run": HELLO_RUN,
    "every_kind": EVERY_KIND,
    "text": TEXT,
    "new_kinds": NEW_KINDS,
    "control": CONTROL,
}


def write_all(directory: str = HERE) -> List[str]:
    written = []
    for name, messages in CASES.items():
        with open(os.path.join(directory, name + ".json"), "w", encoding="utf-8", newline="\n") as f:
            f.write(dump_json(messages) + "\n")
        with open(os.path.join(directory, name + ".bin"), "wb") as f:
            f.write(b"".join(wire.encode_frame(m) for m in messages))
        written.append(name)
    return written


if __name__ == "__main__":
    for name in write_all():
        print("wrote", os.path.join("test", "vectors", name + ".{json,bin}"))
