# Tests of the optional C accelerator (accel.py, _speedups.c): it builds with this interpreter's
# own settings, can be switched off, its value short paths give exactly what values.py gives, its
# batch builder gives exactly the pure-Python batches, and a traced program records the same
# event stream with and without it (sys.monitoring callbacks on 3.12+, the C trace function of the
# settrace backend on 3.9-3.11), filters, pauses, threads and exceptions included; the trace
# file writer's C pairing loop writes exactly the files of its Python loop; and the calls table
# written as SQLite pages (TableWriter) holds the rows and indexes SQL inserts would have made, at
# every leaf boundary; and the C monitoring callbacks see every change to the known code at once.
from __future__ import annotations

import os
import pickle
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import unittest
from contextlib import closing

from support import FIXTURES, TRACER_DIR, fixture, run_connected, run_traced, tracer_env

from tracelens import accel
from tracelens.recorder import THREAD_NOTE, Recorder
from tracelens.tracefile import ID_RANGE, TraceFileWriter
from tracelens.values import make_repr
from tracelens.wire import pack_events, unpack_events


def _fresh_module():
    """The accelerator built now into a temporary directory (not the cache), imported."""
    tmp = tempfile.mkdtemp(prefix="tracelens-accel-")
    return accel._import(accel.build(tmp))


class SourceHashMemo(unittest.TestCase):
    """The source's digest names its builds; it is remembered per file identity and change time,
    and a changed source is hashed again."""

    def test_memo_matches_the_content_and_follows_changes(self):
        import hashlib
        from unittest import mock
        tmp = tempfile.mkdtemp(prefix="tracelens-hash-")
        src = os.path.join(tmp, "_speedups.c")
        with open(src, "w") as f:
            f.write("/* one */\n")
        with mock.patch.dict(os.environ, {"XDG_CACHE_HOME": os.path.join(tmp, "cache")}), \
                mock.patch.object(accel, "_SOURCE", src):
            first = accel.source_hash()
            self.assertEqual(first, hashlib.sha256(b"/* one */\n").hexdigest()[:16])
            memos = os.listdir(accel.cache_dir())
            self.assertEqual(len(memos), 1)
            self.assertEqual(accel.source_hash(), first)
            with open(src, "w") as f:
                f.write("/* two */\n")
            st = os.stat(src)
            os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 1000))
            self.assertEqual(accel.source_hash(), hashlib.sha256(b"/* two */\n").hexdigest()[:16])
            for name in os.listdir(accel.cache_dir()):  # a damaged memo is not believed
                with open(os.path.join(accel.cache_dir(), name), "w") as f:
                    f.write("not a digest")
            self.assertEqual(accel.source_hash(), hashlib.sha256(b"/* two */\n").hexdigest()[:16])


