# Bounded, safe value snapshots: a repr cut to a limit that never raises into the program; a type
# whose repr failed or was slow (over SLOW_NS) is not asked again; policy "builtins" never runs
# user __repr__ code; register_repr(type, func) supplies one per type. With structured=True,
# containers, dataclasses, namedtuples and plain objects become a small JSON structure (type,
# repr, length, items/keys to a depth and width) behind wire.STRUCTURED_PREFIX. Called from the
# hot callbacks, so builtins take a short path. Knows nothing of events, scope or the wire's use.
from __future__ import annotations

import time

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up time
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Set

from .wire import STRUCTURED_PREFIX

__all__ = ["make_repr", "register_repr", "DEFAULT_LIMIT", "ELLIPSIS", "SLOW_NS", "POLICIES",
           "STRUCTURED_MAX"]

DEFAULT_LIMIT = 120
ELLIPSIS = "\u2026"
_BIG = 10 ** 60
#: A user __repr__ slower than this (ns) marks its type as not to be asked again.
SLOW_NS = 20_000_000
POLICIES = ("builtins", "all")
#: A structured snapshot longer than this falls back to its top level only.
STRUCTURED_MAX = 4096

_registered: Dict[type, Callable[[Any], str]] = {}


def register_repr(type_: type, func: Callable[[Any], str]) -> None:
    """Values of exactly `type_` are shown as func(value) (cut, contained like any repr)."""
    if not isinstance(type_, type) or not callable(func):
        raise TypeError("register_repr(type, func) needs a type and a callable")
    _registered[type_] = func


