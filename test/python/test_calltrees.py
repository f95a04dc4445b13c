# Exact call trees of the fixture programs, recorded by `python -m tracelens run --output` and
# read back from the trace file: qualname, depth, arguments, return values, exceptions, threads.
# Runs real tracer processes; touches only temporary files.
import os
import sys
import unittest

from support import FIXTURES, fixture, run_traced

N = "None"


class CallTreeTest(unittest.TestCase):
    def trace(self, name, *args, options=()):
        proc, trace = run_traced([fixture(name)] + list(args), options)
        self.assertIsNotNone(trace, proc.stderr.decode())
        return proc, trace

    def test_hello(self):
        proc, t = self.trace("hello.py")
        self.assertEqual(proc.returncode, 0)
        self.assertEqual(proc.stdout.decode(), "sum: 5\n")
        self.assertEqual(t.calls(), [("<module>", 0, [], N), ("add", 1, ["2", "3"], "5")])
        self.assertEqual([d[4] for d in t.detailed()], [9, 6])  # return lines
        self.assertEqual(t.meta["format"], "tracelens")
        self.assertEqual(t.meta["schema_version"], "1")
        self.assertGreater(int(t.meta["origin_ns"]), 1_600_000_000 * 10 ** 9)
        code = [c for c in t.codes.values() if c[1] == "add"][0]
        self.assertEqual(code, ("__main__", "add", fixture("hello.py"), 5, '["a", "b"]', 0))
        self.assertEqual(t.process[4:7], (0, "exit", 0))
        for r in t.rows:
            self.assertLessEqual(r[5], r[6])

    def test_recursion(self):
        proc, t = self.trace("recursion.py", "3")
        self.assertEqual(proc.stdout.decode(), "factorial 6\nfib 2\n")
        self.assertEqual(t.calls(), [
            ("<module>", 0, [], N),
            ("factorial", 1, ["3"], "6"),
            ("factorial", 2, ["2"], "2"),
            ("factorial", 3, ["1"], "1"),
            ("fib", 1, ["3"], "2"),
            ("fib", 2, ["2"], "1"),
            ("fib", 3, ["1"], "1"),
            ("fib", 3, ["0"], "0"),
            ("fib", 2, ["1"], "1"),
        ])
        self.assertEqual([d[4] for d in t.detailed()], [21, 9, 9, 8, 15, 15, 14, 14, 14])

    def test_exceptions(self):
        proc, t = self.trace("exceptions.py")
        self.assertEqual(proc.returncode, 1)
        msg = "invalid literal for int() with base 10: 'x'"
        self.assertEqual(t.detailed(), [
            ("<module>", 0, [], None, None, "AppError", "giving up", 25, 4),
            ("AppError", 1, [], N, 6, None, None, None, 0),
            ("safe_parse", 1, ["'12'"], "12", 15, None, None, None, 0),
            ("parse", 2, ["'12'"], "12", 10, None, None, None, 0),
            ("safe_parse", 1, ["'x'"], "-1", 17, None, None, None, 0),
            ("parse", 2, ["'x'"], None, None, "ValueError", msg, 10, 4),
            ("fail", 1, ["'giving up'"], None, None, "AppError", "giving up", 21, 4),
        ])
        self.assertEqual(t.exceptions(), [
            ("parse", 3, 10, "ValueError", msg),
            ("parse", 4, 10, "ValueError", msg),
            ("safe_parse", 5, 15, "ValueError", msg),
            ("fail", 3, 21, "AppError", "giving up"),
            ("fail", 4, 21, "AppError", "giving up"),
            ("<module>", 4, 25, "AppError", "giving up"),
        ])
        self.assertEqual(t.process[4:6], (1, "exception"))

    def test_classes(self):
        proc, t = self.trace("classes.py")
        self.assertEqual(proc.stdout.decode(), "Account('ada', 120) True\n")
        failed = "<repr failed: AttributeError: 'Account' object has no attribute 'owner'>"
        self.assertEqual(t.calls(), [
            ("<module>", 0, [], N),
            ("Account", 1, [], N),
            ("Account.__init__", 1, [failed, "'ada'", "50"], N),
            ("Account.deposit", 1, ["<Account object>", "70"], "120"),
            ("Account.rich", 1, ["<Account object>"], "True"),
            ("Account.__repr__", 1, ["<Account object>"], "\"Account('ada', 120)\""),
        ])

    def test_generators(self):
        proc, t = self.trace("generators.py")
        self.assertEqual(proc.stdout.decode(), "total 6\n")
        self.assertEqual(t.detailed(), [
            ("<module>", 0, [], N, 19, None, None, None, 0),
            ("total", 1, ["3"], "6", 16, None, None, None, 0),
            ("countdown", 2, ["3"], "3", 7, None, None, None, 2),
            ("countdown", 2, None, "2", 7, None, None, None, 3),
            ("countdown", 2, None, "1", 7, None, None, None, 3),
            ("countdown", 2, None, "'done'", 9, None, None, None, 1),
        ])
        self.assertEqual(t.exceptions(), [])
        flags = [c[5] for c in t.codes.values() if c[1] == "countdown"]
        self.assertEqual(flags, [1])

    def test_threads(self):
        proc, t = self.trace("threads.py")
        self.assertEqual(proc.stdout.decode(), "[('w1', 1), ('w2', 5)]\n")
        self.assertEqual(t.calls(thread=True), [
            ("<module>", 0, [], N, "MainThread"),
            ("run", 0, ["'w1'", "2"], N, "worker-1"),
            ("work", 1, ["2"], "1", "worker-1"),
            ("square", 2, ["0"], "0", "worker-1"),
            ("square", 2, ["1"], "1", "worker-1"),
            ("run", 0, ["'w2'", "3"], N, "worker-2"),
            ("work", 1, ["3"], "5", "worker-2"),
            ("square", 2, ["0"], "0", "worker-2"),
            ("square", 2, ["1"], "1", "worker-2"),
            ("square", 2, ["2"], "4", "worker-2"),
        ])
        self.assertEqual(sorted(t.threads.values()), ["MainThread", "worker-1", "worker-2"])

    @unittest.skipUnless(sys.version_info >= (3, 12), "sys.monitoring names threads itself")
    def test_threads_named_without_a_profile_hook(self):
        # Many short threads, each ended before the writer thread wakes, most reusing the ident
        # of the one before: each is its own thread with its own name, and the program sees no
        # profile function of the tracer's.
        path = program("import sys, threading\n"
                    "def job(i):\n    return i\n"
                    "for i in range(20):\n"
                    "    t = threading.Thread(target=job, args=(i,), name='short-%d' % i)\n"
                    "    t.start()\n    t.join()\n"
                    "print(threading.getprofile(), sys.getprofile())\n")
        proc, t = run_traced([path])
        self.assertEqual(proc.stdout, b"None None\n", proc.stderr.decode())
        jobs = [c for c in t.calls(thread=True) if c[0] == "job"]
        self.assertEqual([(c[2], c[4]) for c in jobs],
                         [(["%d" % i], "short-%d" % i) for i in range(20)])
        self.assertEqual(len({r[1] for r in t.rows}), 21)

    def test_heat_only_sets_no_thread_hook(self):
        # Heat only records nothing per thread: no threading.setprofile hook on any version.
        path = program("import threading\nprint(threading._profile_hook)\n")
        proc, _ = run_traced([path], ["--no-calls", "--sample", "100"])
        self.assertEqual(proc.stdout, b"None\n", proc.stderr.decode())

    def test_tracer_threads_not_recorded_when_threading_is_traced(self):
        # The writer thread and the heat ticker wait many times during this run: with the
        # threading module in scope, only the program's own thread appears.
        path = program("import threading, time\n"
                    "def step(i):\n    threading.Event().wait(0.002)\n    return i\n"
                    "for i in range(100):\n    step(i)\n")
        proc, t = run_traced([path], ["--include", "threading", "--include", "__main__",
                                      "--sample", "200"])
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertEqual(sorted(set(t.threads.values())), ["MainThread"])
        self.assertEqual(len([c for c in t.calls() if c[0] == "step"]), 100)
        self.assertIn("Event.wait", {c[0] for c in t.calls()})

    def test_argument_kinds(self):
        import tempfile
        d = tempfile.mkdtemp(prefix="tracelens-args-")
        path = os.path.join(d, "kinds.py")
        with open(path, "w") as f:
            f.write("def f(a, /, b, *rest, c, d=4, **kw):\n    return a\n\n"
                    "f(1, 2, 3, c='c', e=5)\n")
        proc, t = run_traced([path])
        self.assertEqual(t.calls()[1], ("f", 1, ["1", "2", "'c'", "4", "(3,)", "{'e': 5}"], "1"))
        code = [c for c in t.codes.values() if c[1] == "f"][0]
        self.assertEqual(code[4], '["a", "b", "c", "d", "rest", "kw"]')
        self.assertEqual(code[5], 8 | 16)


