# Bounded, safe value snapshots: a repr cut to a limit that never raises into the program and
# never asks again a type whose repr failed. Called from the hot callbacks, so builtins take a
# short path. Knows nothing of events, scope or the wire.
from __future__ import annotations

from typing import Any, Callable, Set

__all__ = ["make_repr", "DEFAULT_LIMIT", "ELLIPSIS"]

DEFAULT_LIMIT = 120
ELLIPSIS = "\u2026"
_BIG = 10 ** 60


def make_repr(limit: int = DEFAULT_LIMIT) -> Callable[[Any], str]:
    """Returns rep(value) -> str of at most `limit` characters (cut ones end with '…')."""
    cut = max(limit - 1, 1)
    failed: Set[type] = set()
    _int, _str, _float, _bool, _none = int, str, float, bool, type(None)
    _bytes, _list, _tuple, _dict, _set, _fset = bytes, list, tuple, dict, set, frozenset
    _repr, _type, _len = repr, type, len
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

    def slow(value: Any, t: type) -> str:
        if t in failed:
            return "<%s object>" % t.__name__
        try:
            text = _repr(value)
            if _type(text) is not _str:
                text = _str.__str__(text) if isinstance(text, _str) else "<%s object>" % t.__name__
        except RecursionError:
            return "<%s object>" % t.__name__
        except BaseException as exc:  # a __repr__ may raise anything, even SystemExit
            failed.add(t)
            try:
                message = _str(exc)
            except BaseException:
                message = ""
            return shorten("<repr failed: %s: %s>" % (_type(exc).__name__, message))
        return shorten(text)

    def rep(value: Any) -> str:
        return inner(value, 0)

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

    return rep
