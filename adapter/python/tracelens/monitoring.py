# The sys.monitoring backend (Python 3.12+): its own free tool id, process-wide (all threads,
# including ones running before it started). Each code object is decided once; code out of scope
# gets DISABLE so it runs at full speed. Callbacks only append tuples to the recorder's buffer.
# Callback sets: fast (the filter is settled per code), gated (depth/thread/--from/notrace
# children, gate.py), and C calls on top when asked. May not touch other tools' ids or events.
from __future__ import annotations

import sys
import threading
import time
import types
from opcode import opmap as _opmap  # not dis, which costs start-up time

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up time
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Optional, Tuple

from .filters import Filter, on_notrace_change
from .gate import Gate
from .recorder import Recorder, code_signature
from .tasks import CO_COROUTINE, TaskNames, task_name

__all__ = ["MonitoringBackend", "pick_tool_id", "line_of_offset"]

PREFERRED_IDS = (4, 5, 3)
RAISE_VARARGS = _opmap["RAISE_VARARGS"]
CO_OPTIMIZED = 0x1  # inspect.CO_OPTIMIZED: a function's frame (its f_locals a copy before 3.13)


#: The events the tracer registers callbacks for (each switched on when its callback exists).
EVENT_NAMES = ("PY_START", "PY_RETURN", "PY_YIELD", "PY_RESUME", "PY_THROW", "RAISE", "PY_UNWIND",
               "EXCEPTION_HANDLED", "RERAISE", "CALL", "C_RETURN", "C_RAISE")


def pick_tool_id() -> Optional[int]:
    """A free sys.monitoring tool id: 4, 5, 3 first, never 0-2 (debugger, coverage, profiler)."""
    mon = sys.monitoring  # type: ignore[attr-defined]
    for tool in PREFERRED_IDS:
        if mon.get_tool(tool) is None:
            return tool
    return None


def line_of_offset(code: Any, offset: int) -> int:
    """The source line of an instruction offset (slow path only: exceptions)."""
    line = code.co_firstlineno
    for start, end, ln in code.co_lines():
        if start <= offset < end:
            return ln if ln is not None else line
        if ln is not None:
            line = ln
    return line


