# Never hurt the program: a full buffer drops records and counts them (recorded + dropped ==
# happened), deep recursion under the gated filter, coexistence with debugger/coverage tool ids,
# the previous trace and profile functions restored, and per-function call counts equal to
# cProfile's for the same program (3.12+, where cProfile sees every thread).
import json
import os
import sys
import tempfile
import unittest

from support import fixture, run_connected, run_python, run_traced, tracer_env


class BufferTest(unittest.TestCase):
    def test_recorded_plus_dropped_is_what_happened(self):
        n = 200_000
        proc, streams = run_connected([fixture("many_calls.py"), str(n)], ["--buffer", "1000"])
        self.assertEqual((proc.returncode, proc.stdout.decode()), (0, "done\n"))
        s = streams[0]
        happened = 2 + 2 + 2 * n  # <module> and main: call and return; leaf: n of each
        self.assertGreater(s.dropped, 0)  # the buffer did overflow
        self.assertEqual(len(s.events) + s.dropped, happened)
        self.assertEqual(s.end, {"t": "end", "exit_code": 0, "reason": "exit"})

    def test_dropped_in_the_trace_file(self):
        proc, t = run_traced([fixture("many_calls.py"), "100000"], ["--buffer", "1000"])
        self.assertEqual(proc.returncode, 0)
        self.assertGreater(t.process[6], 0)


class RecursionTest(unittest.TestCase):
    def test_deep_recursion_with_the_gated_filter(self):
        plain = run_python([fixture("signals.py"), "deep"])
        for options in (["--max-depth", "5"], ["--from", "down"], ["--filter", '{"depth_lt": 50}']):
            with self.subTest(options=options):
                proc, t = run_traced([fixture("signals.py"), "deep"], options)
                self.assertEqual(proc.stdout, plain.stdout)
                self.assertEqual(proc.returncode, plain.returncode)
                depths = [c[1] for c in t.calls()]
                if options[0] == "--max-depth":
                    self.assertEqual(max(depths), 4)
                self.assertTrue(t.calls())

    def test_recursion_limit_reached_again_and_again(self):
        # Exceptions raised and unwinding at the recursion limit, where the tracer's own Python
        # callbacks cannot run: the accelerator still records each frame's end (or every later
        # call would seem to nest in the frames left open), the rest is left out, tracing goes
        # on, and no error reaches the program.
        with tempfile.TemporaryDirectory() as tmp:
            script = os.path.join(tmp, "limit.py")
            with open(script, "w") as f:
                f.write(LIMIT)
            plain = run_python([script])
            self.assertEqual((plain.returncode, plain.stdout), (0, b"caught 20\nafter 2\n"))
            for accel in ("1", "0"):
                with self.subTest(accel=accel):
                    proc, t = run_traced([script], env=tracer_env({"TRACELENS_ACCEL": accel}))
                    self.assertEqual((proc.returncode, proc.stdout), (0, plain.stdout))
                    self.assertNotIn(b"internal error", proc.stderr)
                    if accel == "0" and sys.version_info < (3, 12):
                        continue  # CPython takes away a Python trace function it cannot call
                    calls = t.calls()
                    self.assertEqual([c for c in calls if c[0] == "work"], [("work", 1, ["1"], "2")])
                    self.assertGreater(sum(c[0] == "inner" for c in calls), 20 * 500)

    @unittest.skipUnless(sys.version_info >= (3, 11), "3.11+: a line of None")
    def test_exception_where_the_code_has_no_line(self):
        # A code object without line numbers (a replaced co_linetable, as generated code may
        # have): its tb_lineno and f_lineno are None. Recorded with line 0; tracing goes on.
        with tempfile.TemporaryDirectory() as tmp:
            script = os.path.join(tmp, "nolines.py")
            with open(script, "w") as f:
                f.write(NO_LINES)
            plain = run_python([script])
            self.assertEqual(plain.stdout, b"caught True\nafter 2\n")
            for accel in ("1", "0"):
                with self.subTest(accel=accel):
                    proc, t = run_traced([script], env=tracer_env({"TRACELENS_ACCEL": accel}))
                    self.assertEqual((proc.returncode, proc.stdout), (0, plain.stdout))
                    self.assertNotIn(b"internal error", proc.stderr)
                    rows = {c[0]: c for c in t.detailed()}
                    self.assertEqual(rows["f"][5:7], ("ZeroDivisionError", "division by zero"))
                    self.assertEqual(rows["work"][2:4], (["1"], "2"))

    @unittest.skipUnless(sys.version_info[:2] == (3, 11), "3.11 inlines Python calls untraced")
    def test_deep_recursion_past_the_c_stack(self):
        # With a raised recursion limit 3.11 recurses far deeper than its C stack would allow
        # if every call were a C call (as under a frame-evaluation hook): traced, the program
        # still finishes, in the main thread and in another one, and every call is recorded.
        with tempfile.TemporaryDirectory() as tmp:
            script = os.path.join(tmp, "deep.py")
            with open(script, "w") as f:
                f.write(DEEP)
            plain = run_python([script, "main"])
            self.assertEqual((plain.returncode, plain.stdout), (0, b"150000\n60000\n"))
            for first, options in (("main", ["--exclude", "*"]), ("main", []), ("thread", [])):
                with self.subTest(first=first, options=options):
                    proc, t = run_traced([script, first], options)
                    self.assertEqual((proc.returncode, proc.stdout), (0, plain.stdout),
                                     proc.stderr.decode()[-2000:])
                    downs = [c for c in t.calls() if c[0] == "down"]
                    self.assertEqual(len(downs), 0 if options else 150001 + 60001)
                    if not options:
                        self.assertEqual(max(c[1] for c in downs), 150001)
            # The program's own trace function (a debugger's, say) set before the deep
            # recursion stays its own when the tracer makes way.
            with open(script, "w") as f:
                f.write(DEEP_OWN_TRACE)
            plain = run_python([script])
            self.assertEqual((plain.returncode, plain.stdout), (0, b"True True\n"))
            proc, t = run_traced([script])
            self.assertEqual((proc.returncode, proc.stdout), (0, plain.stdout),
                             proc.stderr.decode()[-2000:])


