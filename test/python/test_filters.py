# Filters evaluated in the traced process: --filter specs (fields, operators, and/or/not), depth,
# thread names, --max-depth, --from, @tracelens.notrace, and the control messages that replace
# the filter or pause and resume recording while the program runs (over a real socket).
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from support import TIMEOUT, fixture, run_traced, tracer_env

from tracelens import filters, wire
from tracelens.scope import Scope

F = fixture("filtered.py")
ALL = [
    ("<module>", 0), ("load_data", 1), ("top", 2), ("mid", 3), ("leaf", 4), ("top", 2), ("mid", 3),
    ("leaf", 4), ("hidden", 1), ("quiet_helper", 2), ("leaf", 3), ("leaf", 2), ("worker", 0),
    ("top", 1), ("mid", 2), ("leaf", 3),
]


def names(trace, with_thread=False):
    if with_thread:
        return [(c[0], c[1], c[4]) for c in trace.calls(thread=True)]
    return [(c[0], c[1]) for c in trace.calls()]


class FilterSpecTest(unittest.TestCase):
    def run_filter(self, options, args=()):
        proc, t = run_traced([F] + list(args), options)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertEqual(proc.stdout.decode(), "[3, 5]\n12\n[...]\n")
        return t

    def test_no_filter_records_everything_in_scope(self):
        self.assertEqual(names(self.run_filter([])), ALL)

    def test_function_equals(self):
        t = self.run_filter(["--filter", '{"function": "mid"}'])
        self.assertEqual(t.calls(), [("mid", 0, ["0"], "2"), ("mid", 0, ["1"], "4"),
                                     ("mid", 0, ["10"], "22")])

    def test_operators(self):
        for spec, expected in (
            ({"function_glob": "l*"}, [("load_data", 0), ("leaf", 1), ("leaf", 1), ("leaf", 0),
                                       ("leaf", 0), ("leaf", 0)]),
            ({"function_regex": "^(top|hid)"}, [("top", 0), ("top", 0), ("hidden", 0), ("top", 0)]),
            ({"function_startswith": "quiet"}, [("quiet_helper", 0)]),
            ({"function_endswith": "_data"}, [("load_data", 0)]),
            ({"function_contains": "ork"}, [("worker", 0)]),
            ({"function_in": ["worker", "hidden"]}, [("hidden", 0), ("worker", 0)]),
            ({"field": "function", "op": "eq", "value": "worker"}, [("worker", 0)]),
            ({"module": "__main__", "filename_endswith": "filtered.py", "function": "worker"},
             [("worker", 0)]),
            ({"or": [{"function": "worker"}, {"function": "hidden"}]}, [("hidden", 0), ("worker", 0)]),
            ({"and": [{"function_glob": "*e*"}, {"not": {"function_glob": "*a*"}}]},
             [("<module>", 0), ("hidden", 1), ("quiet_helper", 2), ("worker", 0)]),
            ({"stdlib": True}, []),
            ({"site_packages": False, "function": "worker"}, [("worker", 0)]),
        ):
            with self.subTest(spec=spec):
                t = self.run_filter(["--filter", json.dumps(spec)])
                self.assertEqual(names(t), expected)

    def test_depth_fields_and_max_depth(self):
        expected = [("<module>", 0), ("load_data", 1), ("hidden", 1), ("worker", 0), ("top", 1)]
        self.assertEqual(names(self.run_filter(["--filter", '{"depth_lt": 2}'])), expected)
        self.assertEqual(names(self.run_filter(["--max-depth", "2"])), expected)
        self.assertEqual(names(self.run_filter(["--filter", '{"depth_gte": 3}'])), [])
        self.assertEqual(names(self.run_filter(["--max-depth", "0"])), [])
        # depth counts recorded calls: without <module> and load_data, top is at depth 0.
        t = self.run_filter(["--filter", '{"and": [{"function_in": ["top", "mid", "leaf"]}, '
                                         '{"depth_lte": 1}]}'])
        self.assertEqual(names(t), [("top", 0), ("mid", 1), ("top", 0), ("mid", 1), ("leaf", 0),
                                    ("leaf", 0), ("top", 0), ("mid", 1)])

    def test_thread_name(self):
        t = self.run_filter(["--filter", '{"thread": "worker-A"}'])
        self.assertEqual(names(t, True), [("worker", 0, "worker-A"), ("top", 1, "worker-A"),
                                          ("mid", 2, "worker-A"), ("leaf", 3, "worker-A")])
        t = self.run_filter(["--filter", '{"not": {"thread_startswith": "worker"}, "function": "top"}'])
        self.assertEqual(names(t, True), [("top", 0, "MainThread"), ("top", 0, "MainThread")])

    def test_from(self):
        t = self.run_filter(["--from", "mid"])
        self.assertEqual(t.calls(thread=True), [
            ("mid", 0, ["0"], "2", "MainThread"), ("leaf", 1, ["0"], "1", "MainThread"),
            ("mid", 0, ["1"], "4", "MainThread"), ("leaf", 1, ["1"], "2", "MainThread"),
            ("mid", 0, ["10"], "22", "worker-A"), ("leaf", 1, ["10"], "11", "worker-A")])
        t = self.run_filter(["--from", "__main__.hid*", "--max-depth", "2"])
        self.assertEqual(names(t), [("hidden", 0), ("quiet_helper", 1), ("leaf", 1)])

    def test_stdlib_with_a_wider_scope(self):
        t = self.run_filter(["--include", "*", "--filter",
                             '{"stdlib": true, "function": "shorten"}'])
        self.assertEqual(t.calls(), [("shorten", 0, ["'a b c d e f'", "5", "{}"], "'[...]'")])
        t = self.run_filter(["--include", "*", "--filter",
                             '{"stdlib": false, "function_in": ["mid", "shorten"]}'])
        self.assertEqual(names(t), [("mid", 0), ("mid", 0), ("mid", 0)])

    def test_notrace(self):
        t = self.run_filter([], ["notrace"])
        got = [n for n in names(t) if n[0] in ("hidden", "quiet_helper", "leaf")]
        # notrace(children=True) leaves out hidden and all it calls; notrace leaves out
        # quiet_helper alone (its leaf call shows, one level up).
        self.assertEqual(got, [("leaf", 4), ("leaf", 4), ("leaf", 3)])
        t = self.run_filter(["--filter", '{"function_glob": "*"}'], ["notrace"])
        self.assertNotIn("hidden", [n[0] for n in names(t)])

    def test_errors(self):
        for options, message in (
            (["--filter", "{nope"], "tracelens: --filter is not valid JSON"),
            (["--filter", '{"colour": "red"}'], "tracelens: --filter: unknown filter field 'colour'"),
            (["--filter", '{"module_near": "x"}'], "tracelens: --filter: unknown filter operator 'near'"),
            (["--filter", '{"function_regex": "("}'], "tracelens: --filter: function_regex: bad regular expression"),
            (["--filter", '{"depth_lt": "two"}'], "tracelens: --filter: depth_lt needs a number"),
            (["--max-depth", "x"], "tracelens: --max-depth needs a whole number"),
            (["--max-depth", "-1"], "tracelens: --max-depth must be 0 or more"),
        ):
            with self.subTest(options=options):
                proc, t = run_traced([F], options)
                self.assertEqual(proc.returncode, 2)
                self.assertTrue(proc.stderr.decode().startswith(message), proc.stderr.decode())
                self.assertEqual(proc.stdout.decode(), "")
                self.assertIsNone(t)