class FirstUseBuild(unittest.TestCase):
    """The build on first use remembers a compiler's failure (it is not tried again for that
    source), but not a compiler stopped by a signal (Ctrl-C during the first traced run); and it
    works in a child whose environment has no PATH."""

    CODE = """
import os, sys
from tracelens import accel
accel.compiler_command = lambda src, out: [sys.executable, "-c", %r]
m = accel.load()
print(m is None, os.path.exists(os.path.join(accel.cache_dir(), accel.module_name() + ".failed")),
      accel.reason.split(":")[0])
"""

    def outcome(self, compiler: str) -> str:
        with tempfile.TemporaryDirectory() as tmp:
            env = tracer_env({accel.ENV: "1", "XDG_CACHE_HOME": tmp})
            r = subprocess.run([sys.executable, "-c", self.CODE % compiler], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            return r.stdout.decode().strip()

    def test_a_failing_compiler_is_remembered(self) -> None:
        self.assertEqual(self.outcome("raise SystemExit(1)"), "True True RuntimeError")

    @unittest.skipUnless(accel.enabled() and accel.load() is not None, "no accelerator here")
    def test_builds_in_an_environment_without_path(self) -> None:
        # A Python child started with env={...} and no PATH builds it on first use too.
        with tempfile.TemporaryDirectory() as tmp:
            env = {"PYTHONPATH": TRACER_DIR, "XDG_CACHE_HOME": tmp}
            code = "from tracelens import accel; print(accel.load() is not None, accel.reason)"
            r = subprocess.run([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=180)
            self.assertEqual(r.stdout.decode().split(" ")[0], "True", r.stdout.decode())

    @unittest.skipIf(sys.platform == "win32", "POSIX signals")
    def test_a_compiler_stopped_by_a_signal_is_not(self) -> None:
        self.assertEqual(self.outcome("import os, signal; os.kill(os.getpid(), signal.SIGINT)"),
                         "True False OSError")


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

    def test_take_moves_the_items(self) -> None:
        mod = accel.load()
        buf = [1, "two", (3,)]
        got = mod.take(buf)
        self.assertEqual((got, buf), ([1, "two", (3,)], []))
        buf.append(4)
        self.assertEqual((got, buf, mod.take([])), ([1, "two", (3,)], [4], []))
        with self.assertRaises(TypeError):
            mod.take((1,))

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

    def test_container_and_object_paths_equal_values_py(self) -> None:
        """Containers (nested past the depth, cut at the limit, mutated by an item's repr) and
        objects (raising, slow, recursive, non-str, registered, policy builtins) give the text
        values.py gives, and the same types are then not asked again."""
        mod = accel.load()
        from tracelens import values

        class Raising:
            def __repr__(self):
                raise ValueError("no repr")

        class Exiting:
            def __repr__(self):
                raise SystemExit(3)

        class Sub(str):
            pass

        class SubRepr:
            def __repr__(self):
                return Sub("sub text")

        class NotStr:
            def __repr__(self):
                return 5

        class Deep:
            def __repr__(self):
                return repr(Deep())

        class Slow:
            def __repr__(self):
                import time
                time.sleep(values.SLOW_NS / 1e9 * 1.5)
                return "slow"

        class Registered:
            pass

        class Mutating:
            def __init__(self, d):
                self.d = d

            def __repr__(self):
                self.d["new"] = 1
                return "m"

        class Growing:
            def __init__(self, items):
                self.items = items

            def __repr__(self):
                if len(self.items) < 6:
                    self.items.append(len(self.items))
                return "g"

        class Plain:
            pass

        values.register_repr(Registered, lambda v: "registered!")
        self.addCleanup(values._registered.pop, Registered, None)

        import re
        pattern = re.compile("(a+)b" * 20, re.I)

        def fresh():
            d = {"a": 1}
            d["m"] = Mutating(d)
            grows: list = [1]
            grows.insert(0, Growing(grows))
            return [None, (1,), (1, 2), [], {}, set(), frozenset(), {1}, frozenset({2}),
                    [1, [2, [3, [4, [5]]]]], {"k": {"j": {"i": {"h": 1}}}}, ((((1,),),),),
                    list(range(200)), {i: str(i) * 3 for i in range(50)}, {"x" * 300: "y" * 300},
                    ("é" * 30, "ü"), [b"b" * 300, 2 ** 300, 10 ** 70, 1.5, float("nan")],
                    Raising(), [Raising()], Exiting(), SubRepr(), NotStr(), Deep(), Registered(),
                    {"r": Registered()}, d, Plain, int, len, Ellipsis, Slow(), Slow(), grows,
                    {"ключ": "é", 1: [{}], (): [], "🙂": ()}, [[[[]]], [()], {}], ((), []),
                    pattern, pattern, [pattern, "s", "s"], "s", "s", int, dict, Plain]

        for policy in ("all", "builtins"):
            for limit in (8, 40, 120):
                rep_py = values.make_repr(limit, policy=policy)
                rep_c = values.make_repr(limit, policy=policy)
                cb = mod.Callbacks({}, [], rep_c, lambda e: None, object(), {}, limit)
                for a, b in zip(fresh(), fresh()):
                    want = rep_py(a)
                    got = cb.rep(b)
                    if isinstance(a, Plain) or a is Plain:
                        want, got = re.sub("0x[0-9a-f]+", "X", want), re.sub("0x[0-9a-f]+", "X", got)
                    self.assertEqual(got, want, "policy %s limit %d value %r" % (policy, limit, want))
                self.assertEqual(rep_c.failed, rep_py.failed)
        # The C paths were on: a type failed through the C copy is in values.py's set.
        rep = values.make_repr(40)
        cb = mod.Callbacks({}, [], rep, lambda e: None, object(), {}, 40)
        cb.rep([Raising()])
        self.assertIn(Raising, rep.failed)
        # A failed type's plain text (kept per type) follows a rename of the type.
        class Fails:
            def __repr__(self):
                raise ValueError("no")

        self.assertEqual(cb.rep(Fails()), "<repr failed: ValueError: no>")
        for name in ("Fails", "Fails", "Renamed", "Renamed"):
            Fails.__name__ = name
            self.assertEqual(cb.rep(Fails()), rep(Fails()))
        self.assertEqual(cb.rep(Fails()), "<Renamed object>")
        # object.__repr__'s texts, kept per type and address: right after a rename of the class or
        # its module, for many objects (addresses reused), and cut at a small limit.
        class Q:
            pass

        for limit in (12, 120):
            rep = values.make_repr(limit)
            cb = mod.Callbacks({}, [], rep, lambda e: None, object(), {}, limit)
            q = Q()
            self.assertEqual(cb.rep(q), rep(q))
            self.assertEqual(cb.rep(q), rep(q))
            self.assertEqual(cb.rep(Q), rep(Q))  # the class itself: its text kept, as renamed
            Q.__qualname__ = "Renamed%d" % limit
            self.assertEqual(cb.rep(q), rep(q))
            self.assertEqual(cb.rep(Q), rep(Q))
            Q.__module__ = "elsewhere"
            self.assertEqual(cb.rep(q), rep(q))
            self.assertEqual(cb.rep(Q), rep(Q))
            self.assertEqual(cb.rep(Q), rep(Q))
            if limit > 40:
                self.assertIn("elsewhere.Renamed", cb.rep(Q))
            for _ in range(3000):
                o = Q() if _ % 2 else Plain()
                self.assertEqual(cb.rep(o), rep(o))
            self.assertEqual(cb.rep(object()), rep(object()))
        # Structured values are values.py's alone.
        srep = values.make_repr(200, structured=True)
        cb = mod.Callbacks({}, [], srep, lambda e: None, object(), {}, 200)
        for v in ([1, 2], {"a": (1,)}, Plain()):
            self.assertEqual(cb.rep(v), srep(v))

    def test_batches_equal_the_pure_builder(self) -> None:
        def run(use_c: bool, packed: bool = False):
            sent = []
            rec = Recorder(sent.append, offsets=sys.version_info >= (3, 12), packed=packed)
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
            # An exception of a type named in the batch before (the builder's own path).
            rec.buf.extend([(1, ident, code, o + 30, ("1", "2")),
                            (3, ident, code, o + 31, 7, KeyError, "k2"),
                            [5, ident, code, o + 32, 8, KeyError, "k2", 1234],
                            (2, ident, code, o + 33, 0, "1")])
            rec.flush()
            return sent

        pure, fast, packed = run(False), run(True), run(True, packed=True)
        self.assertEqual(fast, pure)
        self.assertEqual(len(pure[0]["events"]), 12)
        # Packed: the same events as packed bytes, the rest of each message the same.
        self.assertEqual([m["events"] for m in packed], [[], []])
        self.assertEqual([m["packed"] for m in packed], [pack_events(m["events"]) for m in pure])
        self.assertEqual([unpack_events(m.pop("packed")) for m in packed],
                         [m["events"] for m in pure])
        self.assertEqual(packed, [dict(m, events=[]) for m in pure])
        self.assertEqual(pure[0]["threads"][0][1:], [77, "MainThread"])
        self.assertEqual(pure[1]["strings"], [[pure[1]["events"][0][5], "2"],
                                              [pure[1]["events"][1][6], "k2"]])
        self.assertEqual(pure[1]["events"][1][:2] + pure[1]["events"][1][4:6],
                         [3, pure[0]["events"][0][1], 7, pure[0]["events"][7][5]])
        self.assertEqual(pure[1]["events"][2][4:], [8] + pure[1]["events"][1][5:])


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



#: Runs `python -m tracelens run` with every message the trace file writer gets (per process, in
#: the order it got them) pickled into the file named by TRACELENS_TEST_MESSAGES.
_MESSAGE_LOG = r"""
import os, pickle, sys, threading
from tracelens import tracefile
from tracelens.cli import main
log, lock, parent = [], threading.Lock(), os.getpid()
W = tracefile.TraceFileWriter
send, child_sink, close = W.send, W.child_sink, W.close
def logged(w, number, m):
    with lock:
        log.append((number, pickle.dumps(m)))
W.send = lambda w, m: (logged(w, 0, m), send(w, m))[1]
def new_child_sink(w):
    sink = child_sink(w)
    with lock:
        number = 1 + sum(1 for e in log if e[0] == "child")
        log.append(("child", number))
    return lambda m: (logged(w, number, m), sink(m))[1]
W.child_sink = new_child_sink
def new_close(w):
    close(w)
    if os.getpid() == parent:
        with open(os.environ["TRACELENS_TEST_MESSAGES"], "wb") as f:
            pickle.dump(log, f)
W.close = new_close
sys.argv[0] = "tracelens"
sys.exit(main())
"""


@unittest.skipUnless(accel.enabled(), "TRACELENS_ACCEL=0")
class SameTraceFileWithAndWithout(unittest.TestCase):
    """The writer's messages of a real run, written once by the pure-Python pairing loop and once
    by the accelerator's `pair`: every table holds the same rows, and the files are the same
    bytes."""

    def setUp(self) -> None:
        if accel.load() is None or not hasattr(accel.load(), "pair"):
            self.skipTest("accelerator not available here: %s" % accel.reason)
        self.tmp = tempfile.mkdtemp(prefix="tracelens-pair-")

    def messages(self, target, options=(), exit_code=0):
        path = os.path.join(self.tmp, "messages.pickle")
        out = os.path.join(self.tmp, "recorded.db")
        r = subprocess.run([sys.executable, "-c", _MESSAGE_LOG, "run", "--output", out]
                           + list(options) + ["--"] + list(target),
                           env=tracer_env({"TRACELENS_TEST_MESSAGES": path,
                                           "TRACELENS_WRITER_PROCESS": "0"}), cwd=FIXTURES,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        self.assertEqual(r.returncode, exit_code, r.stderr)
        with open(path, "rb") as f:
            return pickle.load(f)

    def write(self, log, use_c: bool, pages: bool = False, unpack: bool = False) -> str:
        """The log written by the pure-Python loop with SQL inserts (use_c False: packed events
        decoded in Python), the C `pair` (and `pair_packed`) with SQL inserts, or the C `pair`
        with the calls table written as pages (pages). unpack: packed events sent as lists."""
        path = os.path.join(self.tmp, "pages.db" if pages else "lists.db" if unpack
                            else "c.db" if use_c else "pure.db")
        w = TraceFileWriter(path)
        self.assertIsNotNone(w._pair)
        if pages:
            self.assertIsNotNone(w._pages, "the page writer is part of the accelerator")
        else:
            w._pages = None
            os.close(w._pages_fd)
            w._pages_fd = None
        if not use_c:
            w._pair = w._pair_packed = None
        sinks = {0: w.send}
        for number, m in log:
            if number == "child":
                sinks[m] = w.child_sink()
            else:
                m = pickle.loads(m)
                if unpack and m.get("packed"):
                    m["events"] = m["events"] + unpack_events(m.pop("packed"))
                sinks[number](m)
        w.close()
        return path

    def same(self, target, options=(), exit_code=0):
        log = self.messages(target, options, exit_code)
        pure, fast = self.write(log, False), self.write(log, True)
        tables = {}
        with closing(sqlite3.connect(pure)) as a, closing(sqlite3.connect(fast)) as b:
            names = [r[0] for r in a.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            self.assertEqual(names, [r[0] for r in b.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")])
            for t in names:
                rows = a.execute("SELECT * FROM %s ORDER BY rowid" % t).fetchall()
                self.assertEqual(b.execute("SELECT * FROM %s ORDER BY rowid" % t).fetchall(),
                                 rows, t)
                tables[t] = rows
        with open(pure, "rb") as f1, open(fast, "rb") as f2:
            self.assertTrue(f1.read() == f2.read(), "the files differ")
        # The accelerated run sent its events packed; the same messages with their events as
        # lists give the same file.
        self.assertTrue(any(pickle.loads(e[1]).get("packed") for e in log if e[0] == 0))
        with open(fast, "rb") as f1, open(self.write(log, True, unpack=True), "rb") as f2:
            self.assertTrue(f1.read() == f2.read(), "packed and list events differ")
        self.same_tables(pure, self.write(log, True, pages=True))
        return tables

    def same_tables(self, reference: str, pages: str) -> None:
        """The file whose calls table was written as pages: a sound SQLite file (integrity check,
        the indexes agree with the table) holding the same rows and schema as the reference."""
        with closing(sqlite3.connect(reference)) as a, closing(sqlite3.connect(pages)) as b:
            self.assertEqual(b.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
            schema = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"
            self.assertEqual(b.execute(schema).fetchall(), a.execute(schema).fetchall())
            for t in [r[0] for r in a.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]:
                q = "SELECT * FROM %s ORDER BY rowid" % t
                self.assertEqual(b.execute(q).fetchall(), a.execute(q).fetchall(), t)
            for index, key in (("calls_parent", "parent"), ("calls_code", "code"),
                               ("calls_thread_start", "thread")):
                q = ("SELECT id FROM calls INDEXED BY %s WHERE %s IS NOT NULL ORDER BY %s, start_ns, id"
                     % (index, key, key))
                self.assertEqual(b.execute(q).fetchall(), a.execute(q).fetchall(), index)

    def test_recursion(self) -> None:
        t = self.same([fixture("recursion.py"), "6"])
        self.assertGreater(len(t["calls"]), 25)
        self.assertEqual(sum(1 for c in t["calls"] if c[7] is None), 0)  # every call ended

    def test_generators(self) -> None:
        t = self.same([fixture("generators.py")])
        self.assertTrue(any(c[14] & 1 for c in t["calls"]), "a resume")
        self.assertTrue(any(c[14] & 2 for c in t["calls"]), "a yield")

    def test_exceptions(self) -> None:
        t = self.same([fixture("exceptions.py")], exit_code=1)
        self.assertTrue(t["exceptions"])
        self.assertTrue(any(c[11] is not None for c in t["calls"]), "an unwound call")

    def test_tasks(self) -> None:
        t = self.same([fixture("tasks.py")])
        self.assertTrue(any(c[15] is not None for c in t["calls"]), "a task's call")

    def test_threads(self) -> None:
        t = self.same([fixture("threads.py")])
        self.assertGreater(len({c[2] for c in t["calls"]}), 1)

    @unittest.skipUnless(hasattr(os, "fork"), "fork")
    def test_forked_children(self) -> None:
        t = self.same([fixture("family.py"), "fork"])
        self.assertEqual([p[0] for p in t["processes"]], [1, 2, 3])
        self.assertEqual(len({c[1] for c in t["calls"]}), 3)  # ids moved per process

    def test_pairs_by_hand(self) -> None:
        """Returns that end a call below the top, events of threads with no stack, a task name
        pending, calls of many arguments, and a child process's id offset."""
        events = [[1, 1, 10, 100, 5], [1, 1, 11, 110], [1, 1, 12, 120] + list(range(20, 35)),
                  [2, 1, 10, 130, 3, 7],  # ends 10: 11 and 12 end too (theirs were dropped)
                  [2, 2, 10, 140, 3, 7], [6, 1, 10, 150, 3, 7], [0, 1, 10, 151],
                  [9, 1, 13, 155, 40], [1, 1, 13, 160, 41], [1, 1, 14, 161, 42],
                  [6, 1, 14, 165, 4, 43], [7, 1, 14, 166], [2, 1, 14, 167, 5, 44],
                  [2, 1, 13, 170, 6, 45], [7, 3, 15, 171], [1, 3, 16, 172, 1, 2, 3],
                  [2, 3, 16, 173, None, 9]]
        hello = {"t": "hello", "start_ns": 1000, "pid": 1, "ppid": 0, "python": "3", "cwd": "/",
                 "backend": "test", "argv": []}
        batch = {"t": "batch", "strings": [], "files": [], "codes": [], "threads": [],
                 "dropped": 0, "events": events}
        log = [(0, pickle.dumps(hello)), (0, pickle.dumps(batch)), ("child", 1),
               (1, pickle.dumps(dict(hello, start_ns=1500))), (1, pickle.dumps(batch))]
        calls = self.same_log(log)["calls"]
        self.assertEqual(len(calls), 2 * 8)
        self.assertEqual(calls[0][:9], (1, 1, 1, None, 0, 10, 100, 130, "[5]"))
        self.assertEqual(calls[2][8], "[%s]" % ",".join(map(str, range(20, 35))))
        self.assertEqual(calls[8][:9], (9, 2, 1 + ID_RANGE, None, 0, 10 + ID_RANGE, 600, 630,
                                        "[%d]" % (5 + ID_RANGE)))

    def by_hand_log(self, batches):
        hello = {"t": "hello", "start_ns": 1000, "pid": 1, "ppid": 0, "python": "3", "cwd": "/",
                 "backend": "test", "argv": []}
        log = [(0, pickle.dumps(hello))]
        for events in batches:
            log.append((0, pickle.dumps({"t": "batch", "strings": [], "files": [], "codes": [],
                                         "threads": [], "dropped": 0, "events": events})))
        return log

    def test_calls_running_across_many_batches(self) -> None:
        """Calls that start in one batch and end many batches later, on three threads, some never
        ending, rows longer than a page (running and ended): the pages hold what SQL would."""
        import random
        rnd = random.Random(7)
        stacks = {1: [], 2: [], 3: []}
        ts = 100
        batches = []
        for b in range(240):  # enough rows for interior pages two levels up (calls and indexes)
            events = []
            for _ in range(rnd.randrange(0, 800)):
                thread = rnd.choice((1, 2, 3))
                stack = stacks[thread]
                ts += 1
                if stack and (rnd.random() < 0.48 or len(stack) > 200):
                    code = stack.pop()
                    events.append([2, thread, code, ts, rnd.randrange(1, 90), rnd.randrange(1 << 40)])
                else:
                    code = rnd.randrange(10, 60)
                    stack.append(code)
                    n = 1400 if rnd.random() < 0.01 else rnd.randrange(0, 4)  # 1400: > a page
                    events.append([1, thread, code, ts] + [rnd.randrange(1 << 33) for _ in range(n)])
            batches.append(events)
        calls = self.same_log(self.by_hand_log(batches))["calls"]
        self.assertGreater(len(calls), 40000)
        self.assertTrue(any(c[7] is None for c in calls), "calls that never ended")
        self.assertTrue(any(len(c[8] or "") > 8000 for c in calls), "rows longer than a page")

    def test_indexes_of_calls_not_started_in_id_order(self) -> None:
        """Timestamps that go back (clocks of two processes, a clock step): the entries of one
        key are then not in id order by time, and the indexes are sorted on the whole key."""
        import random
        rnd = random.Random(3)
        batches = []
        for b in range(6):
            events = []
            for i in range(700):
                ts = 10 ** 6 - (b * 700 + i) * 3 + rnd.randrange(5)
                code = rnd.randrange(10, 14)
                thread = rnd.choice((1, 2))
                events.append([1, thread, code, ts, 1])
                events.append([2, thread, code, ts + 1, 2, 3])
            batches.append(events)
        calls = self.same_log(self.by_hand_log(batches))["calls"]
        self.assertEqual(len(calls), 6 * 700)

    def test_page_writer_failing_leaves_the_rest_to_sql(self) -> None:
        """When the page writer fails mid-run (here: on its fourth batch), the rows it wrote stay,
        the others go in with SQL, and the file is the same as the reference."""
        batches = [[[1, 1, 10, 100 + 10 * b, b], [1, 1, 11, 101 + 10 * b],
                    [2, 1, 11, 102 + 10 * b, 3, 7]] for b in range(8)]
        log = self.by_hand_log(batches)
        pure = self.write(log, False)
        path = os.path.join(self.tmp, "failing.db")
        w = TraceFileWriter(path)
        real = w._pages
        self.assertIsNotNone(real)

        class Failing:
            placed = property(lambda _: real.placed)
            calls = 0

            def place(self, *args):
                Failing.calls += 1
                if Failing.calls == 4:
                    raise OSError(28, "No space left on device")
                return real.place(*args)

            def keep(self, *args):
                return real.keep(*args)

            def index_all(self, columns):
                return real.index_all(columns)

        w._pages = Failing()
        for _, m in log:
            w.send(pickle.loads(m))
        w.close()
        self.assertIn("No space left", w.pages_error)
        self.same_tables(pure, path)

    def test_page_writer_failing_with_rows_it_kept(self) -> None:
        """Packed batches hand their plain rows to the page writer itself; when its writes fail
        (here: its descriptor turned read-only before the fourth batch), the rows it kept go in
        with SQL, and the file is the same as the reference."""
        from tracelens.wire import pack_events
        batches = [[[1, 1, 10, 100 + 10 * b, b], [1, 1, 11, 101 + 10 * b],
                    [2, 1, 11, 102 + 10 * b, 3, 7], [2, 1, 10, 103 + 10 * b, 4, 8]]
                   for b in range(8)]
        log = self.by_hand_log(batches)
        pure = self.write(log, False)
        path = os.path.join(self.tmp, "failing-kept.db")
        w = TraceFileWriter(path)
        self.assertIsNotNone(w._pages)
        self.assertIsNotNone(w._pair_packed)
        for i, (_, m) in enumerate(log):
            m = pickle.loads(m)
            if m.get("events"):
                m["packed"], m["events"] = pack_events(m["events"]), []
            if i == 4:  # the hello, then three batches
                ro = os.open(path, os.O_RDONLY)
                os.dup2(ro, w._pages_fd)
                os.close(ro)
            w.send(m)
            if i == 1:
                self.assertEqual(w._pages.pending, 0, "placed with the batch")
        w.close()
        self.assertIn("Errno", w.pages_error)
        self.same_tables(pure, path)

    def test_indexes_by_sql_when_sqlite_master_cannot_be_written(self) -> None:
        """When the indexes built as pages cannot be entered in sqlite_master, their pages are cut
        off again and CREATE INDEX builds them."""
        log = self.by_hand_log([[[1, 1, 10, 100, 1], [1, 1, 11, 101], [2, 1, 11, 102, 3, 7]]])
        pure = self.write(log, False)
        path = os.path.join(self.tmp, "no-master.db")
        w = TraceFileWriter(path)
        real = w._pages
        built = []

        class Refusing:
            placed = property(lambda _: real.placed)
            place = staticmethod(real.place)
            keep = staticmethod(real.keep)

            def index_all(self, columns):
                built.extend(columns)
                real.index_all(columns)  # their pages are written: they must be cut off again
                raise sqlite3.DatabaseError("table sqlite_master may not be modified")

        w._pages = Refusing()
        for _, m in log:
            w.send(pickle.loads(m))
        w.close()
        self.assertEqual(built, [0, 1, 2])
        self.assertIn("may not be modified", w.pages_error)
        self.same_tables(pure, path)

    def test_every_index_entry_at_every_leaf_boundary(self) -> None:
        """Files of n top-level calls for every n across the first leaf boundaries of the three
        indexes (entries of 10 to 12 bytes: about 350 to 390 fill a 4 KiB leaf), among them the
        n whose last entry comes right after a full leaf: every index holds every row."""
        for n in range(330, 420):
            events = []
            for i in range(n):
                events += [[1, 1, 10, 1000 + 2 * i], [2, 1, 10, 1001 + 2 * i, 3, 7]]
            log = self.by_hand_log([events])
            path = os.path.join(self.tmp, "boundary.db")
            w = TraceFileWriter(path)
            self.assertIsNotNone(w._pages)
            for _, m in log:
                w.send(pickle.loads(m))
            w.close()
            self.assertIsNone(w.pages_error)
            with closing(sqlite3.connect(path)) as db:
                self.assertEqual(db.execute("PRAGMA integrity_check").fetchall(), [("ok",)], n)

    def same_log(self, log):
        pure, fast = self.write(log, False), self.write(log, True)
        self.same_tables(pure, self.write(log, True, pages=True))
        with closing(sqlite3.connect(pure)) as a, closing(sqlite3.connect(fast)) as b:
            out = {}
            for t in ("calls", "exceptions", "processes"):
                rows = a.execute("SELECT * FROM %s ORDER BY rowid" % t).fetchall()
                self.assertEqual(b.execute("SELECT * FROM %s ORDER BY rowid" % t).fetchall(),
                                 rows, t)
                out[t] = rows
        return out


GATE_DEMO = """
import sys
seen = []


def inner(x):
    seen.append(sys.gettrace())
    seen.append(probe())  # excluded code called from here: no trace function while it runs
    seen.append(sys.gettrace())  # and this frame has it back
    return x + 1


def gen(n):
    for i in range(n):
        yield i
"""

GATE_OUTSIDE = """
import sys


def probe():
    return sys.gettrace()


def drive(n):
    seen = sys.gettrace()
    for i in range(n):
        inner(i)
        g = gen(2)
        for v in g:
            pass
    return seen
"""


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

    def no_eval_gate(self, off: bool = True) -> None:
        """The tracer without the eval gate (a thread then always has the trace function), or
        with it (off=False) whatever the environment says."""
        from unittest import mock
        patch = mock.patch.dict(os.environ, {"TRACELENS_EVAL_GATE": "0" if off else "1"})
        patch.start()
        self.addCleanup(patch.stop)

    def test_records_and_decides_once(self) -> None:
        for gated in (False, True):
            with self.subTest(eval_gate=gated):
                self.no_eval_gate(not gated)
                self.records_and_decides_once(gated)

    def records_and_decides_once(self, gated: bool) -> None:
        b, rec = self.backend()
        calls = []
        real = b._decide

        def counting(code, frame):
            calls.append(code.co_name)
            return real(code, frame)

        b._decide = counting  # type: ignore[assignment]
        before = sys.gettrace()
        inside = []

        def f(a, b=2):
            inside.append(sys.gettrace())
            return a

        b.start()
        try:
            self.assertEqual(b.eval_gate, gated and sys.version_info >= (3, 10))
            # With the eval gate this frame (running before the start) has no trace function;
            # the code it calls gets one while it runs.
            self.assertIs(sys.gettrace(), None if b.eval_gate else b._tracer)
            for i in range(3):
                f(i)
            self.assertIs(sys.gettrace(), None if b.eval_gate else b._tracer)
        finally:
            b.stop()
        self.assertEqual(inside, [b._tracer] * 3)
        self.assertIs(sys.gettrace(), before)
        self.assertEqual(calls.count("f"), 1)
        got = [(r[0], r[2].co_name) + tuple(r[4:]) for r in rec.buf if r[2] is f.__code__]
        line = f.__code__.co_firstlineno + 2
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
        self.no_eval_gate()
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

    @unittest.skipUnless((3, 10) <= sys.version_info < (3, 12), "the eval gate is for 3.10, 3.11")
    def test_eval_gate_runs_excluded_code_with_no_trace_function(self) -> None:
        self.no_eval_gate(False)
        b, rec = self.backend(exclude=["*"])
        seen = []

        def f():
            frame = sys._getframe()
            seen.append((sys.gettrace(), frame.f_trace_lines))
            return 1

        b.start()
        try:
            self.assertTrue(b.eval_gate)
            f()  # decided here, the first time: the trace function goes away at once
            f()  # decided before: never given one
        finally:
            b.stop()
        self.assertEqual(seen, [(None, True), (None, True)])
        self.assertEqual(rec.buf, [])

    @unittest.skipUnless((3, 10) <= sys.version_info < (3, 12), "the eval gate is for 3.10, 3.11")
    def test_eval_gate_traces_only_while_observed_code_runs(self) -> None:
        self.no_eval_gate(False)
        # Excluded code (this test's module is excluded by name below) calling recorded code,
        # a recorded generator resumed from excluded code, a thread, a filter change that
        # brings excluded code in, and the hook taken away on stop.
        import types
        folder = os.path.dirname(os.path.abspath(__file__))
        here = types.ModuleType("gate_demo")
        exec(compile(GATE_DEMO, os.path.join(folder, "gate_demo.py"), "exec"), here.__dict__)
        b, rec = self.backend(exclude=["gate_demo_outside"])
        outside = types.ModuleType("gate_demo_outside")
        outside.__dict__.update(inner=here.inner, gen=here.gen)
        exec(compile(GATE_OUTSIDE, os.path.join(folder, "gate_demo_outside.py"), "exec"),
             outside.__dict__)
        here.probe = outside.probe
        b.start()
        try:
            self.assertTrue(b.eval_gate)
            traced_outside = outside.drive(3)
            t = threading.Thread(target=outside.drive, args=(1,))
            t.start()
            t.join()
            from tracelens.filters import Filter
            from tracelens.scope import Scope
            b.set_filter(Filter(Scope(os.path.dirname(os.path.abspath(__file__)), [], [])))
            outside.drive(1)
        finally:
            b.stop()
        self.assertIsNone(traced_outside)
        # After the filter change probe is recorded too, so it runs with the trace function.
        self.assertEqual(here.seen, [b._tracer, None, b._tracer] * 4 + [b._tracer] * 3)
        names = [(r[0], r[2].co_name) for r in rec.buf
                 if r[0] in (1, 2, 6, 7) and r[2].co_name in ("inner", "gen", "drive", "probe")]
        round_ = [(1, "inner"), (2, "inner"), (1, "gen"), (6, "gen"), (7, "gen"), (6, "gen"),
                  (7, "gen"), (2, "gen")]
        with_drive = ([(1, "drive"), (1, "inner"), (1, "probe"), (2, "probe"), (2, "inner")]
                      + round_[2:] + [(2, "drive")])
        self.assertEqual(names, round_ * 3 + round_ + with_drive)
        self.assertEqual(len({r[1] for r in rec.buf if r[0] == 1}), 2)  # two threads
        mod = accel.load()
        self.assertFalse(mod.gate_remove(b._tracer))  # already taken away
        self.assertIsNone(sys.gettrace())

    @unittest.skipUnless((3, 10) <= sys.version_info < (3, 12), "the eval gate is for 3.10, 3.11")
    def test_no_eval_gate_when_a_thread_has_a_trace_function(self) -> None:
        b, rec = self.backend()

        def own(frame, event, arg):
            return None

        sys.settrace(own)
        try:
            b.start()
            try:
                self.assertFalse(b.eval_gate)
                self.assertIs(sys.gettrace(), b._tracer)
            finally:
                b.stop()
            self.assertIs(sys.gettrace(), own)
        finally:
            sys.settrace(None)

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


@unittest.skipUnless(sys.version_info >= (3, 12), "the sys.monitoring callbacks are 3.12+")
class MonitoringCallbacks(unittest.TestCase):
    """The C callbacks themselves, on a tool id of their own in this process: they record code
    in `known` (by id) and hand every other code to the Python callbacks, and every change to
    `known` counts at once (they keep what they found in it in a cache), in every thread."""

    def setUp(self) -> None:
        mod = accel.load() if accel.enabled() else None
        if mod is None or not getattr(mod, "MONITORING", 0):
            self.skipTest("accelerator not available here: %s" % accel.reason)
        self.mon = sys.monitoring  # type: ignore[attr-defined]
        self.tool = next(t for t in (5, 4, 3) if self.mon.get_tool(t) is None)
        self.mon.use_tool_id(self.tool, "tracelens-test")
        self.addCleanup(self.mon.free_tool_id, self.tool)
        self.buf = []
        self.known = {}
        self.fallback = []
        fallbacks = {name: (lambda *a, name=name: self.fallback.append((name, a[0])))
                     for name in ("PY_START", "PY_RETURN", "PY_YIELD", "PY_RESUME")}
        self.c = mod.Callbacks(self.known, self.buf, make_repr(40), self.fail, self.mon.DISABLE,
                               fallbacks, 40)
        E = self.mon.events
        self.mon.register_callback(self.tool, E.PY_START, self.c.on_start)
        self.mon.register_callback(self.tool, E.PY_RETURN, self.c.on_return)
        self.addCleanup(self.mon.register_callback, self.tool, E.PY_START, None)
        self.addCleanup(self.mon.register_callback, self.tool, E.PY_RETURN, None)

    def fail(self, exc) -> None:
        raise AssertionError("callback error: %r" % exc)

    def run_traced(self, fn, *args):
        E = self.mon.events
        self.mon.set_events(self.tool, E.PY_START | E.PY_RETURN)
        try:
            return fn(*args)
        finally:
            self.mon.set_events(self.tool, 0)

    def test_known_changes_count_at_once(self) -> None:
        def f(a, b=2):
            return a + b

        def g():
            return f(1) + f(2, b=3)

        code = f.__code__
        self.known[id(g.__code__)] = ()
        self.run_traced(g)  # f unknown: the Python callbacks
        self.assertEqual([r[0] for r in self.buf if r[2] is code], [])
        self.assertEqual([n for n, c in self.fallback if c is code], ["PY_START", "PY_RETURN"] * 2)
        self.known[id(code)] = ("a", "b")
        del self.buf[:], self.fallback[:]
        self.run_traced(g)
        self.assertEqual([(r[0], r[4]) for r in self.buf if r[2] is code and r[0] == 1],
                         [(1, ("1", "2")), (1, ("2", "3"))])
        self.assertEqual([r[5] for r in self.buf if r[2] is code and r[0] == 2], ["3", "5"])
        self.assertEqual(self.fallback, [])
        self.known[id(code)] = ("b",)  # replaced: the new names count
        del self.buf[:]
        self.run_traced(g)
        self.assertEqual([r[4] for r in self.buf if r[2] is code and r[0] == 1], [("2",), ("3",)])
        self.known.clear()  # cleared (a new filter): nothing is recorded in C any more
        del self.buf[:]
        self.run_traced(g)
        self.assertEqual(self.buf, [])
        self.assertEqual(len(self.fallback), 6)
        self.known.update({id(code): ("a",), id(g.__code__): ()})  # back again
        del self.fallback[:]
        t = threading.Thread(target=self.run_traced, args=(g,))
        t.start()
        t.join()
        self.run_traced(g)
        rows = [r for r in self.buf if r[2] is code and r[0] == 1]
        self.assertEqual([r[4] for r in rows], [("1",), ("2",)] * 2)
        self.assertEqual(len({r[1] for r in rows}), 2, "each thread's own ident")
        self.assertEqual({r[1] for r in rows}, {t.ident, threading.get_ident()})


if __name__ == "__main__":
    unittest.main()