NO_LINES = """\
def f():
    1/0


def work(n):
    return n + 1


f.__code__ = f.__code__.replace(co_linetable=bytes([0xf8, 0xf8, 0xf8, 0xf9, 0xf8, 0xf8, 0xf8]))
try:
    f()
except ZeroDivisionError as exc:
    print("caught", exc.__traceback__.tb_next.tb_lineno in (None, -1))  # -1: 3.11.2
print("after", work(1))
"""

LIMIT = """\
class C:
    pass


def inner(n):
    c = C()
    inner(n + 1)


def work(n):
    return n + 1


caught = 0
for i in range(20):
    try:
        inner(0)
    except RecursionError:
        caught += 1
print("caught", caught)
print("after", work(1))
"""

DEEP = """\
import sys
import threading
sys.setrecursionlimit(1000000)


def down(n):
    return 0 if n == 0 else 1 + down(n - 1)


def in_thread(out):
    out.append(down(60000))


out = []
t = threading.Thread(target=in_thread, args=(out,))
if sys.argv[1] == "thread":  # the thread reaches the depth first
    t.start()
    t.join()
print(down(150000))
if sys.argv[1] == "main":
    t.start()
    t.join()
print(out[0])
"""

DEEP_OWN_TRACE = """\
import sys
sys.setrecursionlimit(1000000)
seen = []


def mine(frame, event, arg):
    if event == "call":
        seen.append(frame.f_code.co_name)


def down(n):
    return 0 if n == 0 else 1 + down(n - 1)


def probe():
    return 1


def main():
    sys.settrace(mine)
    down(60000)
    probe()
    t = sys.gettrace()
    sys.settrace(None)
    print("probe" in seen, t is mine)


main()
"""

TOOLS = """\
import sys
sys.monitoring.use_tool_id(0, "debugger")
sys.monitoring.use_tool_id(1, "coverage")
sys.monitoring.use_tool_id(2, "profiler")
def f():
    return 1
f()
print([sys.monitoring.get_tool(i) for i in range(6)])
"""

TAKEN = """\
import sys
import tracelens
for i in (3, 4, 5):
    sys.monitoring.use_tool_id(i, "other-%d" % i)
def f():
    return 1
with tracelens.trace(output=sys.argv[1]):
    f()
print("still running")
"""