LIFECYCLE = """\
def inner():
    raise KeyError("k")

def middle():
    try:
        inner()
    except ValueError:
        pass

def outer():
    try:
        middle()
    except KeyError:
        return "caught"

def cleanup():
    try:
        raise TypeError("t")
    finally:
        pass

def gen():
    yield 1
    yield 2

def first():
    for x in gen():
        return x

outer()
try:
    cleanup()
except TypeError:
    pass
first()
"""


if sys.version_info >= (3, 13):
    # 3.13 closes a generator suspended outside any try block without running it again.
    CLOSED_EARLY, CLOSED_SEGMENT = [], []
else:
    # Closed early by the for loop's return: GeneratorExit raised at the yield, unwinding.
    CLOSED_EARLY = [("gen", 3, 23, "GeneratorExit", ""), ("gen", 4, 23, "GeneratorExit", "")]
    CLOSED_SEGMENT = [("gen", 2, None, None, "GeneratorExit", "", 23, 5)]


class ExceptionLifeCycleTest(unittest.TestCase):
    def test_raised_propagated_handled_and_reraised(self):
        import tempfile
        d = tempfile.mkdtemp(prefix="tracelens-exc-")
        path = os.path.join(d, "lifecycle.py")
        with open(path, "w") as f:
            f.write(LIFECYCLE)
        proc, t = run_traced([path])
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertEqual(t.exceptions(), [
            ("inner", 3, 2, "KeyError", "'k'"),
            ("inner", 4, 2, "KeyError", "'k'"),
            ("middle", 4, 6, "KeyError", "'k'"),  # a non-matching except is not a catch
            ("outer", 5, 12, "KeyError", "'k'"),
            ("cleanup", 3, 18, "TypeError", "t"),
            ("cleanup", 4, 18, "TypeError", "t"),  # finally runs, then re-raises
            ("<module>", 5, 32, "TypeError", "t"),
        ] + CLOSED_EARLY)
        self.assertEqual([d[:4] + d[5:] for d in t.detailed() if d[0] in ("gen", "first")], [
            ("first", 1, [], "1", None, None, None, 0),
            ("gen", 2, [], "1", None, None, None, 2),
        ] + CLOSED_SEGMENT)


