# The sys.settrace backend (Python 3.9-3.11), same records as the sys.monitoring one. The global
# trace function sees each new frame once ('call'), decides its code object once, and gives a
# local trace function (line events off) only to frames in scope; returns, yields and unwinds
# are told apart by the instruction the frame stopped at. Restores the previous trace function.
# With the C accelerator (accel.py) a C trace function does the common events and hands the rest
# to the functions here, which stay the reference behaviour (line mode keeps them all); and, when
# no thread has a trace function of its own, on 3.10 and 3.11 its eval gate (a PEP 523 hook) gives
# a thread the trace function only while code the filter looks at runs on it, so excluded code
# runs with none (on 3.11 that keeps the specialising interpreter, which any trace function
# turns off), and threads running before the start are covered too.
from __future__ import annotations

from opcode import opmap as _opmap  # not dis, which costs start-up time
import sys
import threading
import time
TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up time
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Optional, Tuple

from .filters import Filter, on_notrace_change
from .gate import Gate
from .recorder import Recorder, code_signature
from .tasks import CO_COROUTINE, TaskNames, task_name

__all__ = ["SettraceBackend", "guess_qualname"]

_OP = _opmap
RETURN_VALUE = _OP["RETURN_VALUE"]
YIELD_VALUE = _OP["YIELD_VALUE"]
YIELD_FROM = _OP.get("YIELD_FROM", -1)
SEND = _OP.get("SEND", -1)
FOR_ITER = _OP["FOR_ITER"]
RAISE_VARARGS = _OP["RAISE_VARARGS"]


def guess_qualname(code: Any, frame: Any) -> str:
    """co_qualname where it exists (3.11+); else Class.method found through self/cls."""
    qualname = getattr(code, "co_qualname", None)
    if qualname:
        return qualname
    name = code.co_name
    if code.co_argcount:
        first = code.co_varnames[0]
        try:
            owner = frame.f_locals.get(first)
        except Exception:
            owner = None
        if owner is not None:
            cls = owner if isinstance(owner, type) else type(owner)
            try:
                for klass in cls.__mro__:
                    attr = klass.__dict__.get(name)
                    func = getattr(attr, "__func__", attr)
                    func = getattr(func, "fget", func)
                    if getattr(func, "__code__", None) is code:
                        return klass.__qualname__ + "." + name
            except Exception:
                pass
    return name


