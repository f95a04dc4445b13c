# The sampler (`run --sample HZ`, off by default): a thread that reads every thread's stack
# (sys._current_frames) HZ times a second and counts, per (file, line) of code in scope, the
# samples where it was the running line (own) and where it was anywhere on the stack (total);
# times are estimated from the period. Sent by the session as sampled `lines` deltas; the files
# they name are defined through the recorder's file table (define_files), so sampling works
# without call recording. With the accelerator on 3.12+, the clock is its SampleTimer: each sample
# runs in the main thread between two bytecodes (a pending call), so the program never hands the
# GIL to a sampler thread; otherwise (3.9-3.11, TRACELENS_ACCEL=0) this file's thread. Knows
# nothing of events; reads frames only, never runs the program's code.
from __future__ import annotations

import sys
import threading
TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up time
if TYPE_CHECKING:
    from typing import Any, Dict, Iterable, Optional, Set, Tuple

from .linemode import LineStats
from .ownthreads import Stop, idents as own_idents

__all__ = ["Sampler", "define_files"]

#: Frames walked per thread and sample at most (a stack is never deeper; a broken chain ends).
MAX_DEPTH = 100_000


def define_files(recorder: Any, paths: Iterable[str]) -> None:
    """Gives the files not yet in the recorder's file table their wire ids and sends them in a
    batch of their own (no events), so `lines` figures sent after it may name them. Runs beside
    the writer thread under the recorder's lock; the recorder's callbacks are not involved."""
    with recorder._lock:
        table = recorder._files
        files = []
        for path in paths:
            if path not in table:
                fid = table[path] = len(table) + 1
                files.append([fid, path])
        if not files:
            return
        recorder._seq += 1
        recorder._send({"t": "batch", "seq": recorder._seq, "strings": [], "files": files,
                        "codes": [], "threads": [], "events": [], "dropped": 0})


class Sampler:
    def __init__(self, hz: float, scope: Any, stats: LineStats) -> None:
        if not 0 < hz <= 10000:
            raise ValueError("the sampling rate must be between 0 and 10000 per second")
        self.period = 1.0 / hz
        self.period_ns = int(1e9 / hz)
        self.scope = scope
        self.stats = stats
        self.samples = 0
        self._stop = Stop()
        self._thread: Any = None  # an OwnThread
        self._timer: Any = None
        self._files: Dict[str, bool] = {}
        self._no_line: Dict[Tuple[Any, int], int] = {}

    def _in_scope(self, frame: Any) -> bool:
        filename = frame.f_code.co_filename
        known = self._files.get(filename)
        if known is None:
            module = frame.f_globals.get("__name__")
            known = self._files[filename] = self.scope.decide(
                filename, module if isinstance(module, str) else None)
        return known

    def _line_before(self, code: Any, lasti: int) -> int:
        """The line of an instruction the compiler gave none (on 3.11 the jump back at the end
        of a loop body, where samples often land): the last line before it, as the time spent
        there is that line's; 0 when none is known."""
        key = (code, lasti)
        line = self._no_line.get(key)
        if line is None:
            line = 0
            for start, _end, ln in code.co_lines():
                if start > lasti:
                    break
                if ln is not None:
                    line = ln
            if len(self._no_line) < 10_000:
                self._no_line[key] = line
        return line

    def start(self) -> None:
        from . import accel
        timer_type = getattr(accel.load(), "SampleTimer", None)
        # 3.12+ only: on 3.11 a stack walked from a pending call can lead back into itself
        # through f_back (seen as a sample that never ends); the thread is safe there.
        if timer_type is not None and sys.version_info >= (3, 12):
            self._timer = timer_type(self._sample_safe, self.period)
            self._timer.start()
            return
        from .ownthreads import OwnThread
        self._thread = OwnThread(self._run, "tracelens-sampler")
        self._thread.start()

    def _run(self) -> None:
        wait = self._stop.wait
        while not wait(self.period):
            self.sample()

    def _sample_safe(self) -> None:
        try:
            self.sample()
        except Exception:
            pass  # a frame that went away under us: the next sample

    def sample(self) -> None:
        """One sample: every thread's stack but the tracer's own threads."""
        ours = own_idents
        period_ns = self.period_ns
        box = self.stats.box
        in_scope = self._in_scope
        line_before = self._line_before
        d = box[0]
        for ident, frame in sys._current_frames().items():
            if ident in ours:
                continue
            seen = set()
            top = True
            f = frame
            depth = 0
            while f is not None and depth < MAX_DEPTH:
                depth += 1
                # A frame at its first instruction (where a pending sample often lands) has not
                # reached a line of its own yet: its caller's line counts, not the def line.
                line = f.f_lineno if f.f_lasti > 0 and in_scope(f) else 0
                if line is None:
                    line = line_before(f.f_code, f.f_lasti)
                if line:
                    key = (f.f_code.co_filename, line)
                    if key not in seen:
                        seen.add(key)
                        v = d.get(key)
                        if v is None:
                            v = d[key] = [0, 0, 0]
                        if top:
                            v[0] += 1
                            v[1] += period_ns
                        v[2] += period_ns
                    top = False
                f = f.f_back
        self.samples += 1

    def stop(self) -> None:
        self._stop.set()
        if self._timer is not None:
            self._timer.stop()
        t = self._thread
        if t is not None and t.ident != threading.get_ident():
            t.join(2.0)
