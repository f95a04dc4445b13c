# Tracelens's in-process tracer: records calls, arguments, return values and exceptions of a
# Python program and sends them to the Tracelens adapter or writes a trace file.
# Standard library only; `python -m tracelens --help` explains the command line. The Python API:
# tracelens.trace(...) (context manager and decorator), tracelens.notrace, tracelens.register_repr.
from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up time
if TYPE_CHECKING:
    from typing import Any, Callable

import os as _os
import sys as _sys

if _sys.argv[:1] == ["-m"] and _sys.path and not getattr(_sys.flags, "safe_path", False):
    # `python -m tracelens`: sys.path[0] is the current directory, where a json.py or
    # threading.py would be run by the tracer's own imports (and a big directory listed). The
    # tracer's own directory takes its place; the runner gives the program its sys.path[0].
    _sys.path[0] = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))

from .filters import notrace  # noqa: E402

__all__ = ["__version__", "notrace", "trace", "register_repr"]

__version__ = "0.1.0"


def trace(**options: Any) -> Any:
    """Traces what runs inside `with tracelens.trace(output="t.db"):` or a function decorated
    with `@tracelens.trace(output=...)`. Options: output, connect, token, include, exclude,
    filter, max_depth, from_glob, value_limit, c_calls (see tracelens.api.trace)."""
    from .api import trace as _trace
    return _trace(**options)


def register_repr(type_: type, func: Callable[[Any], str]) -> None:
    """Uses func(value) -> str for values of exactly this type in the trace (bounded and
    contained like any repr)."""
    from .values import register_repr as _register
    _register(type_, func)