def make_repr(limit: int = DEFAULT_LIMIT, *, structured: bool = False, policy: str = "all",
              depth: int = 2, width: int = 8) -> Callable[[Any], str]:
    """Returns rep(value) -> str of at most `limit` characters (cut ones end with '…'); with
    structured=True, containers and objects give a STRUCTURED_PREFIX + JSON snapshot."""
    if policy not in POLICIES:
        raise ValueError("repr policy must be one of %s" % ", ".join(POLICIES))
    cut = max(limit - 1, 1)
    failed: Set[type] = set()
    user_ok = policy == "all"
    registered = _registered
    _int, _str, _float, _bool, _none = int, str, float, bool, type(None)
    _bytes, _list, _tuple, _dict, _set, _fset = bytes, list, tuple, dict, set, frozenset
    _repr, _type, _len = repr, type, len
    perf = time.perf_counter_ns
    max_depth = 3  # nested containers deeper than this show as […]

    def shorten(text: str) -> str:
        return text if _len(text) <= limit else text[:cut] + ELLIPSIS

    def container(value: Any, t: type, depth: int) -> str:
        # Bounded repr of a builtin container: items until the limit is passed.
        if depth >= max_depth:
            return "[\u2026]" if t is _list else "(\u2026)" if t is _tuple else "{\u2026}"
        depth += 1
        if t is _dict:
            opening, closing = "{", "}"
            items = (inner(k, depth) + ": " + inner(v, depth) for k, v in value.items())
        elif t is _list:
            opening, closing = "[", "]"
            items = (inner(v, depth) for v in value)
        elif t is _tuple:
            opening, closing = "(", ",)" if _len(value) == 1 else ")"
            items = (inner(v, depth) for v in value)
        else:
            if not value:
                return t.__name__ + "()"
            opening, closing = ("{", "}") if t is _set else ("frozenset({", "})")
            items = (inner(v, depth) for v in value)
        parts = []
        size = _len(opening)
        for item in items:
            parts.append(item)
            size += _len(item) + 2
            if size > limit:
                break
        return shorten(opening + ", ".join(parts) + closing)

    def plain(t: type) -> str:
        return "<%s object>" % t.__name__

    def slow(value: Any, t: type) -> str:
        if t in failed:
            return plain(t)
        func = registered.get(t)
        if func is None:
            if not user_ok and t.__module__ != "builtins":
                return plain(t)
            func = _repr
        start = perf()
        try:
            text = func(value)
            if _type(text) is not _str:
                text = _str.__str__(text) if isinstance(text, _str) else plain(t)
        except RecursionError:
            return plain(t)
        except BaseException as exc:  # a __repr__ may raise anything, even SystemExit
            failed.add(t)
            try:
                message = _str(exc)
            except BaseException:
                message = ""
            return shorten("<repr failed: %s: %s>" % (_type(exc).__name__, message))
        if perf() - start > SLOW_NS:
            failed.add(t)  # too slow to ask again; this one answer is kept
        return shorten(text)

    def inner(value: Any, depth: int) -> str:
        try:
            t = _type(value)
            if t is _int:
                if -_BIG < value < _BIG:
                    return _repr(value)
                return "<int of %d bits>" % value.bit_length()
            if t is _str:
                if _len(value) > limit:
                    return _repr(value[:limit])[:cut] + ELLIPSIS
                return shorten(_repr(value))
            if value is None or t is _bool or t is _float:
                return _repr(value)
            if t is _bytes:
                return shorten(_repr(value[:limit]))
            if t is _list or t is _tuple or t is _dict or t is _set or t is _fset:
                return container(value, t, depth)
            return slow(value, t)
        except BaseException as exc:
            # Anything odd in the short path (a container mutated by another thread...).
            return "<repr failed: %s>" % _type(exc).__name__

    def rep(value: Any) -> str:
        return inner(value, 0)

    if not structured:
        # The state the C accelerator's copy of rep shares (its failed types go in the same set).
        rep.failed = failed  # type: ignore[attr-defined]
        rep.registered = registered  # type: ignore[attr-defined]
        rep.user_ok = user_ok  # type: ignore[attr-defined]
        rep.limit = limit  # type: ignore[attr-defined]
        return rep

    import json  # only for structured values (start-up time)
    scalars = (_int, _str, _float, _bool, _none, _bytes)

    def snapshot(value: Any, level: int) -> Dict[str, Any]:
        t = _type(value)
        snap: Dict[str, Any] = {"t": t.__name__, "r": inner(value, 0)}
        if t in scalars or level >= depth:
            return snap
        try:
            if t is _list or t is _tuple or t is _set or t is _fset:
                snap["n"] = _len(value)
                items = []
                for i, v in enumerate(value):
                    if i >= width:
                        snap["x"] = True
                        break
                    items.append(snapshot(v, level + 1))
                snap["i"] = items
                if t is not _list and t is not _tuple:
                    return snap
                fields = getattr(t, "_fields", None)  # a namedtuple: its fields by name
                if t is not _tuple and isinstance(fields, tuple):
                    snap["k"] = [[str(f), snapshot(v, level + 1)]
                                 for f, v in list(zip(fields, value))[:width]]
                    del snap["i"]
                return snap
            if t is _dict:
                snap["n"] = _len(value)
                keys = []
                for i, (k, v) in enumerate(value.items()):
                    if i >= width:
                        snap["x"] = True
                        break
                    keys.append([inner(k, 0), snapshot(v, level + 1)])
                snap["k"] = keys
                return snap
            fields = getattr(t, "_fields", None)
            if isinstance(value, tuple) and isinstance(fields, tuple):
                snap["n"] = _len(value)
                snap["k"] = [[str(f), snapshot(v, level + 1)]
                             for f, v in list(zip(fields, value))[:width]]
                return snap
            dc = getattr(t, "__dataclass_fields__", None)
            names: List[str]
            if isinstance(dc, dict):
                import dataclasses  # the program's own: it made a dataclass
                names = [f.name for f in dataclasses.fields(value)]
                source = None
            else:
                source = getattr(value, "__dict__", None)
                if isinstance(source, dict):
                    names = [k for k in source if isinstance(k, str)]
                else:
                    slots = getattr(t, "__slots__", None)
                    names = [slots] if isinstance(slots, str) else list(slots or ())
                    source = None
            if not names:
                return snap
            keys = []
            for i, name in enumerate(names):
                if i >= width:
                    snap["x"] = True
                    break
                if source is not None:
                    v = source.get(name)
                else:
                    try:
                        v = object.__getattribute__(value, name)
                    except AttributeError:
                        continue
                keys.append([name, snapshot(v, level + 1)])
            snap["k"] = keys
        except BaseException:
            snap["x"] = True
        return snap

    def rep_structured(value: Any) -> str:
        t = _type(value)
        if t in scalars:
            return inner(value, 0)
        try:
            snap = snapshot(value, 0)
            if len(snap) == 2:
                return snap["r"]  # nothing more than the repr: keep it plain
            text = json.dumps(snap, separators=(",", ":"), ensure_ascii=False)
            if len(text) > STRUCTURED_MAX:
                top = {k: snap[k] for k in ("t", "r", "n") if k in snap}
                top["x"] = True
                text = json.dumps(top, separators=(",", ":"), ensure_ascii=False)
            return STRUCTURED_PREFIX + text
        except BaseException as exc:
            return "<repr failed: %s>" % _type(exc).__name__

    return rep_structured
