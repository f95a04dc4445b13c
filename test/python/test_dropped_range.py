# The recorder's dropped records carry where they were: a batch that reports `dropped` also
# carries `dropped_ns`, the first and last timestamps (ns since the tracer's start) of the records
# it could not keep, so the timeline can hatch that region. A long flush goes out in several
# batches, and what it has not sent yet counts towards the capacity. Pure Recorder, no sockets.
from __future__ import annotations

import sys
import threading
import unittest

import support  # noqa: F401  (puts the tracer on sys.path)
from tracelens import recorder
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

    def test_a_long_flush_is_sent_in_parts_and_counts_what_it_holds(self) -> None:
        """Records that come while the parts are sent go to the buffer; when those and the
        parts not yet sent pass the capacity, the newest are dropped: recorded + dropped is
        everything, and no part is larger than BATCH_EVENTS."""
        step = recorder.BATCH_EVENTS
        total = 3 * step + 5

        def f() -> None:
            pass

        ident = threading.get_ident()
        sent: "list[dict]" = []
        rec: Recorder

        def send(message: dict) -> None:
            sent.append(message)
            # The program goes on while a part is sent: two parts' worth more each time.
            for k in range(2 * step):
                rec.buf.append((1, ident, f.__code__, rec.origin + 10 ** 7 + len(sent) * 2 * step + k, ()))

        capacity = total + step // 2
        rec = Recorder(send, offsets=sys.version_info >= (3, 12), capacity=capacity)
        rec.describe(f.__code__, "m", "f")
        for k in range(total):
            rec.buf.append((1, ident, f.__code__, rec.origin + k, ()))
        rec.flush()
        self.assertEqual(len(sent), 4)
        self.assertTrue(all(len(m["events"]) + len(unpacked(m)) <= step for m in sent))
        # Held (taken and not sent, plus the buffer) never passed the capacity before a part
        # went: the first part had room, the later ones dropped what did not fit.
        self.assertEqual([m["dropped"] for m in sent], [0, step // 2, step, step])
        self.assertTrue(all("dropped_ns" in m for m in sent[1:]))
        self.assertLessEqual(len(rec.buf) - 2 * step, capacity)
        self.assertEqual(rec.recorded + sum(m["dropped"] for m in sent) + len(rec.buf),
                         total + 4 * 2 * step)


def unpacked(message: dict) -> list:
    from tracelens.wire import unpack_events
    return unpack_events(message["packed"]) if message.get("packed") else []


if __name__ == "__main__":
    unittest.main()