class CodeDecisionTest(unittest.TestCase):
    """The filter decides per code object what it can; the rest is a per-call predicate."""

    def test_static_and_dynamic_parts(self):
        scope = Scope(os.path.dirname(F))
        code = compile("def f(): pass", F, "exec").co_consts[0]
        f = filters.Filter(scope, {"function": "f", "depth_lt": 2})
        d = f.decide(code, "__main__", "f")
        self.assertTrue(f.gated)
        self.assertTrue(d.record)
        self.assertEqual([d.pred(0), d.pred(1), d.pred(2)], [True, True, False])
        self.assertIsNone(f.decide(code, "__main__", "g"))  # settled by the code alone
        f = filters.Filter(scope, {"function": "f"})
        self.assertFalse(f.gated)
        self.assertIsNone(f.decide(code, "__main__", "f").pred)
        self.assertTrue(filters.Filter(scope, None, max_depth=3).gated)
        self.assertTrue(filters.Filter(scope, None, from_glob="x").gated)


PROGRAM = """\
import sys
def helper(i):
    return i
def tick(i):
    return helper(i)
for line in sys.stdin:
    tick(int(line))
    print("ok", line.strip(), flush=True)
"""


class ControlTest(unittest.TestCase):
    """A real socket server sends control messages while the program runs."""

    def test_filter_pause_resume_while_running(self):
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        srv.settimeout(TIMEOUT)
        d = tempfile.mkdtemp(prefix="tracelens-ctl-")
        script = os.path.join(d, "ticks.py")
        with open(script, "w") as f:
            f.write(PROGRAM)
        proc = subprocess.Popen(
            [sys.executable, "-m", "tracelens", "run", "--connect",
             "127.0.0.1:%d" % srv.getsockname()[1], "--", script],
            env=tracer_env({"TRACELENS_TOKEN": "tok"}), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        conn, _ = srv.accept()
        conn.settimeout(TIMEOUT)
        messages = []

        def read():
            reader = wire.FrameReader()
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                messages.extend(reader.feed(data))

        reader_thread = threading.Thread(target=read, daemon=True)
        reader_thread.start()

        def tick(n):
            proc.stdin.write(b"%d\n" % n)
            proc.stdin.flush()
            self.assertEqual(proc.stdout.readline(), b"ok %d\n" % n)

        def control(message):
            conn.sendall(wire.encode_frame(message))
            time.sleep(0.3)  # applied by the tracer's control thread

        tick(1)
        control({"t": "filter", "include": [], "exclude": [], "spec": {"function": "helper"}})
        tick(2)
        control({"t": "pause"})
        tick(3)
        control({"t": "resume"})
        tick(4)
        control({"t": "filter", "include": [], "exclude": [], "spec": {"function": "nope("},
                 "max_depth": "x"})  # refused: the filter stays
        tick(5)
        control({"t": "filter", "include": [], "exclude": []})  # back to everything in scope
        tick(6)
        control({"t": "filter", "include": [], "exclude": [], "from": "tick", "max_depth": 1})
        tick(7)
        proc.stdin.close()
        proc.wait(TIMEOUT)
        reader_thread.join(TIMEOUT)
        conn.close()
        srv.close()
        err = proc.stderr.read().decode()
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(err,
                         "tracelens: filter not applied: max_depth must be a whole number, got 'x'\n")
        strings, codes, calls = {}, {}, []
        for m in messages:
            if m["t"] != "batch":
                continue
            strings.update({s[0]: s[1] for s in m["strings"]})
            codes.update({c[0]: c[3] for c in m["codes"]})
            calls.extend((codes[e[2]], strings[e[4]]) for e in m["events"]
                         if e[0] == wire.CALL and len(e) > 4)
        self.assertEqual(calls, [("tick", "1"), ("helper", "1"), ("helper", "2"), ("helper", "4"),
                                 ("helper", "5"), ("tick", "6"), ("helper", "6"), ("tick", "7")])
        self.assertEqual(messages[-1], {"t": "end", "exit_code": 0, "reason": "exit"})


if __name__ == "__main__":
    unittest.main()