class MonitoringBackend:
    name = "monitoring"

    def __init__(self, recorder: Recorder, filter: Filter, rep: Callable[[Any], str],
                 on_error: Callable[[BaseException], None], *, c_calls: bool = False) -> None:
        self.recorder = recorder
        self.filter = filter
        self.rep = rep
        self.on_error = on_error
        self.c_calls = c_calls
        self.tool: Optional[int] = None
        # id(code) -> argnames (TaskNames for coroutines) for code recorded in fast mode.
        self.known: Dict[int, Tuple[str, ...]] = {}
        # id(code) -> (argnames, Decision) for observed code in gated mode.
        self.gknown: Dict[int, Tuple[Tuple[str, ...], Any]] = {}
        self.gate: Optional[Gate] = None
        self._events = 0
        self._active = False
        self._paused = False
        self._unlisten: Optional[Callable[[], None]] = None
        #: Called as note(ident, native id, name) on a thread's own thread when threading starts
        #: it (threading.Thread._bootstrap, seen through a local CALL event): threads are
        #: named from their start without threading.setprofile (which the program could see).
        self.on_thread_start: Optional[Callable[[int, int, str], None]] = None
        self._boot: Any = None

    # -- decisions ------------------------------------------------------------------------------
    def _names(self, code: Any, module: Optional[str]) -> Tuple[str, ...]:
        names, _flags = code_signature(code)
        self.recorder.describe(code, module or "", getattr(code, "co_qualname", code.co_name))
        return TaskNames(names) if code.co_flags & CO_COROUTINE else names

    def _module(self, frame: Any) -> Optional[str]:
        try:
            module = frame.f_globals.get("__name__") if frame is not None else None
        except Exception:
            module = None
        return module if isinstance(module, str) else None

    def _decide(self, code: Any, frame: Any) -> Optional[Tuple[str, ...]]:
        """Fast mode: argument names of a code object recorded, or None when it is not."""
        module = self._module(frame)
        decision = self.filter.decide(code, module, getattr(code, "co_qualname", code.co_name))
        if decision is None or not decision.record:
            return None
        names = self._names(code, module)
        self.known[id(code)] = names
        return names

    def _gdecide(self, code: Any, frame: Any) -> Optional[Tuple[Tuple[str, ...], Any]]:
        """Gated mode: (argument names, Decision) of observed code, or None."""
        module = self._module(frame)
        decision = self.filter.decide(code, module, getattr(code, "co_qualname", code.co_name))
        if decision is None:
            return None
        entry = (self._names(code, module), decision)
        self.gknown[id(code)] = entry
        return entry

    # -- callbacks ------------------------------------------------------------------------------
    def _callbacks(self, gated: bool) -> Dict[str, Callable[..., Any]]:
        mon = sys.monitoring  # type: ignore[attr-defined]
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
        _TaskNames = TaskNames
        _task_name = task_name
        # On 3.12 a function frame's f_locals is a snapshot dict the frame keeps (it is filled
        # again whenever it is asked for): left full, it would keep the arguments alive after the
        # function let go of them, so a traced program would free objects later than untraced.
        # It is emptied once read, at the frame's start (3.13's f_locals is a view: no copy).
        forget_locals = sys.version_info < (3, 13)
        unwound: Dict[int, int] = {}
        handled: Dict[int, Any] = {}
        reraised_at: Dict[int, Tuple[Any, int, int]] = {}  # thread -> (code, id(exc), line)

        def safe_str(exc: BaseException) -> str:
            try:
                text = str(exc)
            except BaseException as e:
                return "<str failed: %s>" % _type(e).__name__
            return text if len(text) <= 120 else text[:119] + "\u2026"

        def exc_line(code: Any, exc: BaseException) -> int:
            tb = exc.__traceback__
            if tb is not None and tb.tb_frame.f_code is code:
                return tb.tb_lineno or 0  # None: an instruction without a line (3.12+)
            return 0

        def task_event(tid: int, code: Any) -> None:
            name = _task_name()
            if name is not None:
                append((9, tid, code, perf(), name))

        def on_start(code: Any, offset: int) -> Any:
            try:
                names = known_get(_id(code))
                if names is None:
                    names = decide(code, getframe(1))
                    if names is None:
                        return DISABLE
                if names.__class__ is _TaskNames:
                    task_event(get_ident(), code)
                if names:
                    frame = getframe(1)
                    loc = frame.f_locals
                    values = _tuple([rep(loc[n]) for n in names])
                    if forget_locals and code.co_flags & CO_OPTIMIZED:
                        loc.clear()  # see forget_locals
                    append((1, get_ident(), code, perf(), values))
                else:
                    append((1, get_ident(), code, perf(), ()))
            except RecursionError:
                pass
            except Exception as exc:
                fail(exc)

        def decide_start(code: Any) -> Any:
            # The accelerator's first PY_START of a code object: decided here, recorded in C.
            try:
                if decide(code, getframe(1)) is None:
                    return DISABLE
            except RecursionError:
                pass  # at the recursion limit: decided at a later event
            except Exception as exc:
                fail(exc)
            return None

        def unknown(code: Any) -> Any:
            # A frame that started before this code was decided (tracing started or the filter
            # changed while it ran): decide now; its end alone is not recorded.
            try:
                if decide(code, getframe(2)) is None:
                    return DISABLE
            except RecursionError:
                pass  # at the recursion limit: decided at a later event
            except Exception as exc:
                fail(exc)
            return None

        def on_return(code: Any, offset: int, value: Any) -> Any:
            if _id(code) not in known:
                return unknown(code)
            try:
                append((2, get_ident(), code, perf(), offset, rep(value)))
            except RecursionError:
                pass
            except Exception as exc:
                fail(exc)

        def on_yield(code: Any, offset: int, value: Any) -> Any:
            if _id(code) not in known:
                return unknown(code)
            try:
                append((6, get_ident(), code, perf(), offset, rep(value)))
            except RecursionError:
                pass
            except Exception as exc:
                fail(exc)

        def on_resume(code: Any, offset: int) -> Any:
            names = known_get(_id(code))
            if names is None:
                return unknown(code)
            tid = get_ident()
            if names.__class__ is _TaskNames:
                task_event(tid, code)
            append((7, tid, code, perf()))

        def on_throw(code: Any, offset: int, exc: BaseException) -> Any:
            names = known_get(_id(code))
            if names is not None:
                tid = get_ident()
                if names.__class__ is _TaskNames:
                    task_event(tid, code)
                append((7, tid, code, perf()))

        # Exception events, shared by both callback sets (the gated ones check the frame first).
        def raised(code: Any, offset: int, exc: BaseException) -> None:
            try:
                tid = get_ident()
                rec = handled.get(tid)
                if rec is not None and rec[2] is code and rec[7] == _id(exc):
                    # Caught here, then raised again (`raise` / `raise exc` in the handler).
                    handled[tid] = None
                    line = line_of_offset(code, offset)
                    reraised_at[tid] = (code, _id(exc), line)
                    append((3, tid, code, perf(), line, _type(exc), safe_str(exc)))
                    return
                tb = exc.__traceback__
                if tb is None and (_type(exc) is StopIteration or _type(exc) is StopAsyncIteration):
                    return  # the end of an await / yield from on a C iterator: not an error
                if unwound.get(tid) == _id(exc):
                    if tb is not None and tb.tb_next is not None:
                        return  # propagated out of a callee: only Unwind/Handled here
                append((3, tid, code, perf(), exc_line(code, exc), _type(exc), safe_str(exc)))
            except RecursionError:
                pass  # at the recursion limit: this record is left out
            except Exception as e:
                fail(e)

        def unwinding(code: Any, offset: int, exc: BaseException, strict: bool = False) -> None:
            try:
                tid = get_ident()
                unwound[tid] = _id(exc)
                line = exc_line(code, exc)
                again = reraised_at.get(tid)
                if again is not None and again[0] is code and again[1] == _id(exc):
                    line = again[2]  # it leaves from where it was raised again
                append((4, tid, code, perf(), line, _type(exc), safe_str(exc)))
            except RecursionError:
                if strict:
                    raise  # the accelerator's callback records the unwind without Python
            except Exception as e:
                fail(e)

        def caught(code: Any, exc: BaseException) -> None:
            try:
                tid = get_ident()
                rec = [5, tid, code, perf(), exc_line(code, exc), _type(exc), safe_str(exc), _id(exc)]
                handled[tid] = rec
                append(rec)
            except RecursionError:
                pass  # at the recursion limit: this record is left out
            except Exception as e:
                fail(e)

        def reraised(code: Any, offset: int, exc: BaseException) -> None:
            tid = get_ident()
            rec = handled.get(tid)
            if rec is None or rec[2] is not code or rec[7] != _id(exc):
                return
            try:
                explicit = code.co_code[offset] == RAISE_VARARGS
            except Exception:
                explicit = False
            if explicit:
                # A bare `raise` in the handler: caught here, then raised again.
                handled[tid] = None
                line = line_of_offset(code, offset)
                reraised_at[tid] = (code, _id(exc), line)
                append((3, tid, code, perf(), line, _type(exc), safe_str(exc)))
            else:
                # A finally/with cleanup or a non-matching except re-raises: not handled after all.
                rec[0] = 0

        def on_raise(code: Any, offset: int, exc: BaseException) -> Any:
            if _id(code) in known:
                raised(code, offset, exc)

        def on_unwind(code: Any, offset: int, exc: BaseException) -> Any:
            if _id(code) in known:
                unwinding(code, offset, exc)

        def on_unwind_strict(code: Any, offset: int, exc: BaseException) -> Any:
            unwinding(code, offset, exc, True)  # called by the accelerator for known code only

        def on_handled(code: Any, offset: int, exc: BaseException) -> Any:
            if _id(code) in known:
                caught(code, exc)

        def on_reraise(code: Any, offset: int, exc: BaseException) -> Any:
            reraised(code, offset, exc)

        callbacks: Dict[str, Callable[..., Any]] = {
            "PY_START": on_start, "PY_RETURN": on_return, "PY_YIELD": on_yield,
            "PY_RESUME": on_resume, "PY_THROW": on_throw, "RAISE": on_raise,
            "PY_UNWIND": on_unwind, "EXCEPTION_HANDLED": on_handled, "RERAISE": on_reraise,
            "PY_UNWIND_STRICT": on_unwind_strict,  # not registered: for the accelerator
            "PY_START_DECIDE": decide_start,  # the same
        }

        if gated:
            gate = self.gate
            assert gate is not None
            gknown_get = self.gknown.get
            gdecide = self._gdecide
            enter, leave, recorded = gate.enter, gate.leave, gate.recorded

            def g_start(code: Any, offset: int) -> Any:
                try:
                    entry = gknown_get(_id(code))
                    if entry is None:
                        entry = gdecide(code, getframe(1))
                        if entry is None:
                            return DISABLE
                    frame = getframe(1)
                    if not enter(frame, entry[1]):
                        return None
                    names = entry[0]
                    tid = get_ident()
                    if names.__class__ is _TaskNames:
                        task_event(tid, code)
                    if names:
                        loc = frame.f_locals
                        values = _tuple([rep(loc[n]) for n in names])
                        if forget_locals and code.co_flags & CO_OPTIMIZED:
                            loc.clear()  # see forget_locals
                        append((1, tid, code, perf(), values))
                    else:
                        append((1, tid, code, perf(), ()))
                except RecursionError:
                    pass
                except Exception as exc:
                    fail(exc)

            def g_unknown(code: Any) -> Any:
                try:
                    if gdecide(code, getframe(2)) is None:
                        return DISABLE
                except RecursionError:
                    pass  # at the recursion limit: decided at a later event
                except Exception as exc:
                    fail(exc)
                return None

            def g_return(code: Any, offset: int, value: Any) -> Any:
                if gknown_get(_id(code)) is None:
                    return g_unknown(code)
                try:
                    if leave(getframe(1)):
                        append((2, get_ident(), code, perf(), offset, rep(value)))
                except RecursionError:
                    pass
                except Exception as exc:
                    fail(exc)

            def g_yield(code: Any, offset: int, value: Any) -> Any:
                if gknown_get(_id(code)) is None:
                    return g_unknown(code)
                try:
                    if leave(getframe(1)):
                        append((6, get_ident(), code, perf(), offset, rep(value)))
                except RecursionError:
                    pass
                except Exception as exc:
                    fail(exc)

            def g_resume(code: Any, offset: int) -> Any:
                entry = gknown_get(_id(code))
                if entry is None:
                    return g_unknown(code)
                try:
                    if enter(getframe(1), entry[1]):
                        tid = get_ident()
                        if entry[0].__class__ is _TaskNames:
                            task_event(tid, code)
                        append((7, tid, code, perf()))
                except RecursionError:
                    pass
                except Exception as exc:
                    fail(exc)

            def g_throw(code: Any, offset: int, exc: BaseException) -> Any:
                entry = gknown_get(_id(code))
                if entry is not None:
                    try:
                        if enter(getframe(1), entry[1]):
                            append((7, get_ident(), code, perf()))
                    except RecursionError:
                        pass  # at the recursion limit: this record is left out
                    except Exception as e:
                        fail(e)

            def g_raise(code: Any, offset: int, exc: BaseException) -> Any:
                if gknown_get(_id(code)) is not None and recorded(getframe(1)):
                    raised(code, offset, exc)

            def g_unwind(code: Any, offset: int, exc: BaseException) -> Any:
                if gknown_get(_id(code)) is not None and leave(getframe(1)):
                    unwinding(code, offset, exc)

            def g_handled(code: Any, offset: int, exc: BaseException) -> Any:
                if gknown_get(_id(code)) is not None and recorded(getframe(1)):
                    caught(code, exc)

            callbacks.update({
                "PY_START": g_start, "PY_RETURN": g_return, "PY_YIELD": g_yield,
                "PY_RESUME": g_resume, "PY_THROW": g_throw, "RAISE": g_raise,
                "PY_UNWIND": g_unwind, "EXCEPTION_HANDLED": g_handled,
            })

        if self.c_calls:
            python_callables = (types.FunctionType, types.MethodType)
            if gated:
                gk = self.gknown

                def in_scope(code: Any) -> bool:
                    entry = gk.get(_id(code))
                    return entry is not None and entry[1].record and recorded(getframe(2))
            else:
                def in_scope(code: Any) -> bool:
                    return _id(code) in known

            def on_call(code: Any, offset: int, func: Any, arg0: Any) -> Any:
                if _type(func) in python_callables:
                    return None
                if not in_scope(code):
                    return DISABLE if _id(code) not in known and _id(code) not in self.gknown else None
                append((10, get_ident(), func, perf()))

            def on_c_return(code: Any, offset: int, func: Any, arg0: Any) -> Any:
                if in_scope(code):
                    append((11, get_ident(), func, perf()))

            callbacks.update({"CALL": on_call, "C_RETURN": on_c_return, "C_RAISE": on_c_return})
        return callbacks

    # -- life cycle -----------------------------------------------------------------------------
    def start(self) -> None:
        mon = sys.monitoring  # type: ignore[attr-defined]
        tool = pick_tool_id()
        if tool is None:
            raise RuntimeError("no free sys.monitoring tool id (3, 4 and 5 are taken)")
        mon.use_tool_id(tool, "tracelens")
        self.tool = tool
        self._install()
        self._active = True
        self._unlisten = on_notrace_change(self._notrace_changed)

    def _install(self) -> None:
        """Registers the callback set the filter needs and switches its events on."""
        mon = sys.monitoring  # type: ignore[attr-defined]
        E = mon.events
        gated = self.filter.gated
        self.known.clear()
        self.gknown.clear()
        self.gate = Gate(self.filter.max_depth, self.filter.from_glob is not None) if gated else None
        callbacks = self._callbacks(gated)
        if not gated:
            from .accel import monitoring_callbacks  # hot events in C when the accelerator loads
            callbacks = monitoring_callbacks(callbacks, self.known, self.recorder.buf, self.rep,
                                             self.on_error, mon.DISABLE)
        events = 0
        for name in callbacks:
            if name in EVENT_NAMES:
                events |= getattr(E, name)
        boot = _thread_bootstrap_code() if self.on_thread_start is not None else None
        if boot is not None:
            callbacks["CALL"] = _thread_start_call(callbacks.get("CALL"), boot,
                                                   self.on_thread_start, mon.DISABLE)
        for name in EVENT_NAMES:
            mon.register_callback(self.tool, getattr(E, name), callbacks.get(name))
        self._events = events
        mon.set_events(self.tool, 0 if self._paused else events)
        if boot is not None and self._boot is None:
            try:
                mon.set_local_events(self.tool, boot, E.CALL)
                self._boot = boot
            except Exception:  # threads are then named when the writer first sees them
                pass

    def _notrace_changed(self) -> None:
        if self._active and not (self.gate is not None):
            self.set_filter(self.filter)

    def pause(self) -> None:
        self._paused = True
        if self._active and self.tool is not None:
            sys.monitoring.set_events(self.tool, 0)  # type: ignore[attr-defined]

    def resume(self) -> None:
        self._paused = False
        if self._active and self.tool is not None:
            if self.gate is not None:
                self.gate.clear()  # frames that ended while paused left stale entries
            sys.monitoring.set_events(self.tool, self._events)  # type: ignore[attr-defined]

    def set_filter(self, filter: Filter) -> None:
        """Replaces the filter; every code object is decided again (code switched off earlier
        included: restart_events)."""
        self.filter = filter
        if self._active:
            self._install()
            sys.monitoring.restart_events()  # type: ignore[attr-defined]

    def set_scope(self, scope: Any) -> None:
        self.set_filter(Filter(scope))

    def stop(self) -> None:
        """Switches every event off and frees the tool id (idempotent, any thread)."""
        if not self._active or self.tool is None:
            return
        self._active = False
        if self._unlisten is not None:
            self._unlisten()
        mon = sys.monitoring  # type: ignore[attr-defined]
        try:
            mon.set_events(self.tool, 0)
            if self._boot is not None:
                mon.set_local_events(self.tool, self._boot, 0)
                self._boot = None
            E = mon.events
            for name in EVENT_NAMES:
                mon.register_callback(self.tool, getattr(E, name), None)
            mon.free_tool_id(self.tool)
        except Exception:
            pass