class ScopeTest(unittest.TestCase):
    def test_default_scope_leaves_out_the_standard_library(self):
        proc, t = run_traced([fixture("stdlib_user.py")])
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertEqual([c[0] for c in t.calls()], ["<module>", "encode", "wrap"])
        self.assertEqual(t.files(), [fixture("stdlib_user.py")])

    def test_include_replaces_the_default_scope(self):
        proc, t = run_traced([fixture("stdlib_user.py")], ["--include", "textwrap"])
        names = {c[0] for c in t.calls()}
        self.assertIn("shorten", names)
        self.assertNotIn("encode", names)
        self.assertFalse(any("json" in f for f in t.files()))
        self.assertEqual({c[0] for c in t.codes.values()}, {"textwrap"})

    def test_exclude_removes(self):
        proc, t = run_traced([fixture("recursion.py"), "2"], ["--exclude", "__main__"])
        self.assertEqual(proc.stdout.decode(), "factorial 2\nfib 1\n")
        self.assertEqual(t.calls(), [])

    def test_module_mode_scope_is_the_current_directory(self):
        proc, t = run_traced(["-m", "hello"], cwd=FIXTURES)
        self.assertEqual(proc.stdout.decode(), "sum: 5\n")
        self.assertEqual(t.calls(), [("<module>", 0, [], N), ("add", 1, ["2", "3"], "5")])


class ValuesTest(unittest.TestCase):
    def test_hostile_values(self):
        proc, t = run_traced([fixture("values.py")])
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertEqual(proc.stdout.decode(), "done\n")
        takes = [c for c in t.calls() if c[0] == "take"]
        long_arg = "'" + "y" * 118 + "\u2026"
        self.assertEqual(len(long_arg), 120)
        self.assertEqual([c[2][0] for c in takes], [
            "<repr failed: ValueError: no repr for you>",
            "<Broken object>",
            "Chatty(from helper)",
            long_arg,
            "[1, [1, [1, [\u2026]]]]",
            "<int of 1001 bits>",
            "{'a': [1, 2], 'b': (3,)}",
        ])
        self.assertEqual([c[3] for c in takes][3], long_arg)
        # The repr's own call to helper() is not traced (no recursion into the tracer).
        self.assertNotIn("helper", [c[0] for c in t.calls()])

    def test_value_limit_option(self):
        proc, t = run_traced([fixture("values.py")], ["--value-limit", "10"])
        takes = [c for c in t.calls() if c[0] == "take"]
        self.assertEqual(takes[3][2], ["'yyyyyyyy\u2026"])
        self.assertEqual(takes[6][2], ["{'a': [1,\u2026"])



def program(text):
    """A small program in a folder of its own: its path."""
    import tempfile
    path = os.path.join(tempfile.mkdtemp(prefix="tracelens-prog-"), "prog.py")
    with open(path, "w") as f:
        f.write(text)
    return path


if __name__ == "__main__":
    unittest.main()
