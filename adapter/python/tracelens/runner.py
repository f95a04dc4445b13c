# Runs the traced program so that it sees itself exactly as under `python program args`,
# `python -m module args` or `python -c code args`: a fresh __main__ module, sys.argv,
# sys.path[0], and the exit code, traceback and KeyboardInterrupt behaviour of the interpreter.
# Knows nothing of tracing.
from __future__ import annotations

import builtins
import os
import runpy
import sys
import types

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up time
if TYPE_CHECKING:
    from typing import Any, List, Optional, Tuple

__all__ = ["Target", "TargetError", "prepare", "run", "Outcome", "print_uncaught"]

_HERE = os.path.dirname(os.path.abspath(__file__))


class TargetError(Exception):
    """The program cannot be started (not found, not readable...): exit code 2, like python."""


class Target:
    def __init__(self, kind: str, name: str, args: List[str]) -> None:
        self.kind = kind  # "script", "module" or "command"
        self.name = name  # the path as given, the module name, or the code
        self.args = args
        self.path = os.path.abspath(name) if kind == "script" else ""

    @property
    def root(self) -> str:
        """The directory whose code is the program's own (default scope)."""
        if self.kind == "script":
            real = os.path.realpath(self.path)
            return real if os.path.isdir(real) else os.path.dirname(real)
        return os.getcwd()

    @property
    def argv(self) -> List[str]:
        first = {"script": self.name, "module": "-m", "command": "-c"}[self.kind]
        return [first] + self.args


def prepare(kind: str, name: str, args: List[str]) -> Target:
    target = Target(kind, name, args)
    if kind == "script":
        try:
            if os.path.isdir(target.path):
                if not os.path.exists(os.path.join(target.path, "__main__.py")):
                    raise TargetError("can't find '__main__' module in %r" % name)
            else:
                with open(target.path, "rb"):
                    pass
        except OSError as exc:
            raise TargetError("can't open file %r: [Errno %d] %s"
                              % (target.path, exc.errno or 0, exc.strerror)) from None
    return target


class Outcome:
    """How the program ended: reason 'exit' or 'exception', its exit code, what to re-raise."""

    def __init__(self, reason: str, exit_code: int, exc: Optional[BaseException] = None) -> None:
        self.reason = reason
        self.exit_code = exit_code
        self.exc = exc


def exit_code_of(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    return 1


def run(target: Target) -> Outcome:
    """Runs the program to its end; never lets its exception escape (see Outcome)."""
    try:
        if target.kind == "command":
            sys.argv = ["-c"] + target.args
            sys.path[0] = ""
            _run_command(target.name)
        elif target.kind == "module":
            sys.argv = ["-m"] + target.args
            sys.path[0] = os.getcwd()
            runpy._run_module_as_main(target.name, alter_argv=True)  # type: ignore[attr-defined]
        else:
            sys.argv = [target.name] + target.args
            sys.path[0] = target.root
            if os.path.isdir(target.path) or not _is_source(target.path):
                sys.modules["__main__"] = types.ModuleType("__main__")
                runpy.run_path(target.path, run_name="__main__")
            else:
                _run_script(target.path)
    except SystemExit as exc:
        return Outcome("exit", exit_code_of(exc), exc)
    except KeyboardInterrupt as exc:
        return Outcome("exception", -2, exc)
    except BaseException as exc:
        return Outcome("exception", 1, exc)
    return Outcome("exit", 0)


def _is_source(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return True
    if head.startswith(b"PK") or path.endswith((".pyc", ".pyo")):
        return False
    from importlib.util import MAGIC_NUMBER  # loaded already (runpy)
    if head == MAGIC_NUMBER:
        return False  # compiled code under another name: python runs it as such too
    # A zip archive (with something before it, as zipapp's shebang): as runpy decides, through
    # zipimport, which the interpreter has loaded already (zipfile costs ~8 ms to import).
    import zipimport
    try:
        zipimport.zipimporter(path)
    except Exception:
        return True
    return False


def _run_script(path: str) -> None:
    from importlib.machinery import SourceFileLoader
    main = types.ModuleType("__main__")
    main.__dict__.update({
        "__file__": path, "__cached__": None, "__package__": None, "__spec__": None,
        "__loader__": SourceFileLoader("__main__", path), "__builtins__": builtins,
    })
    sys.modules["__main__"] = main
    with open(path, "rb") as f:
        source = f.read()
    code = compile(source, path, "exec", dont_inherit=True)
    exec(code, main.__dict__)


def _run_command(source: str) -> None:
    from importlib.machinery import BuiltinImporter  # as python -c has it
    main = types.ModuleType("__main__")
    main.__dict__.update({"__builtins__": builtins, "__spec__": None, "__package__": None,
                          "__loader__": BuiltinImporter})
    sys.modules["__main__"] = main
    if sys.version_info >= (3, 13):
        # As python -c does from 3.13: the code's lines in tracebacks.
        import linecache
        linecache.cache["<string>"] = (len(source), None,
                                       [line + "\n" for line in source.splitlines()], "<string>")
    code = compile(source, "<string>", "exec", dont_inherit=True)
    exec(code, main.__dict__)


def _strip(tb: Any) -> Any:
    """The traceback without tracelens's own frames at its top."""
    while tb is not None and os.path.dirname(os.path.abspath(tb.tb_frame.f_code.co_filename)) == _HERE:
        tb = tb.tb_next
    return tb


def print_uncaught(exc: BaseException) -> None:
    """Prints an uncaught exception as the interpreter does (sys.excepthook, our frames hidden)."""
    tb = _strip(exc.__traceback__)
    exc.__traceback__ = tb
    sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, tb
    if sys.version_info >= (3, 12):
        sys.last_exc = exc  # type: ignore[attr-defined]
    try:
        sys.excepthook(type(exc), exc, tb)
    except BaseException:
        sys.__excepthook__(type(exc), exc, tb)
