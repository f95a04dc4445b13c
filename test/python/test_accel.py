# Tests of the optional C accelerator (accel.py, _speedups.c): it builds with this interpreter's
# own settings, can be switched off, its value short paths give exactly what values.py gives, its
# batch builder gives exactly the pure-Python batches, and a traced program records the same.
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import unittest

from support import TRACER_DIR, run_traced, tracer_env

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


if __name__ == "__main__":
    unittest.main()
