# The recorder's dropped records carry where they were: a batch that reports `dropped` also
# carries `dropped_ns`, the first and last timestamps (ns since the tracer's start) of the records
# it could not keep, so the timeline can hatch that region. Pure Recorder, no sockets.
from __future__ import annotations

import sys
import threading
import unittest

import support  # noqa: F401  (puts the tracer on sys.path)
from tracelens.recorder import THREAD_NOTE, Recorder

__all__ = ["DroppedRangeTest"]


class DroppedRangeTest(unittest.TestCase):
    def record(self, capacity: int, times: "list[int]") -> "list[dict]":
        sent: "list[dict]" = []
        rec = Recorder(sent.append, offsets=sys.version_info >= (3, 12), capacity=capacity)

        def f() -> None:
            pass

        rec.describe(f.__code__, "m", "f")
        ident = threading.get_ident()
        o = rec.origin
        rec.buf.append((THREAD_NOTE, ident, 7, "MainThread"))
        for t in times:
            rec.buf.append((1, ident, f.__code__, o + t, ()))
        rec.flush()
        rec.buf.append((1, ident, f.__code__, o + 9000, ()))
        rec.flush()
        return sent

    def test_a_full_buffer_reports_the_range_it_dropped(self) -> None:
        sent = self.record(4, [100, 200, 300, 400, 500, 600])
        # Kept: the thread note and the calls at 100, 200 and 300; dropped: 400, 500, 600.
        self.assertEqual(sent[0]["dropped"], 3)
        self.assertEqual(sent[0]["dropped_ns"], [400, 600])
        self.assertEqual([e[3] for e in sent[0]["events"]], [100, 200, 300])
        # The next batch drops nothing and carries no range.
        self.assertEqual(sent[1]["dropped"], 0)
        self.assertNotIn("dropped_ns", sent[1])

    def test_nothing_dropped_no_range(self) -> None:
        sent = self.record(100, [100, 200])
        self.assertEqual(sent[0]["dropped"], 0)
        self.assertNotIn("dropped_ns", sent[0])


if __name__ == "__main__":
    unittest.main()
