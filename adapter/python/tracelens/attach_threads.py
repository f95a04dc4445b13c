# Running a small function in the main thread of this interpreter from another thread, through
# Py_AddPendingCall (ctypes): the attach agent uses it on Python 3.9-3.11 to give the main thread
# the settrace backend's trace function on attach and to put its previous one back on detach.
# sys.settrace only affects the calling thread there; sys.monitoring (3.12+) needs none of this.
# AllThreadsTrace: with the C accelerator (accel.py) every thread already running (main included)
# gets the trace function at once and its own previous one back on detach. Without the
# accelerator only the main thread (MainThreadTrace) and threads started afterwards are traced.
from __future__ import annotations

import sys
import threading
from typing import Any, Callable, List

__all__ = ["run_in_main_thread", "MainThreadTrace", "AllThreadsTrace"]

_keep: List[Any] = []  # callbacks handed to C must live until they have run


def run_in_main_thread(fn: Callable[[], None], timeout: float = 1.0) -> bool:
    """Runs fn in the main thread (at its next bytecode); True once it ran within `timeout`.
    False when it could not be scheduled (no ctypes) or the main thread did not get to it."""
    if threading.current_thread() is threading.main_thread():
        try:
            fn()
        except Exception:
            pass
        return True
    try:
        import ctypes
    except ImportError:
        return False
    done = threading.Event()
    kind = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)

    def call(_arg: Any) -> int:
        try:
            fn()
        except BaseException:
            pass
        finally:
            done.set()
        return 0

    callback = kind(call)
    _keep.append(callback)
    try:
        add = ctypes.pythonapi.Py_AddPendingCall
        add.argtypes = [kind, ctypes.c_void_p]
        add.restype = ctypes.c_int
        if add(callback, None) != 0:
            return False
    except Exception:
        return False
    return done.wait(timeout)


class MainThreadTrace:
    """Gives the main thread a trace function and later restores the one it had."""

    def __init__(self, trace: Callable[..., Any], active: Callable[[], bool]) -> None:
        self.trace = trace
        self.active = active
        self.previous: Any = None
        self.installed = False

    def install(self, timeout: float = 0.0) -> bool:
        def put() -> None:
            if self.active() and not self.installed:
                self.previous = sys.gettrace()
                sys.settrace(self.trace)
                self.installed = True
        return run_in_main_thread(put, timeout)

    def uninstall(self, timeout: float = 1.0) -> bool:
        def restore() -> None:
            if self.installed and sys.gettrace() is self.trace:
                sys.settrace(self.previous)
            self.installed = False
        return run_in_main_thread(restore, timeout)


class AllThreadsTrace:
    """Gives every other running thread (not Tracelens's own) a trace function through the C
    accelerator and later restores each one's previous trace function. Use available() first."""

    def __init__(self, trace: Callable[..., Any], accel: Any) -> None:
        self.trace = trace
        self.accel = accel
        self.previous: List[Any] = []
        self.installed = False

    @staticmethod
    def load() -> Any:
        """The accelerator when it can trace running threads (3.9-3.11), else None."""
        if sys.version_info >= (3, 12):
            return None
        try:
            from . import accel
            mod = accel.load()
        except Exception:
            return None
        return mod if mod is not None and hasattr(mod, "set_trace_all_threads") else None

    def install(self, gate_only: bool = False) -> bool:
        """gate_only (the settrace backend's eval gate giving way): only threads with no trace
        function, or the gate's, get it; one with a trace function of its own keeps that."""
        own = [t.ident for t in threading.enumerate()
               if t.name.startswith("tracelens") and t.ident is not None]
        try:
            self.previous = self.accel.set_trace_all_threads(self.trace, own, gate_only)
        except Exception:
            return False
        self.installed = True
        return True

    def uninstall(self) -> int:
        """Puts back the previous trace function of each thread that still has ours."""
        if not self.installed:
            return 0
        self.installed = False
        try:
            return int(self.accel.clear_trace_all_threads(self.trace, self.previous))
        except Exception:
            return 0
        finally:
            self.previous = []
