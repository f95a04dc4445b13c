# asyncio tasks as the backends see them: a coroutine's code is marked once (TaskNames), and only
# its calls and resumes ask which task runs (asyncio.current_task, only if asyncio is imported).
# Knows nothing of events or the wire.
from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up time
if TYPE_CHECKING:
    from typing import Optional

__all__ = ["CO_COROUTINE", "TaskNames", "task_name"]

CO_COROUTINE = 0x80


class TaskNames(tuple):
    """Argument names of a coroutine's code: its calls and resumes say which asyncio task runs."""


def task_name() -> Optional[str]:
    """Name of the running asyncio task, or None (asyncio not imported, no loop, no task)."""
    aio = sys.modules.get("asyncio")
    if aio is None:
        return None
    try:
        task = aio.current_task()
    except Exception:
        return None
    if task is None:
        return None
    try:
        return str(task.get_name())
    except Exception:
        return None
