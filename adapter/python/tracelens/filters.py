# In-process filters in the spirit of python-hunter: a small JSON filter spec (fields, operators,
# and/or/not) compiled once, then decided once per code object. What depends only on the code
# (module, function, filename, stdlib, site_packages) is settled there; what depends on the call
# (depth, thread) is left as a small predicate evaluated per call. Knows nothing of events or wire.
#
# Spec forms (JSON):
#   {"field": "module", "op": "glob", "value": "app.*"}      one test
#   {"module_glob": "app.*", "depth_lt": 3}                   hunter shorthand: FIELD[_OP]: VALUE,
#                                                             several keys are and-ed; no _OP: equals
#   {"and": [SPEC, ...]}  {"or": [SPEC, ...]}  {"not": SPEC}  (also as keys beside others: and-ed)
#   [SPEC, ...]                                               and
# Fields: module, function (qualified name), filename, depth (recorded calls open on the thread,
# 0 at the top), thread (thread name), stdlib, site_packages (booleans).
# Operators: equals (eq), glob, regex (rx, re.search), startswith (sw), endswith (ew),
# contains (has), in, lt, lte, gt, gte.
from __future__ import annotations

import os
import sys
import threading

from .scope import glob_match

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up time
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Tuple, Union

__all__ = ["FilterError", "Filter", "CodeFacts", "compile_spec", "parse_spec_text", "FIELDS",
           "OPERATORS", "notrace", "notrace_entry", "on_notrace_change"]

FIELDS = ("module", "function", "filename", "depth", "thread", "stdlib", "site_packages")
STATIC_FIELDS = frozenset(("module", "function", "filename", "stdlib", "site_packages"))
OPERATORS = ("equals", "glob", "regex", "startswith", "endswith", "contains", "in",
             "lt", "lte", "gt", "gte")
_ALIASES = {"eq": "equals", "rx": "regex", "sw": "startswith", "ew": "endswith", "has": "contains",
            "==": "equals"}


class FilterError(ValueError):
    """A filter spec that cannot be understood; the message says what to fix."""


class CodeFacts:
    """What a filter may know of a code object without running it."""
    __slots__ = ("module", "function", "filename", "stdlib", "site_packages")

    def __init__(self, module: str, function: str, filename: str, stdlib: bool,
                 site_packages: bool) -> None:
        self.module, self.function, self.filename = module, function, filename
        self.stdlib, self.site_packages = stdlib, site_packages


# A compiled node: ("and", [nodes]) | ("or", [nodes]) | ("not", node) | ("test", field, test)
# where test(value) -> bool. Partial evaluation turns static tests into True/False.
Node = "Any"  # (a type alias for readers and type checkers)


