# Line mode (`run --lines GLOB`, off by default): per-line hits, own time and time including
# callees for the code the user chose, aggregated in the process (LineStats) and sent as `lines`
# deltas by the session about every 100 ms, never one record per line. Own time leaves out the
# time spent in calls to traced (in-scope) code; calls into code out of scope count as the
# line's own. On 3.12+ a tool id of its own gets LINE events only for the chosen code objects
# (set_local_events) and calls/returns of code in scope (DISABLE elsewhere); on 3.9-3.11 the
# settrace backend's global function is wrapped and only chosen frames get f_trace_lines.
from __future__ import annotations

import os
import sys
import threading
import time
from .scope import glob_match
TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up time
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Tuple

__all__ = ["LineStats", "LineMode", "matches"]

Key = "Tuple[str, int]"  # (co_filename, line)


class LineStats:
    """Figures per (file, line), double-buffered: take() returns what was recorded up to the
    previous take, so no callback can still be adding to what it returns."""

    def __init__(self) -> None:
        self.box: List[Dict[Key, List[int]]] = [{}]
        self._old: Dict[Key, List[int]] = {}

    def take(self, final: bool = False) -> Dict[Key, List[int]]:
        old, self._old = self._old, self.box[0]
        self.box[0] = {}
        if final:
            merged = old
            for key, v in self._old.items():
                _add(merged, key, v)
            self._old = {}
            return merged
        return old


def _add(into: Dict[Key, List[int]], key: Key, v: List[int]) -> None:
    e = into.get(key)
    if e is None:
        into[key] = list(v)
    else:
        e[0] += v[0]
        e[1] += v[1]
        e[2] += v[2]


def matches(globs: List[str], module: str, filename: str) -> bool:
    """A --lines GLOB names a module (fnmatch on its name) or a file (on its path or base name)."""
    base = os.path.basename(filename)
    for g in globs:
        if glob_match(module, g) or glob_match(filename, g) or glob_match(base, g):
            return True
    return False


