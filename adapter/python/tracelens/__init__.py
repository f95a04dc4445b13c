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


def _keep_own_bytecode() -> None:
    """Under PYTHONDONTWRITEBYTECODE or -B, Python compiles every module it imports from source on
    each start and keeps nothing; for the tracer's own modules that is ~30 ms added to every traced
    run (and every traced child process). The tracer's files are compiled once into their usual
    __pycache__ (which imports read under that setting too); the program's modules are left as
    the setting says. Where the directory cannot be written, nothing is written and nothing
    changes."""
    if not _sys.dont_write_bytecode:
        return
    try:
        from importlib.util import cache_from_source
        here = _os.path.dirname(_os.path.abspath(__file__))
        stale = []
        for sub in ("", "child_site", "attach_site"):
            folder = _os.path.join(here, sub)
            for name in _os.listdir(folder):
                if name.endswith(".py"):
                    src = _os.path.join(folder, name)
                    pyc = cache_from_source(src)
                    try:
                        if _os.stat(pyc).st_mtime >= _os.stat(src).st_mtime:
                            continue
                    except OSError:
                        pass
                    stale.append((src, pyc))
        if stale:
            import py_compile
            for src, pyc in stale:
                py_compile.compile(src, cfile=pyc, doraise=True)
    except Exception:  # read-only install, no space: imports compile from source as before
        pass


_keep_own_bytecode()

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