def _make_test(field: str, op: str, value: Any) -> Callable[[Any], bool]:
    if op == "equals":
        return lambda v: v == value
    if op == "in":
        if not isinstance(value, (list, tuple)):
            raise FilterError("%s_in needs a list of values, got %r" % (field, value))
        options = tuple(value)
        return lambda v: v in options
    if op in ("lt", "lte", "gt", "gte"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise FilterError("%s_%s needs a number, got %r" % (field, op, value))
        return {"lt": lambda v: v < value, "lte": lambda v: v <= value,
                "gt": lambda v: v > value, "gte": lambda v: v >= value}[op]
    if not isinstance(value, str):
        raise FilterError("%s_%s needs a string, got %r" % (field, op, value))
    if op == "glob":
        return lambda v: isinstance(v, str) and glob_match(v, value)
    if op == "regex":
        import re
        try:
            rx = re.compile(value)
        except re.error as exc:
            raise FilterError("%s_regex: bad regular expression %r: %s" % (field, value, exc)) from None
        return lambda v: isinstance(v, str) and rx.search(v) is not None
    if op == "startswith":
        return lambda v: isinstance(v, str) and v.startswith(value)
    if op == "endswith":
        return lambda v: isinstance(v, str) and v.endswith(value)
    if op == "contains":
        return lambda v: isinstance(v, str) and value in v
    raise FilterError("unknown operator %r" % op)


def _leaf(field: str, op: str, value: Any) -> Node:
    op = _ALIASES.get(op, op)
    if field not in FIELDS:
        raise FilterError("unknown filter field %r (fields: %s)" % (field, ", ".join(FIELDS)))
    if op not in OPERATORS:
        raise FilterError("unknown filter operator %r (operators: %s)" % (op, ", ".join(OPERATORS)))
    if field in ("stdlib", "site_packages") and op != "equals":
        raise FilterError("%s is true or false: use {\"%s\": true}" % (field, field))
    return ("test", field, _make_test(field, op, value))


def compile_spec(spec: Any) -> Node:
    """Compiles a parsed JSON filter spec; raises FilterError with a clear message."""
    if isinstance(spec, list):
        return ("and", [compile_spec(s) for s in spec])
    if not isinstance(spec, dict):
        raise FilterError("a filter is a JSON object or list, got %r" % (spec,))
    if not spec:
        return ("and", [])
    if "field" in spec:
        extra = set(spec) - {"field", "op", "value"}
        if extra or "value" not in spec:
            raise FilterError("a test is {\"field\": F, \"op\": OP, \"value\": V}")
        return _leaf(str(spec["field"]), str(spec.get("op", "equals")), spec["value"])
    parts = []
    for key, value in spec.items():
        if key in ("and", "or"):
            if not isinstance(value, list):
                raise FilterError("\"%s\" needs a list of filters" % key)
            parts.append((key, [compile_spec(v) for v in value]))
            continue
        if key == "not":
            parts.append(("not", compile_spec(value)))
            continue
        field, op = key, "equals"
        if key not in FIELDS:
            for f in sorted(FIELDS, key=len, reverse=True):
                if key.startswith(f + "_"):
                    field, op = f, key[len(f) + 1:]
                    break
        parts.append(_leaf(field, op, value))
    return parts[0] if len(parts) == 1 else ("and", parts)


def parse_spec_text(text: str) -> Node:
    import json
    try:
        spec = json.loads(text)
    except ValueError as exc:
        raise FilterError("the filter is not valid JSON: %s" % exc) from None
    return compile_spec(spec)


def _partial(node: Node, facts: CodeFacts) -> Union[bool, Node]:
    kind = node[0]
    if kind == "test":
        if node[1] in STATIC_FIELDS:
            return bool(node[2](getattr(facts, node[1])))
        return node
    if kind == "not":
        inner = _partial(node[1], facts)
        return (not inner) if isinstance(inner, bool) else ("not", inner)
    rest = []
    for child in node[1]:
        value = _partial(child, facts)
        if isinstance(value, bool):
            if kind == "and" and not value:
                return False
            if kind == "or" and value:
                return True
            continue
        rest.append(value)
    if not rest:
        return kind == "and"
    return rest[0] if len(rest) == 1 else (kind, rest)


def _evaluate(node: Node, depth: int, thread: str) -> bool:
    kind = node[0]
    if kind == "test":
        return node[2](depth if node[1] == "depth" else thread)
    if kind == "not":
        return not _evaluate(node[1], depth, thread)
    if kind == "and":
        return all(_evaluate(c, depth, thread) for c in node[1])
    return any(_evaluate(c, depth, thread) for c in node[1])


Predicate = "Callable[[int], bool]"


def _predicate(node: Node) -> Predicate:
    """pred(depth) -> bool, reading the thread's name only when the node asks for it."""
    current = threading.current_thread

    def uses_thread(n: Node) -> bool:
        if n[0] == "test":
            return n[1] == "thread"
        if n[0] == "not":
            return uses_thread(n[1])
        return any(uses_thread(c) for c in n[1])

    if uses_thread(node):
        return lambda depth: _evaluate(node, depth, current().name)
    return lambda depth: _evaluate(node, depth, "")


# -- @tracelens.notrace -------------------------------------------------------------------------
_notrace: Dict[int, Tuple[Any, bool]] = {}  # id(code) -> (code, children)
_listeners: List[Callable[[], None]] = []


def notrace(func: Any = None, *, children: bool = False) -> Any:
    """Leaves a function out of the trace: `@notrace`, or `@notrace(children=True)` to leave out
    everything it calls as well. Works on functions and methods; the function is returned as is."""
    def mark(f: Any) -> Any:
        target = getattr(f, "__func__", f)
        code = getattr(target, "__code__", None)
        if code is not None:
            first = id(code) not in _notrace
            _notrace[id(code)] = (code, children)
            if children and first:
                for listener in list(_listeners):
                    try:
                        listener()
                    except Exception:
                        pass
        return f
    if func is None:
        return mark
    return mark(func)


def notrace_entry(code: Any) -> Optional[bool]:
    """None when the code is not marked; else whether what it calls is left out too."""
    entry = _notrace.get(id(code))
    if entry is None or entry[0] is not code:
        return None
    return entry[1]


def has_notrace_children() -> bool:
    return any(children for _code, children in _notrace.values())


def on_notrace_change(listener: Callable[[], None]) -> Callable[[], None]:
    """Calls listener when a notrace(children=True) is added; returns a function removing it."""
    _listeners.append(listener)

    def remove() -> None:
        try:
            _listeners.remove(listener)
        except ValueError:
            pass
    return remove


class Decision:
    """How a code object is traced. record: whether its calls may be recorded (in scope and not
    excluded by what the code alone decides); pred: the per-call rest of the filter, or None;
    is_from: the code is a --from target; barrier: notrace(children=True)."""
    __slots__ = ("record", "pred", "is_from", "barrier")

    def __init__(self, record: bool, pred: Optional[Predicate], is_from: bool, barrier: bool) -> None:
        self.record, self.pred, self.is_from, self.barrier = record, pred, is_from, barrier

    @property
    def observed(self) -> bool:
        return self.record or self.is_from or self.barrier


class Filter:
    """The scope (--include/--exclude or the program's own code) and, on top of it, the filter
    spec, --max-depth and --from. `gated` is True when some decision depends on the call (depth,
    thread, --from, notrace(children=True)): the backends then use their gated callbacks."""

    def __init__(self, scope: Any, spec: Any = None, max_depth: Optional[int] = None,
                 from_glob: Optional[str] = None) -> None:
        self.scope = scope
        self.spec = spec  # the JSON spec as given (for control messages and children)
        self.node = compile_spec(spec) if spec is not None else None
        if max_depth is not None and (not isinstance(max_depth, int) or max_depth < 0):
            raise FilterError("max depth must be a whole number >= 0, got %r" % (max_depth,))
        self.max_depth = max_depth
        self.from_glob = from_glob or None
        self._dynamic = self.node is not None and _partial_is_dynamic(self.node)

    @property
    def gated(self) -> bool:
        return (self._dynamic or self.max_depth is not None or self.from_glob is not None
                or has_notrace_children())

    def facts(self, filename: str, module: str, qualname: str) -> CodeFacts:
        real = self.scope._real(filename)
        stdlib = site = False
        if real is None:
            stdlib = filename.startswith("<frozen")
        else:
            site = self.scope.is_site_packages(real)
            stdlib = not site and self.scope.is_library(real)
        return CodeFacts(module, qualname, filename, stdlib, site)

    def decide(self, code: Any, module: Optional[str], qualname: str) -> Optional[Decision]:
        """None when the code is never looked at (its events are switched off)."""
        marked = notrace_entry(code)
        barrier = bool(marked)
        is_from = self.from_glob is not None and _from_match(self.from_glob, module, qualname)
        record = marked is None and self.scope.decide(code.co_filename, module)
        pred: Optional[Predicate] = None
        if record and self.node is not None:
            value = _partial(self.node, self.facts(code.co_filename, module or "", qualname))
            if value is False:
                record = False
            elif value is not True:
                pred = _predicate(value)
        if not (record or is_from or barrier):
            return None
        return Decision(record, pred, is_from, barrier)

    def describe(self) -> Dict[str, Any]:
        return {"include": list(self.scope.include), "exclude": list(self.scope.exclude),
                "spec": self.spec, "max_depth": self.max_depth, "from": self.from_glob}


def _partial_is_dynamic(node: Node) -> bool:
    if node[0] == "test":
        return node[1] not in STATIC_FIELDS
    if node[0] == "not":
        return _partial_is_dynamic(node[1])
    return any(_partial_is_dynamic(c) for c in node[1])


def _from_match(glob: str, module: Optional[str], qualname: str) -> bool:
    if glob_match(qualname, glob):
        return True
    return bool(module) and glob_match("%s.%s" % (module, qualname), glob)