class SettraceBackend:
    name = "settrace"

    def __init__(self, recorder: Recorder, filter: Filter, rep: Callable[[Any], str],
                 on_error: Callable[[BaseException], None]) -> None:
        self.recorder = recorder
        self.filter = filter
        self.rep = rep
        self.on_error = on_error
        # id(code) -> (code, argnames, co_code, Decision) for observed code (argnames None when
        # it is never recorded), (code, None, None, None) otherwise.
        self.decided: Dict[int, Tuple[Any, Optional[Tuple[str, ...]], Optional[bytes], Any]] = {}
        self.paused = False
        # The gated part of the filter (depth, thread, --from, notrace children), or None.
        self.gate: Optional[Gate] = None
        self._active = False
        self._previous: Any = None
        self._previous_threading: Any = None
        self._global: Any = None
        # The C trace function (accel.settrace_tracer) when the accelerator is in use.
        self._tracer: Any = None
        # True while the accelerator's eval gate decides which frames get the trace function
        # (no thread has it while only code the filter never looks at runs).
        self.eval_gate = False
        # The other threads' tracer once the eval gate gave way (attach_threads.AllThreadsTrace).
        self._gate_threads: Any = None
        self._unlisten: Optional[Callable[[], None]] = None
        self._set_gate()

    def _set_gate(self) -> None:
        f = self.filter
        self.gate = Gate(f.max_depth, f.from_glob is not None) if f.gated else None
        if self._tracer is not None:
            self._tracer.gated = 1 if self.gate is not None else 0

    def _decide(self, code: Any, frame: Any) -> Tuple[Any, Optional[Tuple[str, ...]], Optional[bytes], Any]:
        module = frame.f_globals.get("__name__")
        module = module if isinstance(module, str) else None
        qualname = guess_qualname(code, frame)
        decision = self.filter.decide(code, module, qualname)
        entry: Tuple[Any, Optional[Tuple[str, ...]], Optional[bytes], Any]
        if decision is None:
            entry = (code, None, None, None)
        else:
            names: Optional[Tuple[str, ...]] = None
            if decision.record:
                names, _flags = code_signature(code)
                if code.co_flags & CO_COROUTINE:
                    names = TaskNames(names)
                self.recorder.describe(code, module or "", qualname)
            entry = (code, names, code.co_code, decision)
        self.decided[id(code)] = entry
        return entry

    def start(self, wrap: Optional[Callable[[Any], Any]] = None) -> None:
        """Installs the trace function; wrap(global_trace) may put another around it (line
        mode)."""
        rep = self.rep
        decided_get = self.decided.get
        decide = self._decide
        append = self.recorder.buf.append
        perf = time.perf_counter_ns
        get_ident = threading.get_ident
        fail = self.on_error
        backend = self
        _id = id
        _tuple = tuple
        _type = type
        _TaskNames = TaskNames
        pending: Dict[int, Tuple[int, int, int, type, str, int]] = {}  # id(frame) -> exception in flight
        unwound: Dict[int, int] = {}

        def safe_str(exc: BaseException) -> str:
            try:
                text = str(exc)
            except BaseException as e:
                return "<str failed: %s>" % _type(e).__name__
            return text if len(text) <= 120 else text[:119] + "\u2026"

        def task_event(tid: int, code: Any) -> None:
            name = task_name()
            if name is not None:
                append((9, tid, code, perf(), name))

        c_tracer = None  # the C tracer, when it is the one calling (below)
        gettrace = sys.gettrace

        def local(frame: Any, event: str, arg: Any) -> Any:
            try:
                if event == "return":
                    code = frame.f_code
                    entry = decided_get(_id(code)) or decide(code, frame)
                    co = entry[2]
                    if entry[1] is None:
                        return local  # the filter changed: no longer recorded
                    i = frame.f_lasti
                    op = co[i] if i >= 0 else 0
                    if pending:
                        p = pending.pop(_id(frame), None)
                    else:
                        p = None
                    if p is not None and p[5] == i:
                        # Stopped where the exception arrived (a throw() at a yield included).
                        tid = get_ident()
                        unwound[tid] = p[0]
                        append((4, tid, code, perf(), p[2], p[3], p[4]))
                    elif op == RETURN_VALUE:
                        if p is not None:
                            append((5, get_ident(), code, p[1], p[2], p[3], p[4]))
                        append((2, get_ident(), code, perf(), (frame.f_lineno or 0), rep(arg)))
                    elif op == YIELD_VALUE or (i + 2 < len(co) and co[i + 2] == YIELD_FROM):
                        if p is not None:
                            append((5, get_ident(), code, p[1], p[2], p[3], p[4]))
                        append((6, get_ident(), code, perf(), (frame.f_lineno or 0), rep(arg)))
                    else:
                        tid = get_ident()
                        if p is not None:
                            unwound[tid] = p[0]
                            if op == RAISE_VARARGS and co[i + 1] == 0:
                                # A bare `raise` in a handler: caught here, then raised again.
                                now = perf()
                                line = frame.f_lineno or 0  # None: an instruction without a line
                                append((5, tid, code, p[1], p[2], p[3], p[4]))
                                append((3, tid, code, now, line, p[3], p[4]))
                                append((4, tid, code, now, line, p[3], p[4]))
                            else:
                                append((4, tid, code, perf(), p[2], p[3], p[4]))
                        else:
                            append((4, tid, code, perf(), (frame.f_lineno or 0), BaseException, ""))
                elif event == "exception":
                    exc = arg[1]
                    code = frame.f_code
                    etype = arg[0]
                    entry = decided_get(_id(code)) or decide(code, frame)
                    if entry[1] is None:
                        return local  # the filter changed: no longer recorded
                    if etype is StopIteration or etype is StopAsyncIteration:
                        co = entry[2]
                        i = frame.f_lasti
                        if co[i] in (YIELD_FROM, SEND, FOR_ITER) or (i + 2 < len(co) and co[i + 2] == YIELD_FROM):
                            return local  # the end of a `yield from` / await: not an error
                    tid = get_ident()
                    key = _id(frame)
                    now = perf()
                    p = pending.get(key)
                    line = frame.f_lineno or 0  # None: an instruction without a line
                    message = safe_str(exc)
                    if p is not None and p[0] != _id(exc):
                        append((5, tid, code, p[1], p[2], p[3], p[4]))
                    elif p is not None and p[5] != frame.f_lasti:
                        # `raise exc` of the exception caught here: handled, then raised again.
                        append((5, tid, code, p[1], p[2], p[3], p[4]))
                        append((3, tid, code, now, line, etype, message))
                        pending[key] = (_id(exc), now, line, etype, message, frame.f_lasti)
                        return local
                    pending[key] = (_id(exc), now, line, etype, message, frame.f_lasti)
                    tb = arg[2]
                    if not (unwound.get(tid) == _id(exc) and tb is not None and tb.tb_next is not None):
                        if p is None or p[0] != _id(exc):
                            append((3, tid, code, now, line, etype, message))
            except RecursionError:
                if event == "return" and c_tracer is not None and gettrace() is c_tracer:
                    raise  # the C tracer records the frame's end without Python
            except Exception as exc:
                fail(exc)
            return local

        def record_call(frame: Any, code: Any, names: Tuple[str, ...], resumed: bool) -> None:
            tid = get_ident()
            if names.__class__ is _TaskNames:
                task_event(tid, code)
            if resumed:
                append((7, tid, code, perf()))
            elif names:
                loc = frame.f_locals
                append((1, tid, code, perf(), _tuple([rep(loc[n]) for n in names])))
            else:
                append((1, tid, code, perf(), ()))

        # Gated mode (filter.gated): observed frames enter the gate; recorded ones get
        # local_gated, the others `quiet`, which only tells the gate when they end.
        def quiet(frame: Any, event: str, arg: Any) -> Any:
            if event == "return":
                gate = backend.gate
                if gate is not None:
                    gate.leave(frame)
            return quiet

        def local_gated(frame: Any, event: str, arg: Any) -> Any:
            if event == "return":
                gate = backend.gate
                if gate is not None:
                    gate.leave(frame)
            local(frame, event, arg)
            return local_gated

        def gated_call(frame: Any, code: Any, entry: Any, gate: Gate) -> Any:
            decision = entry[3]
            if decision is None:
                return None
            resumed = frame.f_trace is local_gated or frame.f_trace is quiet
            if not gate.enter(frame, decision):
                return quiet
            frame.f_trace_lines = False
            record_call(frame, code, entry[1], resumed)
            return local_gated

        def global_trace(frame: Any, event: str, arg: Any) -> Any:
            if event != "call" or backend.paused:
                return None
            try:
                code = frame.f_code
                entry = decided_get(_id(code))
                if entry is None:
                    entry = decide(code, frame)
                gate = backend.gate
                if gate is not None:
                    return gated_call(frame, code, entry, gate)
                names = entry[1]
                if names is None:
                    return None
                frame.f_trace_lines = False
                if names.__class__ is _TaskNames:
                    record_call(frame, code, names, frame.f_trace is local)
                elif frame.f_trace is local:
                    append((7, get_ident(), code, perf()))
                elif names:
                    loc = frame.f_locals
                    append((1, get_ident(), code, perf(), _tuple([rep(loc[n]) for n in names])))
                else:
                    append((1, get_ident(), code, perf(), ()))
                return local
            except RecursionError:
                return None
            except Exception as exc:
                fail(exc)
                return None

        tracer = None
        if wrap is None:
            from .accel import settrace_tracer
            tracer = settrace_tracer(local, global_trace, decide, self.recorder.buf, rep, fail,
                                     pending)
            c_tracer = tracer
        else:
            global_trace = wrap(global_trace)
        self._previous = sys.gettrace()
        self._previous_threading = getattr(threading, "_trace_hook", None)
        self._active = True
        self._unlisten = on_notrace_change(self._notrace_changed)
        if tracer is not None:
            self._tracer = tracer
            tracer.paused = 1 if self.paused else 0
            self._set_gate()
            self._global = tracer
            if self._previous is None and self._previous_threading is None:
                from .accel import eval_gate_install
                self.eval_gate = eval_gate_install(tracer, self._gate_gave_way)
            if not self.eval_gate:
                threading.settrace(tracer)  # a new thread's first call gives it the C function
                tracer.install()
        else:
            self._global = global_trace
            threading.settrace(global_trace)
            sys.settrace(global_trace)

    def _gate_gave_way(self) -> None:
        """The eval gate is gone (a deep recursion on 3.11): every thread without a trace
        function of its own gets the tracer, as without the gate."""
        tracer = self._tracer
        if not self._active or tracer is None:
            return
        try:
            from .attach_threads import AllThreadsTrace
            accel = AllThreadsTrace.load()
            if accel is not None:
                self._gate_threads = AllThreadsTrace(tracer, accel)
                self._gate_threads.install(gate_only=True)
            threading.settrace(tracer)
            if sys.gettrace() in (None, tracer):
                tracer.install()
        except Exception as exc:
            self.on_error(exc)

    def _notrace_changed(self) -> None:
        if self.gate is None:
            self.set_filter(self.filter)

    def _set_paused(self, paused: bool) -> None:
        self.paused = paused
        if self._tracer is not None:
            self._tracer.paused = 1 if paused else 0

    def pause(self) -> None:
        self._set_paused(True)

    def resume(self) -> None:
        if self.gate is not None:
            self.gate.clear()
        self._set_paused(False)

    def set_filter(self, filter: Filter) -> None:
        """Replaces the filter: every code object is decided again at its next call."""
        self.filter = filter
        self.decided.clear()
        if self._tracer is not None:
            self._tracer.clear()
        self._set_gate()

    def set_scope(self, scope: Any) -> None:
        self.set_filter(Filter(scope))

    def stop(self) -> None:
        """Stops recording; restores the previous trace functions (for this thread and new ones)."""
        if not self._active:
            return
        self._active = False
        self._set_paused(True)
        if self._unlisten is not None:
            self._unlisten()
        try:
            if self.eval_gate:
                from .accel import eval_gate_remove
                self.eval_gate = False
                eval_gate_remove(self._tracer)
                threads, self._gate_threads = self._gate_threads, None
                if threads is not None:
                    threads.uninstall()
            threading.settrace(self._previous_threading)
            if sys.gettrace() is self._global:
                sys.settrace(self._previous)
        except Exception:
            pass
