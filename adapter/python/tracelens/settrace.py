# The sys.settrace backend (Python 3.9-3.11), same records as the sys.monitoring one. The global
# trace function sees each new frame once ('call'), decides its code object once, and gives a
# local trace function (line events off) only to frames in scope; returns, yields and unwinds
# are told apart by the instruction the frame stopped at. Restores the previous trace function.
from __future__ import annotations

import dis
import sys
import threading
import time
from typing import Any, Callable, Dict, Optional, Tuple

from .recorder import Recorder, code_signature
from .scope import Scope

__all__ = ["SettraceBackend", "guess_qualname"]

_OP = dis.opmap
RETURN_VALUE = _OP["RETURN_VALUE"]
YIELD_VALUE = _OP["YIELD_VALUE"]
YIELD_FROM = _OP.get("YIELD_FROM", -1)
SEND = _OP.get("SEND", -1)
FOR_ITER = _OP["FOR_ITER"]


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

    def __init__(self, recorder: Recorder, scope: Scope, rep: Callable[[Any], str],
                 on_error: Callable[[BaseException], None]) -> None:
        self.recorder = recorder
        self.scope = scope
        self.rep = rep
        self.on_error = on_error
        # id(code) -> (code, argnames, co_code) for code in scope, (code, None, None) otherwise.
        self.decided: Dict[int, Tuple[Any, Optional[Tuple[str, ...]], Optional[bytes]]] = {}
        self.paused = False
        self._active = False
        self._previous: Any = None
        self._previous_threading: Any = None
        self._global: Any = None

    def _decide(self, code: Any, frame: Any) -> Tuple[Any, Optional[Tuple[str, ...]], Optional[bytes]]:
        module = frame.f_globals.get("__name__")
        module = module if isinstance(module, str) else None
        entry: Tuple[Any, Optional[Tuple[str, ...]], Optional[bytes]]
        if self.scope.decide(code.co_filename, module):
            names, _flags = code_signature(code)
            self.recorder.describe(code, module or "", guess_qualname(code, frame))
            entry = (code, names, code.co_code)
        else:
            entry = (code, None, None)
        self.decided[id(code)] = entry
        return entry

    def start(self) -> None:
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
        pending: Dict[int, Tuple[int, int, int, type, str, int]] = {}  # id(frame) -> exception in flight
        unwound: Dict[int, int] = {}

        def safe_str(exc: BaseException) -> str:
            try:
                text = str(exc)
            except BaseException as e:
                return "<str failed: %s>" % _type(e).__name__
            return text if len(text) <= 120 else text[:119] + "\u2026"

        def local(frame: Any, event: str, arg: Any) -> Any:
            try:
                if event == "return":
                    code = frame.f_code
                    co = decided_get(_id(code))[2]
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
                        append((2, get_ident(), code, perf(), frame.f_lineno, rep(arg)))
                    elif op == YIELD_VALUE or (i + 2 < len(co) and co[i + 2] == YIELD_FROM):
                        if p is not None:
                            append((5, get_ident(), code, p[1], p[2], p[3], p[4]))
                        append((6, get_ident(), code, perf(), frame.f_lineno, rep(arg)))
                    else:
                        tid = get_ident()
                        if p is not None:
                            unwound[tid] = p[0]
                            append((4, tid, code, perf(), p[2], p[3], p[4]))
                        else:
                            append((4, tid, code, perf(), frame.f_lineno, BaseException, ""))
                elif event == "exception":
                    exc = arg[1]
                    code = frame.f_code
                    etype = arg[0]
                    if etype is StopIteration or etype is StopAsyncIteration:
                        co = decided_get(_id(code))[2]
                        i = frame.f_lasti
                        if co[i] in (YIELD_FROM, SEND, FOR_ITER) or (i + 2 < len(co) and co[i + 2] == YIELD_FROM):
                            return local  # the end of a `yield from` / await: not an error
                    tid = get_ident()
                    key = _id(frame)
                    now = perf()
                    p = pending.get(key)
                    if p is not None and p[0] != _id(exc):
                        append((5, tid, code, p[1], p[2], p[3], p[4]))
                    line = frame.f_lineno
                    message = safe_str(exc)
                    pending[key] = (_id(exc), now, line, etype, message, frame.f_lasti)
                    tb = arg[2]
                    if not (unwound.get(tid) == _id(exc) and tb is not None and tb.tb_next is not None):
                        if p is None or p[0] != _id(exc):
                            append((3, tid, code, now, line, etype, message))
            except RecursionError:
                pass
            except Exception as exc:
                fail(exc)
            return local

        def global_trace(frame: Any, event: str, arg: Any) -> Any:
            if event != "call" or backend.paused:
                return None
            try:
                code = frame.f_code
                entry = decided_get(_id(code))
                if entry is None:
                    entry = decide(code, frame)
                names = entry[1]
                if names is None:
                    return None
                frame.f_trace_lines = False
                if frame.f_trace is local:
                    append((7, get_ident(), code, perf()))
                    return local
                if names:
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

        self._global = global_trace
        self._previous = sys.gettrace()
        self._previous_threading = getattr(threading, "_trace_hook", None)
        self._active = True
        threading.settrace(global_trace)
        sys.settrace(global_trace)

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def set_scope(self, scope: Scope) -> None:
        self.scope = scope
        self.decided.clear()

    def stop(self) -> None:
        """Stops recording; restores the previous trace functions (for this thread and new ones)."""
        if not self._active:
            return
        self._active = False
        self.paused = True
        try:
            threading.settrace(self._previous_threading)
            if sys.gettrace() is self._global:
                sys.settrace(self._previous)
        except Exception:
            pass