class LineMode:
    def __init__(self, flt: Any, globs: List[str], stats: LineStats) -> None:
        self.filter = flt
        self.globs = list(globs)
        self.stats = stats
        self.tool: Optional[int] = None
        self.stacks: Dict[int, List[List[Any]]] = {}
        self.decided: Dict[int, Tuple[Any, int]] = {}  # id(code) -> (code, 0 out / 1 in / 2 lines)

    def _decide(self, code: Any, frame: Any) -> int:
        try:
            module = frame.f_globals.get("__name__") if frame is not None else None
        except Exception:
            module = None
        module = module if isinstance(module, str) else ""
        qualname = getattr(code, "co_qualname", code.co_name)
        d = self.filter.decide(code, module, qualname)
        if d is None or not d.record:
            sel = 0
        else:
            sel = 2 if matches(self.globs, module, code.co_filename) else 1
        self.decided[id(code)] = (code, sel)
        return sel

    # -- the shared line bookkeeping -----------------------------------------------------------
    def _make(self) -> Tuple[Callable[..., None], Callable[..., None], Callable[..., None]]:
        stacks = self.stacks
        box = self.stats.box
        perf = time.perf_counter_ns
        get_ident = threading.get_ident

        def close(e: List[Any], now: int) -> None:
            total = now - e[3]
            key = (e[0].co_filename, e[2])
            d = box[0]
            v = d.get(key)
            if v is None:
                d[key] = [0, total - e[4], total]
            else:
                v[1] += total - e[4]
                v[2] += total

        def enter(code: Any, selected: bool) -> None:
            now = perf()
            tid = get_ident()
            st = stacks.get(tid)
            if st is None:
                st = stacks[tid] = []
            st.append([code, selected, 0, now, 0, now])

        def leave(code: Any) -> None:
            st = stacks.get(get_ident())
            if not st or st[-1][0] is not code:
                return
            e = st.pop()
            now = perf()
            if e[1] and e[2]:
                close(e, now)
            if st:
                st[-1][4] += now - e[5]

        def line(code: Any, lineno: int) -> None:
            st = stacks.get(get_ident())
            if not st:
                return
            e = st[-1]
            if e[0] is not code:
                return
            now = perf()
            if e[2]:
                close(e, now)
            e[2] = lineno
            e[3] = now
            e[4] = 0
            d = box[0]
            key = (code.co_filename, lineno)
            v = d.get(key)
            if v is None:
                d[key] = [1, 0, 0]
            else:
                v[0] += 1
        return enter, leave, line

    # -- sys.monitoring (3.12+) ----------------------------------------------------------------
    def start_monitoring(self) -> None:
        from .monitoring import pick_tool_id
        mon = sys.monitoring  # type: ignore[attr-defined]
        tool = pick_tool_id()
        if tool is None:
            raise RuntimeError("no free sys.monitoring tool id for line mode")
        mon.use_tool_id(tool, "tracelens-lines")
        self.tool = tool
        E = mon.events
        DISABLE = mon.DISABLE
        enter, leave, line = self._make()
        decided_get = self.decided.get
        decide = self._decide
        getframe = sys._getframe
        set_local = mon.set_local_events
        _id = id

        def sel_of(code: Any) -> int:
            entry = decided_get(_id(code))
            if entry is not None:
                return entry[1]
            sel = decide(code, getframe(2))
            if sel == 2:
                set_local(tool, code, E.LINE)
            return sel

        def on_start(code: Any, offset: int) -> Any:
            sel = sel_of(code)
            if not sel:
                return DISABLE
            enter(code, sel == 2)

        def on_end(code: Any, offset: int, value: Any) -> Any:
            if not sel_of(code):
                return DISABLE
            leave(code)

        def on_unwind(code: Any, offset: int, exc: Any) -> Any:
            entry = decided_get(_id(code))
            if entry is not None and entry[1]:
                leave(code)

        def on_line(code: Any, lineno: int) -> Any:
            line(code, lineno)

        reg = mon.register_callback
        reg(tool, E.PY_START, on_start)
        reg(tool, E.PY_RESUME, on_start)
        reg(tool, E.PY_RETURN, on_end)
        reg(tool, E.PY_YIELD, on_end)
        reg(tool, E.PY_UNWIND, on_unwind)
        reg(tool, E.LINE, on_line)
        mon.set_events(tool, E.PY_START | E.PY_RESUME | E.PY_RETURN | E.PY_YIELD | E.PY_UNWIND)

    def stop(self) -> None:
        if self.tool is None:
            return
        mon = sys.monitoring  # type: ignore[attr-defined]
        tool, self.tool = self.tool, None
        try:
            mon.set_events(tool, 0)
            for entry in list(self.decided.values()):
                if entry[1] == 2:
                    mon.set_local_events(tool, entry[0], 0)
            E = mon.events
            for ev in (E.PY_START, E.PY_RESUME, E.PY_RETURN, E.PY_YIELD, E.PY_UNWIND, E.LINE):
                mon.register_callback(tool, ev, None)
            mon.free_tool_id(tool)
        except Exception:
            pass

    # -- settrace (3.9-3.11) -------------------------------------------------------------------
    def wrap_settrace(self, global_trace: Callable[..., Any]) -> Callable[..., Any]:
        """The settrace backend's global function, keeping line figures for frames in scope."""
        enter, leave, line = self._make()
        decided_get = self.decided.get
        decide = self._decide
        _id = id

        class Lw:
            __slots__ = ("inner", "code")

            def __init__(self, inner: Any, code: Any) -> None:
                self.inner = inner
                self.code = code

            def __call__(self, frame: Any, event: str, arg: Any) -> Any:
                if event == "line":
                    line(self.code, frame.f_lineno)
                    return self
                if event == "return":
                    leave(self.code)
                self.inner(frame, event, arg)
                return self

        def lines_global(frame: Any, event: str, arg: Any) -> Any:
            ft = frame.f_trace
            if ft.__class__ is Lw:
                frame.f_trace = ft.inner  # a resumed generator: the backend sees its own function
            inner = global_trace(frame, event, arg)
            if inner is None:
                return None
            code = frame.f_code
            entry = decided_get(_id(code))
            sel = entry[1] if entry is not None else decide(code, frame)
            if not sel:
                return inner
            enter(code, sel == 2)
            if sel == 2:
                frame.f_trace_lines = True
            return Lw(inner, code)
        return lines_global