def _thread_bootstrap_code() -> Any:
    """The code every threading.Thread runs first on its own thread, or None."""
    code = getattr(getattr(threading.Thread, "_bootstrap", None), "__code__", None)
    return code if isinstance(code, types.CodeType) else None


def _thread_start_call(inner: Optional[Callable[..., Any]], boot: Any,
                       note: Callable[[int, int, str], None], DISABLE: Any) -> Callable[..., Any]:
    """The CALL callback: the calls in the bootstrap code name the thread (once per thread: an
    ident threading reuses comes with another native id), as soon as threading lists it; every
    other call goes to `inner` (C-call recording), which never switches the bootstrap off."""
    noted: Dict[int, int] = {}
    get_ident = threading.get_ident
    get_native_id = threading.get_native_id
    active = threading._active  # type: ignore[attr-defined]
    Thread = threading.Thread

    def on_call(code: Any, offset: int, func: Any, arg0: Any) -> Any:
        if code is boot:
            try:
                ident = get_ident()
                native = get_native_id()
                if noted.get(ident) != native:
                    # The first call is self._bootstrap_inner(): the thread is its argument.
                    t = arg0 if isinstance(arg0, Thread) else active.get(ident)
                    if t is not None:
                        noted[ident] = native
                        note(ident, native, t.name)
            except Exception:
                pass
            if inner is None:
                return None
            r = inner(code, offset, func, arg0)
            return None if r is DISABLE else r
        return inner(code, offset, func, arg0) if inner is not None else None

    return on_call
