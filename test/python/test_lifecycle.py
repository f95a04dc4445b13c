# Exact event sequences, as the adapter receives them over a real socket: asyncio tasks (a Task
# event before each call and resume of a coroutine), the whole life of an exception (raised,
# propagated, handled, re-raised, uncaught at the top), class bodies as calls, threads with
# their names (on 3.12+ also threads running before tracing started, through the Python API).
import os
import sys
import tempfile
import unittest

from support import Trace, fixture, run_connected, run_python

N = "None"


class TaskTest(unittest.TestCase):
    def test_gather_of_named_tasks(self):
        proc, streams = run_connected([fixture("tasks.py")])
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertEqual(proc.stdout.decode(), "[2, 4]\n")
        self.assertEqual(len(streams), 1)
        self.assertEqual(streams[0].described(), [
            (1, "<module>"),
            (9, "main", "Task-1"), (1, "main"), (6, "main", 15, "<_GatheringFuture pending>"),
            (9, "fetch", "fetch-1"), (1, "fetch", "1"), (6, "fetch", 8, N),
            (9, "fetch", "fetch-2"), (1, "fetch", "2"), (6, "fetch", 8, N),
            (9, "fetch", "fetch-1"), (7, "fetch"), (2, "fetch", 9, "2"),
            (9, "fetch", "fetch-2"), (7, "fetch"), (2, "fetch", 9, "4"),
            (9, "main", "Task-1"), (7, "main"), (2, "main", 15, "[2, 4]"),
            (2, "<module>", 18, N),
        ])
        main = [c for c in streams[0].codes.values() if c[3] == "main"][0]
        self.assertEqual(main[6], 2)  # CodeFlags.Coroutine

    def test_task_names_in_the_trace_file(self):
        from support import run_traced
        proc, t = run_traced([fixture("tasks.py")])
        import sqlite3
        db = sqlite3.connect(t.path)
        rows = db.execute("SELECT codes.qualname, calls.flags, strings.text FROM calls "
                          "JOIN codes ON codes.id = calls.code "
                          "LEFT JOIN strings ON strings.id = calls.task ORDER BY calls.id").fetchall()
        self.assertEqual(rows, [("<module>", 0, None), ("main", 2, "Task-1"),
                                ("fetch", 2, "fetch-1"), ("fetch", 2, "fetch-2"),
                                ("fetch", 1, "fetch-1"), ("fetch", 1, "fetch-2"),
                                ("main", 1, "Task-1")])


class ExceptionTest(unittest.TestCase):
    def test_raised_propagated_handled_reraised_uncaught(self):
        proc, streams = run_connected([fixture("reraise.py")])
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stdout.decode(), "caught 3\n")
        self.assertTrue(proc.stderr.decode().endswith("ValueError: the end\n"))
        k = ("KeyError", "'k'")
        self.assertEqual(streams[0].described(), [
            (1, "<module>"),
            (1, "Box"), (2, "Box", 30, N),  # a class body is a call
            (1, "top"), (1, "named"), (1, "bare"), (1, "inner"),
            (3, "inner", 5) + k,   # raised
            (4, "inner", 5) + k,   # propagated out of inner
            (5, "bare", 10) + k,   # caught in bare...
            (3, "bare", 12) + k,   # ...and raised again by a bare `raise`
            (4, "bare", 12) + k,
            (5, "named", 17) + k,  # caught in named...
            (3, "named", 19) + k,  # ...and raised again by `raise exc`
            (4, "named", 19) + k,
            (5, "top", 24) + k,    # caught for good
            (2, "top", 26, "'caught'"),
            (1, "uncaught"),
            (3, "uncaught", 34, "ValueError", "the end"),
            (4, "uncaught", 34, "ValueError", "the end"),
            (4, "<module>", 38, "ValueError", "the end"),  # uncaught at the top
        ])
        self.assertEqual(streams[0].end, {"t": "end", "exit_code": 1, "reason": "exception"})


class ThreadTest(unittest.TestCase):
    def test_threads_fixture_sequence(self):
        proc, streams = run_connected([fixture("threads.py")])
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        s = streams[0]
        per_thread = {}
        for e in s.events:
            per_thread.setdefault(s.threads[e[1]], []).append((e[0], s.name(e[2])))
        self.assertEqual(sorted(per_thread), ["MainThread", "worker-1", "worker-2"])
        self.assertEqual(per_thread["MainThread"], [(1, "<module>"), (2, "<module>")])
        self.assertEqual(per_thread["worker-1"], [
            (1, "run"), (1, "work"), (1, "square"), (2, "square"), (1, "square"), (2, "square"),
            (2, "work"), (2, "run")])
        self.assertEqual(per_thread["worker-2"], [
            (1, "run"), (1, "work"), (1, "square"), (2, "square"), (1, "square"), (2, "square"),
            (1, "square"), (2, "square"), (2, "work"), (2, "run")])
        # Each thread is defined once, before its first event, with its native id.
        natives = [t for m in s.messages if m["t"] == "batch" for t in m["threads"]]
        self.assertEqual(len(natives), 3)
        self.assertTrue(all(t[1] > 0 for t in natives))

    @unittest.skipUnless(sys.version_info >= (3, 12), "sys.monitoring sees every thread")
    def test_thread_running_before_tracing_started(self):
        d = tempfile.mkdtemp(prefix="tracelens-early-")
        path = os.path.join(d, "early.py")
        with open(path, "w") as f:
            f.write(EARLY)
        out = os.path.join(d, "t.db")
        proc = run_python([path, out])
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertEqual(proc.stdout.decode(), "done\n")
        t = Trace(out)
        self.assertEqual(t.calls(thread=True), [("spin", 0, ["1"], "2", "early-bird"),
                                                ("spin", 0, ["2"], "3", "MainThread")])


EARLY = """\
import sys
import threading
import tracelens

ready = threading.Event()
go = threading.Event()


def spin(n):
    return n + 1


def worker():
    ready.set()
    go.wait()
    spin(1)


t = threading.Thread(target=worker, name="early-bird")
t.start()
ready.wait()
with tracelens.trace(output=sys.argv[1]):
    go.set()
    t.join()
    spin(2)
print("done")
"""


if __name__ == "__main__":
    unittest.main()
