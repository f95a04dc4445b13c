# The per-call part of a filter (depth, thread name, --max-depth, --from, notrace(children=True)),
# used only by the backends' gated callbacks: each observed frame (a code object the filter looks
# at) is entered with its recorded depth, whether it is under a --from call or a notrace barrier,
# and whether it is recorded. Keyed by frame; knows nothing of sys.monitoring or settrace.
from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up time
if TYPE_CHECKING:
    from typing import Any, Dict, Optional, Tuple

__all__ = ["Gate"]

# id(frame) -> (frame, recorded depth below it, --from calls open, under a barrier, recorded)
_State = "Tuple[Any, int, int, bool, bool]"


class Gate:
    def __init__(self, max_depth: Optional[int], need_from: bool) -> None:
        self.active: Dict[int, _State] = {}
        self.max_depth = max_depth
        self.need_from = need_from

    def enter(self, frame: Any, decision: Any) -> bool:
        """A call or resume of an observed frame; True when it is recorded."""
        active = self.active
        p = frame.f_back
        depth = inside = 0
        blocked = False
        while p is not None:
            st = active.get(id(p))
            if st is not None and st[0] is p:
                depth, inside, blocked = st[1], st[2], st[3]
                break
            p = p.f_back
        if decision.is_from:
            inside += 1
        record = decision.record and not blocked
        if record and self.need_from and not inside:
            record = False
        if record and self.max_depth is not None and depth >= self.max_depth:
            record = False
        if record and decision.pred is not None:
            record = bool(decision.pred(depth))
        if decision.barrier:
            blocked = True
        active[id(frame)] = (frame, depth + 1 if record else depth, inside, blocked, record)
        return record

    def leave(self, frame: Any) -> bool:
        """The frame returned, yielded or unwound; True when it was recorded."""
        st = self.active.pop(id(frame), None)
        return st is not None and st[0] is frame and st[4]

    def recorded(self, frame: Any) -> bool:
        st = self.active.get(id(frame))
        return st is not None and st[0] is frame and st[4]

    def clear(self) -> None:
        self.active.clear()
