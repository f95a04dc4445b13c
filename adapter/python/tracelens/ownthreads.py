# The tracer's own threads (writer, control reader, children's server, sampler, line ticker,
# attach agent). They are started with _thread, not threading.Thread, so the program sees exactly
# its own threads: threading.enumerate() and active_count() do not list them, and a program that
# joins "every thread but the main one", or waits for active_count() to drop to 1, does not wait
# for the tracer. Their idents are kept here for the parts that tell them apart (the sampler, the
# probes, the fork warning). Code running in them must not call threading.current_thread(),
# which would register a dummy Thread for them, nor wait with threading's Python code
# (Event.wait): a program tracing the threading module would see those calls recorded.
from __future__ import annotations

import _thread
import os
import sys

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up time
if TYPE_CHECKING:
    from typing import Any, Callable, Optional, Set, Tuple

__all__ = ["OwnThread", "Stop", "is_own", "count"]

#: The idents of the tracer's threads running now (read as is by the sampler).
idents: Set[int] = set()
_idents = idents


class OwnThread:
    """A daemon thread of the tracer's, with threading.Thread's start/join/is_alive/ident."""

    def __init__(self, target: Callable[..., Any], name: str, args: Tuple[Any, ...] = ()) -> None:
        self.name = name
        self.ident: Optional[int] = None
        self._target = target
        self._args = args
        self._running = _thread.allocate_lock()  # held while the thread runs

    def start(self) -> None:
        self._running.acquire()
        try:
            self.ident = _thread.start_new_thread(self._bootstrap, ())
        except BaseException:
            self._running.release()
            raise
        _idents.add(self.ident)  # before the caller goes on (the thread may not have run yet)

    def _bootstrap(self) -> None:
        ident = _thread.get_ident()
        _idents.add(ident)
        try:
            self._target(*self._args)
        except SystemExit:
            pass
        except BaseException as exc:  # as threading's excepthook would, but never the program's
            try:
                sys.stderr.write("tracelens: internal error in thread %s: %s: %s\n"
                                 % (self.name, type(exc).__name__, exc))
            except Exception:
                pass
        finally:
            _idents.discard(ident)
            self._running.release()

    def join(self, timeout: Optional[float] = None) -> None:
        if self.ident is None or self.ident == _thread.get_ident():
            return
        if self._running.acquire(True, -1 if timeout is None else max(0.0, timeout)):
            self._running.release()

    def is_alive(self) -> bool:
        return self._running.locked()


def is_own(ident: int) -> bool:
    """Whether the thread with this ident is one of the tracer's."""
    return ident in _idents


def count() -> int:
    """How many of the tracer's threads run now."""
    return len(_idents)


def after_fork_in_child() -> None:
    """Only the forking thread lives on in a child: none of the tracer's."""
    _idents.intersection_update({_thread.get_ident()})


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=after_fork_in_child)


class Stop:
    """threading.Event's set / is_set / wait(timeout) for the tracer's threads, made of _thread
    locks only (no Python frames of threading's run while they wait)."""

    def __init__(self) -> None:
        self._flag = False
        self._gate = _thread.allocate_lock()
        self._gate.acquire()  # released once, by set()
        self._guard = _thread.allocate_lock()

    def set(self) -> None:
        with self._guard:
            if not self._flag:
                self._flag = True
                self._gate.release()

    def is_set(self) -> bool:
        return self._flag

    def wait(self, timeout: Optional[float] = None) -> bool:
        if self._flag:
            return True
        if self._gate.acquire(True, -1 if timeout is None else max(timeout, 0.0)):
            self._gate.release()  # every other waiter passes too
        return self._flag
