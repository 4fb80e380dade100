"""Reading libcst trees without libcst's visitor machinery.

libcst's ``CSTNode.children`` and ``visit`` rebuild every node on the way back
(``_visit_and_replace_children``), which costs more than parsing. The analyzer's walk and the
matcher's module scans (``evidence.py``) read a node's children from its dataclass fields
instead, skipping the fields that hold only whitespace and punctuation. Under
``PITFALL_NO_FAST_PATHS`` :func:`children` is libcst's own ``children``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import libcst as cst

from linter import core

# Fields that hold only whitespace and punctuation: never worth descending into.
SKIP_FIELDS = frozenset(
    {
        "lpar", "rpar", "comma", "semicolon", "leading_lines", "lines_after_decorators", "header", "footer",
        "trailing_whitespace", "colon", "equal", "dot", "lbracket", "rbracket", "lbrace", "rbrace",
        "whitespace", "whitespace_before", "whitespace_after", "whitespace_before_colon", "whitespace_after_colon",
        "whitespace_before_params", "whitespace_after_def", "whitespace_after_name", "whitespace_before_indent",
        "whitespace_after_star", "whitespace_after_param", "whitespace_after_func", "whitespace_before_args",
        "whitespace_after_async", "whitespace_after_await", "whitespace_after_import", "whitespace_after_from",
        "whitespace_before_import", "whitespace_after_class", "whitespace_after_lambda", "whitespace_before_from",
        "whitespace_after_at", "whitespace_before_as", "whitespace_after_as", "whitespace_after_in",
        "whitespace_before_in", "whitespace_after_for", "whitespace_after_if", "whitespace_before_if",
        "whitespace_after_while", "whitespace_after_with", "whitespace_after_except", "whitespace_after_yield",
        "whitespace_after_return", "whitespace_after_assert", "whitespace_after_raise", "whitespace_after_del",
        "whitespace_after_global", "whitespace_after_nonlocal", "whitespace_after_else", "whitespace_after_elif",
        "whitespace_after_try", "whitespace_after_finally", "whitespace_after_match", "whitespace_after_case",
        "whitespace_after_type", "whitespace_after_cls", "whitespace_after_walrus", "whitespace_before_walrus",
        "whitespace_before_value", "whitespace_after_indicator", "whitespace_before_indicator",
        "whitespace_after_arg", "whitespace_before_expression", "whitespace_after_expression",
        "whitespace_before_name", "whitespace_after_in_clause", "whitespace_before_else",
    }
)
# The classes whose fields are not declared in the order their code is written: the walk visits
# their children in source order, as libcst's ``children`` and visitors do (what a visitor sees
# first can decide what it reports).
SOURCE_ORDER: dict[type, tuple[str, ...]] = {
    cst.ExceptHandler: ("type", "name", "body"),
    cst.ExceptStarHandler: ("type", "name", "body"),
    cst.IfExp: ("body", "test", "orelse"),
    cst.Arg: ("keyword", "value"),
    cst.FunctionDef: ("decorators", "asynchronous", "name", "type_parameters", "params", "returns", "body"),
    cst.ClassDef: ("decorators", "name", "type_parameters", "bases", "keywords", "body"),
    cst.With: ("asynchronous", "items", "body"),
    cst.For: ("asynchronous", "target", "iter", "body", "orelse"),
    cst.CompFor: ("asynchronous", "target", "iter", "ifs", "inner_for_in"),
    cst.MatchCase: ("pattern", "guard", "body"),
    cst.ImportFrom: ("relative", "module", "names"),
    cst.Parameters: ("posonly_params", "posonly_ind", "params", "star_arg", "kwonly_params", "star_kwarg"),
    cst.Slice: ("lower", "first_colon", "upper", "second_colon", "step"),
    cst.SimpleStatementSuite: ("leading_whitespace", "body", "trailing_whitespace"),
}
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def child_fields(kind: type) -> tuple[str, ...]:
    """The fields of a node class that can hold code, in source order (computed once per class)."""
    found = _CHILD_FIELDS.get(kind)
    if found is None:
        import dataclasses

        found = tuple(
            f.name
            for f in dataclasses.fields(kind)
            if f.name not in SKIP_FIELDS and not f.name.startswith("whitespace") and not f.name.startswith("_")
        )
        order = SOURCE_ORDER.get(kind)
        if order is not None:
            found = tuple(sorted(found, key=lambda name: order.index(name) if name in order else len(order)))
        _CHILD_FIELDS[kind] = found
    return found


def field_nodes(value: Any) -> Sequence[cst.CSTNode]:
    """The nodes a node's field holds (a node, a sequence of them, or none)."""
    kind = type(value)
    if kind is tuple or kind is list:
        return [v for v in value if is_node_type(type(v))]
    if is_node_type(kind):
        return (value,)
    return ()


