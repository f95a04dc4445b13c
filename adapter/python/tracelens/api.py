# The Python API: `with tracelens.trace(output="t.db"):` traces what runs inside the block, and
# `@tracelens.trace(output=...)` each call of a function (a new trace per call). One trace at a
# time: inside a running trace (or `python -m tracelens run`) it does nothing. Builds the same
# Session, sinks and filter as the command line; never raises into the program once started.
from __future__ import annotations

import functools
import os
import sys
import threading

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up time
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Iterable, List, Optional

__all__ = ["trace", "active"]

_lock = threading.Lock()
_active: List[Any] = []  # the running trace's Session, if any


def active() -> bool:
    """True while a trace (API or command line) runs in this process."""
    return bool(_active)


class trace:
    """Context manager and decorator. output: a trace file to write; connect: HOST:PORT or
    unix:PATH of a Tracelens adapter (token: its session token, default $TRACELENS_TOKEN);
    include/exclude: module globs (default scope: the calling file's directory); filter: a filter
    spec (dict); max_depth, from_glob: as --max-depth / --from; value_limit; c_calls; buffer."""

    def __init__(self, output: Optional[str] = None, connect: Optional[str] = None,
                 token: Optional[str] = None, include: Iterable[str] = (),
                 exclude: Iterable[str] = (), filter: Any = None, max_depth: Optional[int] = None,
                 from_glob: Optional[str] = None, value_limit: int = 120, c_calls: bool = False,
                 buffer: int = 4_000_000, root: Optional[str] = None) -> None:
        if output is None and connect is None:
            raise ValueError("tracelens.trace needs output=FILE or connect=ADDRESS")
        from .filters import compile_spec
        if filter is not None:
            compile_spec(filter)  # a bad spec fails here, before anything starts
        self.options: Dict[str, Any] = dict(
            output=output, connect=connect, token=token, include=list(include),
            exclude=list(exclude), filter=filter, max_depth=max_depth, from_glob=from_glob,
            value_limit=value_limit, c_calls=c_calls, buffer=buffer, root=root)
        self.session: Any = None
        self._writer: Any = None
        self._connection: Any = None

    # -- decorator --------------------------------------------------------------------------------
    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        options = dict(self.options)
        if options["root"] is None:
            code = getattr(func, "__code__", None)
            if code is not None:
                options["root"] = os.path.dirname(os.path.abspath(code.co_filename))

        @functools.wraps(func)
        def traced(*args: Any, **kwargs: Any) -> Any:
            with trace(**options):
                return func(*args, **kwargs)
        return traced

    # -- context manager --------------------------------------------------------------------------
    def __enter__(self) -> "trace":
        with _lock:
            if _active:
                return self  # already tracing: nothing more to do
            self._start(sys._getframe(1))
        return self

    def _start(self, caller: Any) -> None:
        from .connection import Connection
        from .filters import Filter
        from .scope import Scope
        from .session import Session
        o = self.options
        root = o["root"] or os.path.dirname(os.path.abspath(caller.f_code.co_filename))
        sinks: List[Callable[[Dict[str, Any]], None]] = []
        if o["connect"] is not None:
            self._connection = Connection(o["connect"])
            sinks.append(self._connection.send)
        if o["output"] is not None:
            from .tracefile import TraceFileWriter
            self._writer = TraceFileWriter(o["output"])
            sinks.append(self._writer.send)

        def send(message: Dict[str, Any]) -> None:
            for s in sinks:
                s(message)

        token = o["token"] if o["token"] is not None else os.environ.get("TRACELENS_TOKEN", "")
        flt = Filter(Scope(root, o["include"], o["exclude"]), o["filter"], o["max_depth"],
                     o["from_glob"])
        session = Session(send if len(sinks) > 1 else sinks[0], flt, argv=list(sys.argv),
                          token=token, value_limit=o["value_limit"], capacity=o["buffer"],
                          c_calls=o["c_calls"], packed=self._connection is None)
        if self._connection is not None:
            self._connection.on_lost = session.connection_lost
            self._connection.on_control = session.control
        self.session = session
        _active.append(session)
        try:
            session.start()
        except Exception as exc:
            sys.stderr.write("tracelens: could not start tracing (%s: %s); running untraced\n"
                             % (type(exc).__name__, exc))
            session.internal_error(exc, stderr=False)
        if self._connection is not None:
            self._connection.start_reader()

    def __exit__(self, etype: Any, exc: Any, tb: Any) -> None:
        session = self.session
        if session is None:
            return
        self.session = None
        try:
            session.end(None, "exit" if etype is None else "exception")
            if self._writer is not None:
                self._writer.close()
            if self._connection is not None:
                self._connection.close()
        except Exception as e:
            sys.stderr.write("tracelens: could not finish the trace: %s\n" % e)
        finally:
            with _lock:
                if session in _active:
                    _active.remove(session)
