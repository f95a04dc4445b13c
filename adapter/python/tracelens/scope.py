# Which code is traced: the default scope (the program's own files, not the standard library,
# site-packages, tracelens itself or frozen code) and --include / --exclude module globs.
# Decided once per code object by the backends; knows nothing of events or the wire.
from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up time
if TYPE_CHECKING:
    from typing import Dict, Iterable, List, Optional, Tuple

__all__ = ["Scope", "library_dirs", "glob_match"]

_HERE = os.path.dirname(os.path.abspath(__file__))


def glob_match(name: str, pattern: str) -> bool:
    """fnmatch.fnmatchcase(name, pattern), without importing fnmatch (and re) for the common
    globs: '*', a plain name, and 'prefix*'."""
    star = pattern.find("*")
    if star < 0 and "?" not in pattern and "[" not in pattern:
        return name == pattern
    if star == len(pattern) - 1 and "?" not in pattern and "[" not in pattern:
        return name.startswith(pattern[:-1])
    from fnmatch import fnmatchcase
    return fnmatchcase(name, pattern)


def library_dirs() -> Tuple[str, ...]:
    """Directories holding the standard library and installed packages (never traced by default)."""
    # The standard library is where os came from (sysconfig's stdlib and platstdlib, without
    # importing sysconfig: start-up time); purelib and platlib are site-packages or
    # dist-packages directories, which is_library() knows by name, and listed by site below.
    dirs = {os.path.dirname(os.path.realpath(os.__file__))}
    libs = {"lib", "Lib", getattr(sys, "platlibdir", "lib")}
    for attr in ("prefix", "base_prefix", "exec_prefix", "base_exec_prefix"):
        value = getattr(sys, attr, None)
        if value:
            for lib in libs:
                dirs.add(os.path.realpath(os.path.join(value, lib)))
    try:
        import site
        for path in site.getsitepackages() + [site.getusersitepackages()]:
            dirs.add(os.path.realpath(path))
    except Exception:
        pass
    return tuple(sorted(d.rstrip(os.sep) + os.sep for d in dirs))


class Scope:
    """Decides whether a code object is traced, from its file name and its module's name."""

    def __init__(self, root: str, include: Iterable[str] = (), exclude: Iterable[str] = (),
                 command: bool = False) -> None:
        self.root = os.path.realpath(root).rstrip(os.sep) + os.sep
        # `run -c CODE`: the program's own code has no file ("<string>" in __main__).
        self.command = command
        self.include: List[str] = list(include)
        self.exclude: List[str] = list(exclude)
        self._libs = library_dirs()
        self._own = _HERE + os.sep
        self._files: Dict[str, Optional[str]] = {}

    def _real(self, filename: str) -> Optional[str]:
        """The resolved path of a code object's file, or None for code with no real file."""
        try:
            return self._files[filename]
        except KeyError:
            pass
        real: Optional[str]
        if not filename or filename.startswith("<") or filename.startswith("frozen "):
            real = None
        else:
            real = os.path.realpath(os.path.abspath(filename))
        self._files[filename] = real
        return real

    @staticmethod
    def is_site_packages(real: str) -> bool:
        parts = real.split(os.sep)
        return "site-packages" in parts or "dist-packages" in parts

    def is_library(self, real: str) -> bool:
        parts = real.split(os.sep)
        if "site-packages" in parts or "dist-packages" in parts:
            return True
        # The program's own directory wins when it lies inside a library directory's tree only
        # if it is not itself under that directory (a program in /usr/lib/python3 is rare).
        return any(real.startswith(lib) and not self.root.startswith(lib) for lib in self._libs)

    def decide(self, filename: str, module: Optional[str]) -> bool:
        """True when code from this file and module is traced."""
        real = self._real(filename)
        if real is None:
            if not (self.command and filename == "<string>" and module == "__main__"):
                return False
        elif real.startswith(self._own):
            return False
        mod = module or ""
        if self.include:
            if not any(glob_match(mod, g) for g in self.include):
                return False
        elif real is not None and (not real.startswith(self.root) or self.is_library(real)):
            return False
        if self.exclude and any(glob_match(mod, g) for g in self.exclude):
            return False
        return True
