# Tests of the optional C accelerator (accel.py, _speedups.c): it builds with this interpreter's
# own settings, can be switched off, its value short paths give exactly what values.py gives, its
# batch builder gives exactly the pure-Python batches, and a traced program records the same
# event stream with and without it (sys.monitoring callbacks on 3.12+, the C trace function of the
# settrace backend on 3.9-3.11), filters, pauses, threads and exceptions included.
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
import unittest

from support import TRACER_DIR, run_connected, run_traced, tracer_env

from tracelens import accel
from tracelens.recorder import THREAD_NOTE, Recorder
from tracelens.values import make_repr


def _fresh_module():
    """The accelerator built now into a temporary directory (not the cache), imported."""
    tmp = tempfile.mkdtemp(prefix="tracelens-accel-")
    return accel._import(accel.build(tmp))


@unittest.skipUnless(accel.enabled(), "TRACELENS_ACCEL=0")
class AcceleratorBuild(unittest.TestCase):
    def setUp(self) -> None:
        if accel.load() is None:
            self.skipTest("accelerator not available here: %s" % accel.reason)

    def test_builds_into_a_directory_and_imports(self) -> None:
        mod = _fresh_module()
        self.assertTrue(mod.__file__.endswith(accel.module_name()))
        self.assertEqual(mod.MONITORING, 1 if sys.version_info >= (3, 12) else 0)
        self.assertTrue(hasattr(mod, "build"))

    def test_switched_off_by_the_environment(self) -> None:
        code = ("from tracelens import accel; m = accel.load(); "
                "print(m is None, accel.reason)")
        r = subprocess.run([sys.executable, "-c", code], env=tracer_env({accel.ENV: "0"}),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(r.stdout.decode().strip(), "True switched off by TRACELENS_ACCEL")

    def test_value_short_paths_equal_values_py(self) -> None:
        mod = accel.load()
        for limit in (8, 20, 120):
            rep = make_repr(limit)
            cb = mod.Callbacks({}, [], rep, lambda e: None, object(), {}, limit)
            values = [None, True, False, 0, 1, -5, 256, 257, -6, 10 ** 18, -10 ** 18, 2 ** 63 - 1,
                      -2 ** 63, 2 ** 63, 10 ** 59, 10 ** 61, -10 ** 70, "", "a", "it's", 'say "hi"',
                      "tab\there", "é ünï", "x" * (limit - 2), "x" * (limit - 1), "x" * 500,
                      1.5, -0.0, float("nan"), float("inf"), 1e300, 1 / 3, b"bytes", [1, 2],
                      (1,), {"k": 1}]
            for v in values:
                self.assertEqual(cb.rep(v), rep(v), "limit %d value %r" % (limit, v))

    def test_batches_equal_the_pure_builder(self) -> None:
        def run(use_c: bool):
            sent = []
            rec = Recorder(sent.append, offsets=sys.version_info >= (3, 12))
            if not use_c:
                rec._build = None
            self.assertEqual(rec._build is not None, use_c)

            def f(a, b=2):
                return a

            def g():
                yield 1

            code, gcode = f.__code__, g.__code__
            rec.describe(code, "m", "f")
            ident = threading.get_ident()
            o = rec.origin
            rec.buf.extend([
                (THREAD_NOTE, ident, 77, "MainThread"),
                (1, ident, code, o + 10, ("1", "'x'")),
                (1, ident, gcode, o + 11, ()),
                (6, ident, gcode, o + 12, 2, "1"),
                (7, ident, gcode, o + 13),
                (9, ident, gcode, o + 14, "Task-1"),
                (2, ident, gcode, o + 15, 2, "None"),
                (3, ident, code, o + 16, 5, ValueError, "bad"),
                [0, ident, code, o + 17, 5, ValueError, "bad", 0],
                (5, ident, code, o + 18, 5, KeyError, "k"),
                (10, ident, len, o + 19),
                (11, ident, len, o + 20),
                (4, ident, code, o + 21, 6, ValueError, "bad"),
                (2, ident, code, o + 22, 0, "'x'"),
            ])
            rec.flush()
            rec.buf.extend([(1, ident, code, o + 30, ("1", "2")), (2, ident, code, o + 31, 0, "1")])
            rec.flush()
            return sent

        pure, fast = run(False), run(True)
        self.assertEqual(fast, pure)
        self.assertEqual(len(pure[0]["events"]), 12)
        self.assertEqual(pure[0]["threads"][0][1:], [77, "MainThread"])
        self.assertEqual(pure[1]["strings"], [[pure[1]["events"][0][5], "2"]])


@unittest.skipUnless(sys.version_info >= (3, 12), "sys.monitoring callbacks are 3.12+")
class AcceleratedRecording(unittest.TestCase):
    """The same program traced with and without the accelerator records the same calls."""

    def test_same_calls_with_and_without(self) -> None:
        if not accel.enabled() or accel.load() is None:
            self.skipTest("accelerator not available here: %s" % accel.reason)
        program = os.path.join(tempfile.mkdtemp(prefix="tracelens-accel-"), "prog.py")
        with open(program, "w") as f:
            f.write("import asyncio\n"
                    "def fib(n, *rest, **kw):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
                    "def gen(k):\n    for i in range(k):\n        yield i * 1.5\n"
                    "def boom(x):\n    try:\n        raise ValueError(x)\n    except ValueError:\n"
                    "        return 'caught ' + str(x)\n"
                    "async def co(n):\n    await asyncio.sleep(0)\n    return n\n"
                    "class P:\n    def __repr__(self):\n        return 'P!'\n"
                    "def take(p, s='it\\'s', big=10**70, none=None):\n    return p\n"
                    "fib(6, 1, k=2); list(gen(3)); boom(4); take(P()); asyncio.run(co(5))\n")
        results = []
        for flag in ("0", "1"):
            proc, trace = run_traced([program], env=tracer_env({accel.ENV: flag}))
            self.assertEqual(proc.returncode, 0, proc.stderr)
            assert trace is not None
            results.append(trace)
        pure, fast = results
        self.assertEqual(fast.detailed(), pure.detailed())
        self.assertEqual(fast.exceptions(), pure.exceptions())
        self.assertGreater(len(pure.detailed()), 30)
        self.assertIn(("take", 1, ["P!", "\"it's\"", "<int of 233 bits>", "None"], "P!"),
                      pure.calls())


# A program exercising what the C paths do and what they hand back to Python: calls with every
# kind of argument, returns, generators (yield, yield from, throw, close), coroutines and tasks,
# exceptions raised, propagated, caught, re-raised and leaving generators, arguments held in
# cells, class bodies, properties, lambdas, comprehensions, reprs that raise, a thread, recursion.
SAMPLE = r"""
import asyncio, contextlib, sys, threading

def fib(n, *rest, **kw):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def gen(k):
    for i in range(k):
        yield i * 1.5
    return 'gen done'

def deleg():
    r = yield from gen(2)
    return r

def boom(x):
    try:
        raise ValueError(x)
    except ValueError:
        return 'caught ' + str(x)

def inner():
    raise KeyError('k')

def middle():
    inner()

def outer():
    try:
        middle()
    except KeyError:
        pass

def reraise():
    try:
        inner()
    except KeyError:
        raise

def chain():
    try:
        reraise()
    except KeyError as e:
        return 'chained'

def again(exc):
    try:
        raise exc
    except TypeError as e:
        raise e

def cellarg(a, b):
    def add():
        return a + b
    return add()

class K:
    attr = [i for i in range(2)]

    def m(self, v):
        return v

    @property
    def p(self):
        return 3

def g_throw():
    try:
        yield 1
    except ValueError:
        yield 'handled'

def gen_raises():
    yield 1
    raise IndexError('from a generator')

def stop_iter():
    it = iter([])
    try:
        next(it)
    except StopIteration:
        return 'empty'

async def co(n):
    await asyncio.sleep(0)
    return n

async def main_co():
    t = asyncio.ensure_future(co(2))
    return await co(1) + await t

class P:
    def __repr__(self):
        return 'P!'

class Bad:
    def __repr__(self):
        raise RuntimeError('no repr')

def take(p, s="it's", big=10**70, none=None, f=1.5, t=True, u='\u00e9'):
    return p

def kw(a, *, b=2, **rest):
    return (a, b, sorted(rest))

def suppressed():
    with contextlib.suppress(ZeroDivisionError):
        1 / 0
    return 'after'

def worker(n):
    return fib(n)

fib(6, 1, k=2)
list(gen(3)); list(deleg())
boom(4); outer(); chain(); cellarg(1, 2)
try:
    again(TypeError('t'))
except TypeError:
    pass
k = K(); k.m(5); k.p
g = g_throw(); next(g); g.throw(ValueError('x')); g.close()
try:
    list(gen_raises())
except IndexError:
    pass
stop_iter(); take(P()); take(Bad()); kw(1, b=3, c=4)
sorted([3, 1, 2], key=lambda v: -v)
suppressed()
asyncio.run(main_co())
t = threading.Thread(target=worker, args=(4,), name='worker'); t.start(); t.join()
print('done', [x * 2 for x in range(3)])
"""


class SameEventsWithAndWithout(unittest.TestCase):
    """The sample program's event stream (kinds, functions, lines, values, exceptions, in order)
    is the same with the pure-Python tracer and with the accelerator, under several options."""

    @classmethod
    def setUpClass(cls) -> None:
        if not accel.enabled() or accel.load() is None:
            raise unittest.SkipTest("accelerator not available here: %s" % accel.reason)
        cls.program = os.path.join(tempfile.mkdtemp(prefix="tracelens-accel-"), "sample.py")
        with open(cls.program, "w") as f:
            f.write(SAMPLE)

    def events(self, flag: str, options=()):
        proc, streams = run_connected([self.program], list(options),
                                      env=tracer_env({accel.ENV: flag,
                                                      "TRACELENS_TOKEN": "test-token"}))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(b"done [0, 2, 4]", proc.stdout)
        self.assertEqual(len(streams), 1)
        stream = streams[0]
        self.assertIsNotNone(stream.end)
        self.assertEqual(stream.dropped, 0)
        # Object addresses in default reprs differ from run to run.
        return [tuple(re.sub(r" at 0x[0-9a-f]+", " at 0x", v) if isinstance(v, str) else v
                      for v in e) for e in stream.described()]

    def same(self, options=()):
        pure, fast = self.events("0", options), self.events("1", options)
        self.assertEqual(fast, pure)
        return pure

    def test_default_scope(self) -> None:
        events = self.same()
        kinds = {e[0] for e in events}
        self.assertTrue({1, 2, 3, 4, 5, 6, 7, 9} <= kinds, kinds)
        self.assertIn((1, "take", "P!", "\"it's\"", "<int of 233 bits>", "None", "1.5", "True",
                       "'\u00e9'"), events)
        self.assertIn((1, "cellarg", "1", "2"), events)
        self.assertIn((2, "cellarg", 55, "3"), events)
        self.assertIn((6, "g_throw", 71, "'handled'"), events)
        self.assertIn((4, "inner", 23, "KeyError", "'k'"), events)
        self.assertEqual(sum(1 for e in events if e[:2] == (1, "fib")), 25 + 9)

    def test_excluded(self) -> None:
        self.assertEqual(self.same(["--exclude", "*"]), [])

    def test_gated_filters(self) -> None:
        events = self.same(["--max-depth", "2"])
        # <module> and worker are at depth 0: fib(6) and fib(4) only.
        self.assertEqual([e[2] for e in events if e[:2] == (1, "fib")], ["6", "4"])
        events = self.same(["--from", "chain"])
        self.assertEqual([e[1] for e in events if e[0] == 1], ["chain", "reraise", "inner"])

    def test_lines(self) -> None:
        self.same(["--lines", "__main__"])


@unittest.skipUnless((3, 9) <= sys.version_info < (3, 12), "the settrace backend is 3.9-3.11")
class SettraceTracer(unittest.TestCase):
    """The C trace function itself, in this process: decisions taken once per code object and
    forgotten on clear(), pause, gated filters, new threads, and the previous trace put back."""

    def setUp(self) -> None:
        if not accel.enabled() or accel.load() is None:
            self.skipTest("accelerator not available here: %s" % accel.reason)

    def backend(self, exclude=()):
        from tracelens.filters import Filter
        from tracelens.scope import Scope
        from tracelens.settrace import SettraceBackend
        errors = []
        rec = Recorder(lambda m: None, offsets=False)
        scope = Scope(os.path.dirname(os.path.abspath(__file__)), [], list(exclude))
        b = SettraceBackend(rec, Filter(scope), make_repr(40), errors.append)
        self.addCleanup(lambda: self.assertEqual(errors, []))
        return b, rec

    def test_records_and_decides_once(self) -> None:
        b, rec = self.backend()
        calls = []
        real = b._decide

        def counting(code, frame):
            calls.append(code.co_name)
            return real(code, frame)

        b._decide = counting  # type: ignore[assignment]
        before = sys.gettrace()

        def f(a, b=2):
            return a

        b.start()
        try:
            self.assertIs(sys.gettrace(), b._tracer)
            for i in range(3):
                f(i)
        finally:
            b.stop()
        self.assertIs(sys.gettrace(), before)
        self.assertEqual(calls.count("f"), 1)
        got = [(r[0], r[2].co_name) + tuple(r[4:]) for r in rec.buf if r[2] is f.__code__]
        line = f.__code__.co_firstlineno + 1
        self.assertEqual(got, [(1, "f", ("0", "2")), (2, "f", line, "0"),
                               (1, "f", ("1", "2")), (2, "f", line, "1"),
                               (1, "f", ("2", "2")), (2, "f", line, "2")])
        self.assertGreaterEqual(b._tracer.decided(), 1)
        b.set_filter(b.filter)
        self.assertEqual(b._tracer.decided(), 0)

    def test_pause_gate_and_threads(self) -> None:
        b, rec = self.backend()

        def f(a):
            return a

        def in_thread():
            f("t")

        b.start()
        try:
            f(1)
            b.pause()
            f(2)
            b.resume()
            b.set_filter(type(b.filter)(b.filter.scope, max_depth=5))
            self.assertEqual(b._tracer.gated, 1)
            f(3)
            t = threading.Thread(target=in_thread)
            t.start()
            t.join()
        finally:
            b.stop()
        got = [(r[0], r[4]) for r in rec.buf if r[0] == 1 and r[2] is f.__code__]
        self.assertEqual(got, [(1, ("1",)), (1, ("3",)), (1, ("'t'",))])
        threads = {r[1] for r in rec.buf if r[0] == 1 and r[2] is f.__code__}
        self.assertEqual(len(threads), 2)

    def test_excluded_code_gets_no_line_events_and_gets_them_back(self) -> None:
        b, rec = self.backend(exclude=["*"])
        seen = []

        def f():
            frame = sys._getframe()
            seen.append(frame.f_trace_lines)
            return frame

        b.start()
        try:
            frame = f()
        finally:
            b.stop()
        self.assertEqual(seen, [False])
        self.assertTrue(frame.f_trace_lines)  # put back when it returned
        self.assertEqual(rec.buf, [])

    def test_new_thread_gets_the_c_function(self) -> None:
        b, rec = self.backend()
        seen = []

        def probe():
            seen.append(sys.gettrace())

        def run():
            probe()
            probe()

        b.start()
        try:
            t = threading.Thread(target=run)
            t.start()
            t.join()
        finally:
            b.stop()
        self.assertEqual(seen, [b._tracer, b._tracer])
        self.assertEqual([r[0] for r in rec.buf if r[2] is probe.__code__], [1, 2, 1, 2])


if __name__ == "__main__":
    unittest.main()
