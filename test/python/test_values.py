# Value snapshots: structured values (--values structured: JSON behind the marker character, to
# a depth and width), the repr policy (--reprs builtins never runs user __repr__), a slow
# __repr__ not asked again for its type, tracelens.register_repr, and the bounded plain reprs.
import json
import unittest

from support import fixture, run_traced

from tracelens import wire
from tracelens.values import make_repr

F = fixture("structured.py")


def taken(trace):
    return [c[2][0] for c in trace.calls() if c[0] == "take"]


def decode(text):
    assert text.startswith(wire.STRUCTURED_PREFIX), text
    return json.loads(text[1:])


class StructuredTest(unittest.TestCase):
    def test_structured_values(self):
        proc, t = run_traced([F], ["--values", "structured"])
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        values = taken(t)
        self.assertEqual(decode(values[0]), {
            "t": "Point", "r": "Point(x=1, y=[2, 3])",
            "k": [["x", {"t": "int", "r": "1"}],
                  ["y", {"t": "list", "r": "[2, 3]", "n": 2,
                         "i": [{"t": "int", "r": "2"}, {"t": "int", "r": "3"}]}]]})
        self.assertEqual(decode(values[1]), {
            "t": "Pair", "r": "Pair(left=1, right='b')", "n": 2,
            "k": [["left", {"t": "int", "r": "1"}], ["right", {"t": "str", "r": "'b'"}]]})
        plain = decode(values[2])
        self.assertEqual(plain["t"], "Plain")
        self.assertEqual(plain["k"], [["name", {"t": "str", "r": "'p'"}],
                                      ["size", {"t": "int", "r": "2"}]])
        self.assertEqual(decode(values[3]), {
            "t": "list", "r": "[1, {'k': (2,)}]", "n": 2,
            "i": [{"t": "int", "r": "1"},
                  {"t": "dict", "r": "{'k': (2,)}", "n": 1,
                   "k": [["'k'", {"t": "tuple", "r": "(2,)"}]]}]})  # depth 2: no deeper
        self.assertEqual(values[4], "7")  # scalars stay plain text

    def test_depth_and_width(self):
        rep = make_repr(structured=True, depth=1, width=2)
        snap = decode(rep(list(range(5))))
        self.assertEqual(snap, {"t": "list", "r": "[0, 1, 2, 3, 4]", "n": 5, "x": True,
                                "i": [{"t": "int", "r": "0"}, {"t": "int", "r": "1"}]})
        huge = decode(make_repr(structured=True, width=64)([["x" * 100] * 64] * 64))
        self.assertEqual(set(huge), {"t", "r", "n", "x"})  # too big: the top level only

    def test_plain_values_are_unchanged_by_default(self):
        proc, t = run_traced([F])
        values = taken(t)
        self.assertEqual(values[0], "Point(x=1, y=[2, 3])")
        self.assertFalse(any(v.startswith(wire.STRUCTURED_PREFIX) for v in values))


class ReprPolicyTest(unittest.TestCase):
    def test_slow_registered_and_side_effects(self):
        proc, t = run_traced([F])
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        values = taken(t)
        # The first slow repr is kept; the type is not asked again.
        self.assertEqual(values[5:8], ["Slow()", "<Slow object>", "<Slow object>"])
        self.assertEqual(values[8], "$12.34")
        self.assertEqual(values[9], "Counting(1)")
        # The program sees the side effect of the one repr the tracer asked for.
        self.assertEqual(proc.stdout.decode(), "reprs run 1\n")

    def test_builtins_policy_runs_no_user_repr(self):
        proc, t = run_traced([F], ["--reprs", "builtins"])
        values = taken(t)
        self.assertEqual(values[:3], ["<Point object>", "<Pair object>", "<Plain object>"])
        self.assertEqual(values[3], "[1, {'k': (2,)}]")
        self.assertEqual(values[5:8], ["<Slow object>"] * 3)
        self.assertEqual(values[8], "$12.34")  # a registered repr is still used
        self.assertEqual(values[9], "<Counting object>")
        self.assertEqual(proc.stdout.decode(), "reprs run 0\n")


if __name__ == "__main__":
    unittest.main()
