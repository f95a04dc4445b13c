# Keeps os.fork() as quiet as it is untraced. Since 3.12 os.fork() warns ("This process is
# multi-threaded, use of fork() may lead to deadlocks in the child") when the process has more
# than one thread; the tracer's own threads (writer, children, sampler) must not make a
# single-threaded program see that warning. Before each fork, when the program's threads alone
# would not warn, a filter ignores exactly this warning. 3.12 warns before the after-fork hooks,
# which remove the filter again; 3.13+ warns after them, so there the filter stays until a fork
# where the program has threads of its own (then it is removed and the warning shows, as
# untraced). Never raises.
from __future__ import annotations

import os
import sys
import threading

__all__ = ["install", "program_threads"]

_MESSAGE = r"This process \(pid=\d+\) is multi-threaded, use of \w+\(\) may lead to deadlocks"
_added: list = []
_installed = [False]


def _ours() -> int:
    from .ownthreads import count
    return count()


def program_threads() -> int:
    """Threads of this process that are not the tracer's (as os.fork counts them: the kernel's
    count on Linux, else the threading module's)."""
    try:
        with open("/proc/self/stat", "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[17]) - _ours()
    except (OSError, ValueError, IndexError):
        return threading.active_count()  # which the tracer's threads are not in


def _before() -> None:
    try:
        import warnings
        quiet = program_threads() <= 1
        if quiet and _added and _added[-1] in warnings.filters:
            return  # still in place (3.13+)
        _remove()
        if quiet:
            warnings.filterwarnings("ignore", message=_MESSAGE, category=DeprecationWarning)
            _added.append(warnings.filters[0])
    except Exception:
        pass


def _after() -> None:
    if sys.version_info < (3, 13):
        _remove()


def _remove() -> None:
    if not _added:
        return
    try:
        import warnings
        while _added:
            entry = _added.pop()
            if entry in warnings.filters:
                warnings.filters.remove(entry)
                mutated = getattr(warnings, "_filters_mutated", None)
                if mutated is not None:
                    mutated()
    except Exception:
        pass


def install() -> None:
    """Once per process, on interpreters that warn (3.12+)."""
    if _installed[0] or sys.version_info < (3, 12) or not hasattr(os, "register_at_fork"):
        return
    _installed[0] = True
    os.register_at_fork(before=_before, after_in_parent=_after, after_in_child=_remove)