RESTORE = """\
import sys
import threading
import tracelens

def t(frame, event, arg):
    return None

def p(frame, event, arg):
    return None

def tt(frame, event, arg):
    return None

def tp(frame, event, arg):
    return None

def work():
    return 2

sys.settrace(t)
sys.setprofile(p)
threading.settrace(tt)
threading.setprofile(tp)
with tracelens.trace(output=sys.argv[1]):
    work()
print(sys.gettrace() is t, sys.getprofile() is p, threading._trace_hook is tt,
      threading._profile_hook is tp)
sys.settrace(None)
sys.setprofile(None)
"""


STOP_INSIDE = """\
import sys
import tracelens

class Boom:
    pass

session = tracelens.trace(output=sys.argv[1])

def rep(value):
    session.__exit__(None, None, None)  # the tracer stops inside its own callback
    return "boom"

tracelens.register_repr(Boom, rep)

def f(x):
    return 1

session.__enter__()
f(Boom())
f(2)
print("survived")
"""


def script(text):
    d = tempfile.mkdtemp(prefix="tracelens-robust-")
    path = os.path.join(d, "prog.py")
    with open(path, "w") as f:
        f.write(text)
    return path, os.path.join(d, "t.db")


class CoexistenceTest(unittest.TestCase):
    @unittest.skipUnless(sys.version_info >= (3, 12), "sys.monitoring tool ids")
    def test_debugger_and_coverage_ids_untouched(self):
        path, _ = script(TOOLS)
        proc, t = run_traced([path])
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertEqual(proc.stdout.decode(),
                         "['debugger', 'coverage', 'profiler', None, 'tracelens', None]\n")
        self.assertIn(("f", 1, [], "1"), t.calls())

    @unittest.skipUnless(sys.version_info >= (3, 12), "sys.monitoring tool ids")
    def test_no_free_tool_id_runs_untraced(self):
        path, out = script(TAKEN)
        proc = run_python([path, out])
        self.assertEqual(proc.returncode, 0)
        self.assertEqual(proc.stdout.decode(), "still running\n")
        self.assertEqual(proc.stderr.decode(), "tracelens: could not start tracing (RuntimeError: "
                         "no free sys.monitoring tool id (3, 4 and 5 are taken)); running untraced\n")

    def test_tracing_stopped_from_inside_a_callback(self):
        # The tracer stops while one of its callbacks runs (here from a registered repr; in life
        # from another thread, when a `with tracelens.trace()` block ends as a tracer thread
        # starts): the running callback must not use what the stop freed.
        path, out = script(STOP_INSIDE)
        proc = run_python([path, out], env=tracer_env({"PYTHONFAULTHANDLER": "1"}))
        self.assertEqual((proc.returncode, proc.stdout), (0, b"survived\n"), proc.stderr.decode())

    def test_previous_trace_and_profile_functions_restored(self):
        path, out = script(RESTORE)
        proc = run_python([path, out])
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertEqual(proc.stdout.decode(), "True True True True\n")
        from support import Trace
        self.assertEqual(Trace(out).calls(), [("work", 0, [], "2")])


@unittest.skipUnless(sys.version_info >= (3, 12), "cProfile sees every thread on 3.12+")
class CProfileCountTest(unittest.TestCase):
    def test_call_counts_equal_cprofile(self):
        for name, args in (("recursion.py", ["6"]), ("classes.py", []), ("filtered.py", []),
                           ("reraise.py", []), ("threads.py", [])):
            with self.subTest(fixture=name):
                d = tempfile.mkdtemp(prefix="tracelens-cprofile-")
                prof = os.path.join(d, "out.prof")
                run_python(["-m", "cProfile", "-o", prof, fixture(name)] + args)
                import pstats
                stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
                expected = {(line, func): nc for (path, line, func), (cc, nc, tt, ct, callers)
                            in stats.items() if path == fixture(name)}
                proc, t = run_traced([fixture(name)] + args)
                result = run_python(["-m", "tracelens", "stats", "--json", t.path])
                got = {(r["line"], r["function"].rsplit(".", 1)[-1]): r["calls"]
                       for r in json.loads(result.stdout.decode())}
                self.assertEqual(got, expected)


if __name__ == "__main__":
    unittest.main()