_NODE_TYPES: dict[type, bool] = {}


def is_node_type(kind: type) -> bool:
    """``issubclass(kind, cst.CSTNode)``, remembered: ``CSTNode`` is an abstract base class, and
    ``isinstance`` against one costs several times a dictionary lookup (it is asked for every
    field of every node of a walk)."""
    known = _NODE_TYPES.get(kind)
    if known is None:
        known = _NODE_TYPES[kind] = issubclass(kind, cst.CSTNode)
    return known


def children(node: cst.CSTNode) -> Sequence[cst.CSTNode]:
    """The nodes directly under ``node`` that can hold code, in source order (libcst's
    ``children``, in source order and with punctuation and whitespace nodes, under
    ``PITFALL_NO_FAST_PATHS``)."""
    if not core.FAST_PATHS:
        return node.children
    out: list[cst.CSTNode] = []
    for name in child_fields(type(node)):
        value = getattr(node, name)
        kind = type(value)
        if kind is tuple or kind is list:
            out.extend(v for v in value if is_node_type(type(v)))
        elif is_node_type(kind):
            out.append(value)
    return out


_VISITOR_METHODS: dict[type, tuple[str, ...]] = {}


def visitor_methods(kind: type) -> tuple[str, ...]:
    """The names of the ``visit_*`` and ``leave_*`` methods of a visitor class that are not
    libcst's no-op defaults: the names of libcst's ``get_visitors``, read from the classes'
    own dictionaries (``get_visitors`` asks ``inspect.getmembers`` about each of the thousand
    methods a visitor inherits, which cost a process a millisecond per class)."""
    seen: set[str] = set()
    found: list[str] = []
    for klass in kind.__mro__:
        for name, value in vars(klass).items():
            if name in seen:
                continue
            seen.add(name)
            if name.startswith(("visit_", "leave_")) and callable(value) and not getattr(value, "_is_no_op", False):
                found.append(name)
    return tuple(sorted(found))


class Batch:
    """All visitors in one traversal of our own.

    libcst's ``visit`` rebuilds every node on the way back (``_visit_and_replace_children``),
    which costs more than parsing; a read-only walk over the dataclass fields does not. The
    walk is iterative, so deep expressions (long implicit string concatenations) cannot
    exhaust the stack. Visit order within a node is field order (a decorator may be seen
    after its function's body); ``visit_*`` return values are ignored.
    """

    def __init__(self, visitors: Iterable[cst.BatchableCSTVisitor]) -> None:
        self._visit: dict[str, list[Any]] = {}
        self._leave: dict[str, list[Any]] = {}
        for v in visitors:
            names = _VISITOR_METHODS.get(type(v))
            if names is None:  # once per class, not per file
                names = _VISITOR_METHODS[type(v)] = visitor_methods(type(v))
            for name in names:
                (self._leave if name.startswith("leave_") else self._visit).setdefault(name, []).append(getattr(v, name))
        for leaves in self._leave.values():
            leaves.reverse()

    def enter(self, node: cst.CSTNode) -> None:
        for fn in self._visit.get("visit_" + type(node).__name__, ()):
            fn(node)

    def exit(self, node: cst.CSTNode) -> None:
        for fn in self._leave.get("leave_" + type(node).__name__, ()):
            fn(node)

    def walk(self, root: cst.CSTNode) -> None:
        visit, leave = self._visit, self._leave
        stack: list[tuple[bool, cst.CSTNode]] = [(False, root)]
        pop, push = stack.pop, stack.append
        while stack:
            leaving, node = pop()
            name = type(node).__name__
            if leaving:
                for fn in leave.get("leave_" + name, ()):
                    fn(node)
                continue
            for fn in visit.get("visit_" + name, ()):
                fn(node)
            push((True, node))
            for child in reversed(children(node)):
                push((False, child))
