# The sys.monitoring backend (Python 3.12+): its own free tool id, process-wide (all threads,
# including ones running before it started). Each code object is decided once; code out of scope
# gets DISABLE so it runs at full speed. Callbacks only append tuples to the recorder's buffer.
# May not touch other tools' ids or events.
from __future__ import annotations

import sys
import threading
import time
from typing import Any, Callable, Dict, Optional, Tuple

from .recorder import Recorder, code_signature
from .scope import Scope

__all__ = ["MonitoringBackend", "pick_tool_id"]

PREFERRED_IDS = (4, 5, 3)


def pick_tool_id() -> Optional[int]:
    """A free sys.monitoring tool id: 4, 5, 3 first, never 0-2 (debugger, coverage, profiler)."""
    mon = sys.monitoring  # type: ignore[attr-defined]
    for tool in PREFERRED_IDS:
        if mon.get_tool(tool) is None:
            return tool
    return None


class MonitoringBackend:
    name = "monitoring"

    def __init__(self, recorder: Recorder, scope: Scope, rep: Callable[[Any], str],
                 on_error: Callable[[BaseException], None]) -> None:
        self.recorder = recorder
        self.scope = scope
        self.rep = rep
        self.on_error = on_error
        self.tool: Optional[int] = None
        self.known: Dict[int, Tuple[str, ...]] = {}
        self._events = 0
        self._active = False

    def _decide(self, code: Any, frame: Any) -> Optional[Tuple[str, ...]]:
        """Argument names of a code object in scope, or None when it is not traced."""
        try:
            module = frame.f_globals.get("__name__") if frame is not None else None
        except Exception:
            module = None
        if not self.scope.decide(code.co_filename, module if isinstance(module, str) else None):
            return None
        names, _flags = code_signature(code)
        self.recorder.describe(code, module or "", getattr(code, "co_qualname", code.co_name))
        self.known[id(code)] = names
        return names

    def start(self) -> None:
        mon = sys.monitoring  # type: ignore[attr-defined]
        tool = pick_tool_id()
        if tool is None:
            raise RuntimeError("no free sys.monitoring tool id (3, 4 and 5 are taken)")
        mon.use_tool_id(tool, "tracelens")
        self.tool = tool
        E = mon.events
        DISABLE = mon.DISABLE
        rep = self.rep
        known = self.known
        known_get = known.get
        append = self.recorder.buf.append
        getframe = sys._getframe
        perf = time.perf_counter_ns
        get_ident = threading.get_ident
        decide = self._decide
        fail = self.on_error
        _id = id
        _tuple = tuple
        _type = type
        unwound: Dict[int, int] = {}
        handled: Dict[int, Any] = {}

        def safe_str(exc: BaseException) -> str:
            try:
                return rep_str(str(exc))
            except BaseException as e:
                return "<str failed: %s>" % _type(e).__name__

        def rep_str(text: str) -> str:
            limit = 120
            return text if len(text) <= limit else text[:limit - 1] + "\u2026"

        def exc_line(code: Any, exc: BaseException) -> int:
            tb = exc.__traceback__
            if tb is not None and tb.tb_frame.f_code is code:
                return tb.tb_lineno
            return 0

        def on_start(code: Any, offset: int) -> Any:
            try:
                names = known_get(_id(code))
                if names is None:
                    names = decide(code, getframe(1))
                    if names is None:
                        return DISABLE
                if names:
                    loc = getframe(1).f_locals
                    append((1, get_ident(), code, perf(), _tuple([rep(loc[n]) for n in names])))
                else:
                    append((1, get_ident(), code, perf(), ()))
            except RecursionError:
                pass
            except Exception as exc:
                fail(exc)

        def on_return(code: Any, offset: int, value: Any) -> Any:
            if _id(code) not in known:
                return DISABLE
            try:
                append((2, get_ident(), code, perf(), offset, rep(value)))
            except RecursionError:
                pass
            except Exception as exc:
                fail(exc)

        def on_yield(code: Any, offset: int, value: Any) -> Any:
            if _id(code) not in known:
                return DISABLE
            try:
                append((6, get_ident(), code, perf(), offset, rep(value)))
            except RecursionError:
                pass
            except Exception as exc:
                fail(exc)

        def on_resume(code: Any, offset: int) -> Any:
            if _id(code) not in known:
                return DISABLE
            append((7, get_ident(), code, perf()))

        def on_throw(code: Any, offset: int, exc: BaseException) -> Any:
            if _id(code) in known:
                append((7, get_ident(), code, perf()))

        def on_raise(code: Any, offset: int, exc: BaseException) -> Any:
            if _id(code) not in known:
                return
            try:
                tid = get_ident()
                if unwound.get(tid) == _id(exc):
                    tb = exc.__traceback__
                    if tb is not None and tb.tb_next is not None:
                        return  # propagated out of a callee: only Unwind/Handled here
                append((3, tid, code, perf(), exc_line(code, exc), _type(exc), safe_str(exc)))
            except Exception as e:
                fail(e)

        def on_unwind(code: Any, offset: int, exc: BaseException) -> Any:
            if _id(code) not in known:
                return
            try:
                tid = get_ident()
                unwound[tid] = _id(exc)
                append((4, tid, code, perf(), exc_line(code, exc), _type(exc), safe_str(exc)))
            except Exception as e:
                fail(e)

        def on_handled(code: Any, offset: int, exc: BaseException) -> Any:
            if _id(code) not in known:
                return
            try:
                tid = get_ident()
                rec = [5, tid, code, perf(), exc_line(code, exc), _type(exc), safe_str(exc), _id(exc)]
                handled[tid] = rec
                append(rec)
            except Exception as e:
                fail(e)

        def on_reraise(code: Any, offset: int, exc: BaseException) -> Any:
            # A finally/with cleanup or a non-matching except re-raises: not handled after all.
            rec = handled.get(get_ident())
            if rec is not None and rec[2] is code and rec[7] == _id(exc):
                rec[0] = 0

        register = mon.register_callback
        register(tool, E.PY_START, on_start)
        register(tool, E.PY_RETURN, on_return)
        register(tool, E.PY_YIELD, on_yield)
        register(tool, E.PY_RESUME, on_resume)
        register(tool, E.PY_THROW, on_throw)
        register(tool, E.RAISE, on_raise)
        register(tool, E.PY_UNWIND, on_unwind)
        register(tool, E.EXCEPTION_HANDLED, on_handled)
        register(tool, E.RERAISE, on_reraise)
        self._events = (E.PY_START | E.PY_RETURN | E.PY_YIELD | E.PY_RESUME | E.PY_THROW
                        | E.RAISE | E.PY_UNWIND | E.EXCEPTION_HANDLED | E.RERAISE)
        mon.set_events(tool, self._events)
        self._active = True

    def pause(self) -> None:
        if self._active and self.tool is not None:
            sys.monitoring.set_events(self.tool, 0)  # type: ignore[attr-defined]

    def resume(self) -> None:
        if self._active and self.tool is not None:
            sys.monitoring.set_events(self.tool, self._events)  # type: ignore[attr-defined]

    def set_scope(self, scope: Scope) -> None:
        """Replaces the filter; code switched off earlier is decided again."""
        self.scope = scope
        self.known.clear()
        if self._active:
            sys.monitoring.restart_events()  # type: ignore[attr-defined]

    def stop(self) -> None:
        """Switches every event off and frees the tool id (idempotent, any thread)."""
        if not self._active or self.tool is None:
            return
        self._active = False
        mon = sys.monitoring  # type: ignore[attr-defined]
        try:
            mon.set_events(self.tool, 0)
            for event in (mon.events.PY_START, mon.events.PY_RETURN, mon.events.PY_YIELD,
                          mon.events.PY_RESUME, mon.events.PY_THROW, mon.events.RAISE,
                          mon.events.PY_UNWIND, mon.events.EXCEPTION_HANDLED, mon.events.RERAISE):
                mon.register_callback(self.tool, event, None)
            mon.free_tool_id(self.tool)
        except Exception:
            pass
