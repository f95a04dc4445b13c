# Probes in the spirit of CPython's DTrace provider (`run --probes gc,audit`, off by default):
# garbage collection start and stop (generation, collected) from gc.callbacks, and audit events
# (PEP 578: socket.connect, open, subprocess.Popen, os.system, ...) from sys.addaudithook, as
# instant Probe records with the Python location that caused them (the innermost frame of code
# in scope; audit events with no code in scope on the stack, such as the interpreter's own
# imports before the program starts, are left out). An audit hook cannot be removed: after
# stop() it is inert.
from __future__ import annotations

import gc
import sys
import threading
import time

from .ownthreads import is_own
TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up time
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Set, Tuple

__all__ = ["Probes", "parse_probes", "DEFAULT_AUDIT", "ProbeError"]

DEFAULT_AUDIT = frozenset((
    "open", "socket.connect", "socket.bind", "socket.getaddrinfo", "subprocess.Popen",
    "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.kill", "os.remove",
    "os.rename", "shutil.rmtree", "urllib.Request", "ctypes.dlopen", "sqlite3.connect",
    "http.client.connect",
))

# The one audit hook of this process (hooks stay for the process's life): it forwards to the
# running Probes, or does nothing.
_target: List[Optional["Probes"]] = [None]
_hooked = [False]


class ProbeError(ValueError):
    pass


def parse_probes(text: str) -> Tuple[bool, Optional[Set[str]]]:
    """'gc,audit' -> (gc, audit event names or None). 'audit' is the default set of events,
    'audit:NAME' adds one event, 'audit:*' every event."""
    use_gc = False
    events: Optional[Set[str]] = None
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        if part == "gc":
            use_gc = True
        elif part == "audit":
            events = set(events or ()) | set(DEFAULT_AUDIT)
        elif part.startswith("audit:") and part[6:]:
            events = set(events or ()) | {part[6:]}
        else:
            raise ProbeError("unknown probe %r (probes: gc, audit, audit:EVENT, audit:*)" % part)
    return use_gc, events


def _ours() -> bool:
    """Whether this thread is one of the tracer's."""
    return is_own(threading.get_ident())


def _audit_hook(event: str, args: Any) -> None:
    probes = _target[0]
    if probes is not None:
        probes._audit(event, args)


class Probes:
    def __init__(self, append: Callable[[Any], None], rep: Callable[[Any], str], scope: Any,
                 use_gc: bool, audit: Optional[Set[str]]) -> None:
        self._append = append
        self._rep = rep
        self._scope = scope
        self.use_gc = use_gc
        self.audit = audit
        self._all = audit is not None and "*" in audit
        self._in_scope: Dict[int, Tuple[Any, bool]] = {}
        self._busy = threading.local()

    def _where(self, frame: Any) -> Tuple[Any, int]:
        """(code, line) of the innermost frame in scope (else the innermost frame outside the
        tracer; (None, 0) when there is none)."""
        first = None
        f = frame
        cache = self._in_scope
        while f is not None:
            code = f.f_code
            entry = cache.get(id(code))
            if entry is None or entry[0] is not code:
                module = f.f_globals.get("__name__")
                entry = cache[id(code)] = (code, bool(self._scope.decide(
                    code.co_filename, module if isinstance(module, str) else None)))
            if entry[1]:
                return code, f.f_lineno or 0  # None: no line here (3.12+)
            if first is None and not code.co_filename.startswith(_OWN):
                first = f
            f = f.f_back
        if first is not None:
            return first.f_code, first.f_lineno or 0
        return None, 0

    def _record(self, name: str, detail: str, depth: int, anywhere: bool = True) -> None:
        if getattr(self._busy, "on", False):
            return
        self._busy.on = True
        try:
            if _ours():
                return
            code, line = self._where(sys._getframe(depth))
            if not anywhere and (code is None or not self._in_scope[id(code)][1]):
                return  # an audit event with none of the program's code on the stack
            self._append((8, threading.get_ident(), code, time.perf_counter_ns(), line, name,
                          detail))
        except Exception:
            pass
        finally:
            self._busy.on = False

    def _gc(self, phase: str, info: Dict[str, Any]) -> None:
        if phase == "start":
            self._record("gc.start", "gen=%d" % info.get("generation", -1), 2)
        else:
            self._record("gc.stop", "gen=%d collected=%d" % (info.get("generation", -1),
                                                             info.get("collected", 0)), 2)

    def _audit(self, event: str, args: Any) -> None:
        if self._all:
            if event.startswith(("sys._getframe", "object.", "sys._current_frames")):
                return  # the tracer's own reads and attribute hooks: too many to be useful
        elif event not in self.audit:  # type: ignore[operator]
            return
        try:
            detail = "%s %s" % (event, self._rep(args))
        except Exception:
            detail = event
        self._record("audit", detail, 3, anywhere=False)

    def start(self) -> None:
        if self.use_gc:
            gc.callbacks.append(self._gc)
        if self.audit is not None:
            _target[0] = self
            if not _hooked[0]:
                _hooked[0] = True
                sys.addaudithook(_audit_hook)

    def stop(self) -> None:
        if _target[0] is self:
            _target[0] = None
        try:
            gc.callbacks.remove(self._gc)
        except ValueError:
            pass


import os as _os  # noqa: E402

_OWN = _os.path.dirname(_os.path.abspath(__file__)) + _os.sep
