# `python -m tracelens export --chrome` writes a structured value (`run --values structured`,
# wire.STRUCTURED_PREFIX + JSON) as its repr, exactly as the same program traced with plain reprs:
# the fixture test/fixtures/structured_values.py traced both ways, exported, compared.
from __future__ import annotations

import json
import os
import unittest

from support import fixture, run_python, run_traced, tracer_env

__all__ = ["ExportStructuredTest"]


def slices(trace_path: str) -> list:
    out = os.path.join(os.path.dirname(trace_path), "chrome.json")
    result = run_python(["-m", "tracelens", "export", "--chrome", trace_path, out])
    if result.returncode != 0:
        raise AssertionError(result.stderr.decode())
    with open(out, encoding="utf-8") as f:
        events = json.load(f)["traceEvents"]
    return [(e["name"], e["args"].get("args"), e["args"].get("return"), e["args"].get("yield"),
             e["args"].get("exception")) for e in events if e["ph"] == "X"]


class ExportStructuredTest(unittest.TestCase):
    def test_structured_values_export_as_their_repr(self) -> None:
        env = tracer_env({"PYTHONHASHSEED": "0"})
        traces = {}
        for mode in ("structured", "repr"):
            proc, trace = run_traced([fixture("structured_values.py")], ["--values", mode],
                                     env=env)
            self.assertEqual(proc.returncode, 0, proc.stderr.decode())
            assert trace is not None
            traces[mode] = trace
        self.assertTrue(any(t.startswith("\u001e") for t in traces["structured"].strings.values()))
        structured = slices(traces["structured"].path)
        self.assertEqual(structured, slices(traces["repr"].path))
        self.assertNotIn("\u001e", json.dumps(structured))
        self.assertIn(("area", {"p": "Point(x=0, y=1)"}, "{'w': 0, 'h': 1, 'a': 0}", None, None),
                      structured)


if __name__ == "__main__":
    unittest.main()
