"""What a Python rule's ``visitor: module:Class`` hook is, and what it sees.

A hook is a :class:`Visitor` subclass: a libcst batchable visitor that the analyzer runs in its
one walk of the module, beside every other rule. It reads the module through its
:class:`Context` (the module, its text, the :class:`Resolver` that gives an expression's
qualified name through the file's real imports, the project's signature index when it sets
``NEEDS_INDEX``) and reports with ``self.report(node, **fields)``. :func:`literal`,
:func:`find_arg` and :func:`walk` are the helpers the analyzer's own matcher uses.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import libcst as cst

from linter import core
from linter.core.model import Rule
from linter.python import evidence
from linter.python.tree import Batch

if TYPE_CHECKING:  # types only: the index is imported when a run builds one
    from linter.python.index import ProjectIndex

BUILTINS = frozenset(dir(builtins))
_UNKNOWN = None  # a binding we cannot type (parameter, assignment from anything else)

_BRACES = re.compile(r"\{([^{}]*)\}")


def expand_braces(pattern: str) -> list[str]:
    """``requests.{get,post}`` -> ``requests.get``, ``requests.post``."""
    m = _BRACES.search(pattern)
    if not m:
        return [pattern]
    out: list[str] = []
    for alt in m.group(1).split(","):
        out.extend(expand_braces(pattern[: m.start()] + alt.strip() + pattern[m.end() :]))
    return out


class Scope:
    __slots__ = ("kind", "bindings", "parent", "self_name", "class_scope", "params")

    def __init__(self, kind: str, parent: Scope | None) -> None:
        self.kind = kind  # "module" | "class" | "function"
        self.bindings: dict[str, str | None] = {}
        self.params: frozenset[str] = frozenset()  # a function's parameters
        self.parent = parent
        self.self_name: str | None = None  # first parameter of a method
        self.class_scope: Scope | None = None  # enclosing class of a method (attrs of self)


def dotted(node: cst.BaseExpression | cst.ImportFrom | None) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        left = dotted(node.value)
        return f"{left}.{node.attr.value}" if left else None
    return None


def literal(node: cst.BaseExpression) -> tuple[bool, Any]:
    """(True, value) for a literal constant, else (False, None)."""
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return True, {"True": True, "False": False, "None": None}[node.value]
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        if isinstance(value, str):
            return True, value
        return False, None
    if isinstance(node, cst.Integer):
        return True, node.evaluated_value
    if isinstance(node, cst.Float):
        return True, node.evaluated_value
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        ok, v = literal(node.expression)
        if ok and isinstance(v, (int, float)) and not isinstance(v, bool):
            return True, -v
    return False, None


class Resolver:
    """Scope chain + qualified-name resolution for one module."""

    def __init__(self, module: cst.Module) -> None:
        self.module_scope = Scope("module", None)
        self.stack: list[Scope] = [self.module_scope]
        self.star_modules: list[str] = []
        self._scopes: dict[int, Scope] = {}
        self._collect(module.body, self.module_scope)

    # ---- binding collection (statement level only: cheap)
    def _bind(self, scope: Scope, name: str, value: str | None, strong: bool) -> None:
        if name in scope.params and value is not None and not value.endswith("()"):
            # `if cert_reqs is None: cert_reqs = ssl.CERT_NONE`: the caller's value in every other
            # case, so no constant (an object built for it, `session = Session()`, keeps its type)
            return
        if name in scope.bindings:
            old = scope.bindings[name]
            if old == value:
                return
            if not strong and old is not None:
                return  # `except ImportError: requests = None` keeps the import
            if strong and old is not None and value is not None:
                return  # two imports of one name: keep the first
        scope.bindings[name] = value

    def _collect(self, body: Sequence[cst.CSTNode], scope: Scope) -> None:
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    self._collect_small(small, scope)
            elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                scope.bindings[stmt.name.value] = _UNKNOWN
            elif isinstance(stmt, cst.BaseCompoundStatement):
                if isinstance(stmt, (cst.For,)):
                    self._bind_target(stmt.target, None, scope)
                if isinstance(stmt, cst.With):
                    for item in stmt.items:
                        if item.asname is not None:
                            self._bind_target(item.asname.name, item.item, scope)
                for block in _blocks(stmt):
                    self._collect(block, scope)

    def _collect_small(self, small: cst.BaseSmallStatement, scope: Scope) -> None:
        if isinstance(small, cst.Import):
            for alias in small.names:
                full = dotted(alias.name)
                if not full:
                    continue
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self._bind(scope, alias.asname.name.value, full, True)
                else:
                    head = full.split(".")[0]
                    self._bind(scope, head, head, True)
        elif isinstance(small, cst.ImportFrom):
            base = (dotted(small.module) or "") if small.module is not None else ""
            if small.relative:
                base = "." * len(small.relative) + (base or "")
            if not isinstance(small.names, Sequence):  # ImportStar
                if base and not small.relative:
                    self.star_modules.append(base)
                return
            for alias in small.names:
                name = dotted(alias.name)
                if not name:
                    continue
                local = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else name
                full = f"{base}{name}" if base.endswith(".") else f"{base}.{name}"
                self._bind(scope, local, full, True)
        elif isinstance(small, cst.Assign):
            for target in small.targets:
                self._bind_target(target.target, small.value, scope)
        elif isinstance(small, cst.AnnAssign):
            self._bind_target(small.target, small.value, scope)
        elif isinstance(small, cst.AugAssign):
            self._bind_target(small.target, None, scope)

    def _bind_target(self, target: cst.BaseExpression, value: cst.BaseExpression | None, scope: Scope) -> None:
        if isinstance(target, cst.Name):
            typed = self._value_type(value, scope) if value is not None else None
            strong = typed is not None
            if value is not None and not strong and is_none(value):
                strong = False
            self._bind(scope, target.value, typed, strong)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._bind_target(el.value, None, scope)
        elif isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
            if scope.self_name and target.value.value == scope.self_name and scope.class_scope is not None:
                typed = self._value_type(value, scope) if value is not None else None
                self._bind(scope.class_scope, "self." + target.attr.value, typed, typed is not None)

    def _value_type(self, value: cst.BaseExpression, scope: Scope) -> str | None:
        if isinstance(value, cst.Name) and value.value in ("None", "True", "False"):
            # a constant, not an object: `session = None` before `session = Session()`, or
            # `posix = None` before an optional `import posix`, leaves the name to them
            return None
        if isinstance(value, cst.Call):
            module = _import_module_call(value, self, scope)
            if module:
                return module
            callee = self.resolve(value.func, scope)
            return f"{callee}()" if callee else None
        if isinstance(value, (cst.Name, cst.Attribute)):
            return self.resolve(value, scope)
        if isinstance(value, cst.Await):
            return None
        return None

    # ---- scopes
    def scope_for(self, node: cst.FunctionDef | cst.ClassDef, parent: Scope) -> Scope:
        key = id(node)
        found = self._scopes.get(key)
        if found is not None:
            return found
        if isinstance(node, cst.ClassDef):
            scope = Scope("class", parent)
            self._scopes[key] = scope
            self._collect(node.body.body if isinstance(node.body, cst.IndentedBlock) else (), scope)
            # methods bind self.<attr>: collect them now so every method sees them
            for stmt in _body(node.body):
                if isinstance(stmt, cst.FunctionDef):
                    self.scope_for(stmt, scope)
            return scope
        scope = Scope("function", parent)
        self._scopes[key] = scope
        params = node.params
        all_params = [*params.posonly_params, *params.params, *params.kwonly_params]
        for extra in (params.star_arg, params.star_kwarg):
            if isinstance(extra, cst.Param):
                all_params.append(extra)
        for p in all_params:
            scope.bindings[p.name.value] = _UNKNOWN
        scope.params = frozenset(p.name.value for p in all_params)
        if parent.kind == "class":
            positional = [*params.posonly_params, *params.params]
            is_static = any(dotted(d.decorator) in ("staticmethod",) for d in node.decorators)
            if positional and not is_static:
                scope.self_name = positional[0].name.value
                scope.class_scope = parent
        self._collect(_body(node.body), scope)
        return scope

    @property
    def scope(self) -> Scope:
        return self.stack[-1]

    def lookup(self, name: str, scope: Scope | None = None) -> tuple[bool, str | None]:
        s: Scope | None = scope or self.scope
        first = True
        while s is not None:
            if (first or s.kind != "class") and name in s.bindings:
                return True, s.bindings[name]
            first = False
            s = s.parent
        return False, None

    def resolve(self, node: cst.BaseExpression, scope: Scope | None = None) -> str | None:
        """Qualified name of an expression, or None when it cannot be known."""
        scope = scope or self.scope
        if isinstance(node, cst.Name):
            found, value = self.lookup(node.value, scope)
            if found:
                return value
            if len(self.star_modules) == 1:
                return f"{self.star_modules[0]}.{node.value}"
            return node.value if node.value in BUILTINS else None
        if isinstance(node, cst.Attribute):
            inner = node.value
            if isinstance(inner, cst.Name):
                s = _method_scope(scope)
                if s is not None and s.self_name == inner.value and s.class_scope is not None:
                    typed = s.class_scope.bindings.get("self." + node.attr.value)
                    return typed
            left = self.resolve(inner, scope)
            return f"{left}.{node.attr.value}" if left else None
        if isinstance(node, cst.Call):
            module = _import_module_call(node, self, scope)
            if module:
                return module
            left = self.resolve(node.func, scope)
            return f"{left}()" if left else None
        if isinstance(node, cst.Await):
            return None
        return None


def _method_scope(scope: Scope) -> Scope | None:
    s: Scope | None = scope
    while s is not None and s.kind == "function":
        if s.self_name is not None:
            return s
        s = s.parent
    return None


def _import_module_call(call: cst.Call, resolver: Resolver, scope: Scope) -> str | None:
    """``importlib.import_module("ssl")`` / ``__import__("ssl")`` -> ``ssl``."""
    if not call.args:
        return None
    func = call.func
    if isinstance(func, cst.Name) and func.value == "__import__":
        pass
    else:
        callee = resolver.resolve(func, scope) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if callee != "importlib.import_module":
            return None
    ok, value = literal(call.args[0].value)
    return value if ok and isinstance(value, str) and value else None


def is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _body(body: cst.BaseSuite) -> Sequence[cst.BaseStatement]:
    if isinstance(body, cst.IndentedBlock):
        return body.body
    return ()


def _blocks(stmt: cst.BaseCompoundStatement) -> Iterator[Sequence[cst.CSTNode]]:
    body = getattr(stmt, "body", None)
    if isinstance(body, cst.IndentedBlock):
        yield body.body
    elif isinstance(body, cst.SimpleStatementSuite):
        yield [cst.SimpleStatementLine(body=body.body)]
    for attr in ("orelse", "finalbody"):
        sub = getattr(stmt, attr, None)
        if sub is not None:
            if isinstance(sub, cst.If):
                yield [sub]
            else:
                inner = getattr(sub, "body", None)
                if isinstance(inner, cst.IndentedBlock):
                    yield inner.body
    for handler in getattr(stmt, "handlers", ()):
        if isinstance(handler.body, cst.IndentedBlock):
            yield handler.body.body
    for case in getattr(stmt, "cases", ()):
        if isinstance(case.body, cst.IndentedBlock):
            yield case.body.body


@dataclass(slots=True)
class Report:
    rule: Rule
    node: cst.CSTNode
    fmt: dict[str, str]
    fix_kind: str | None = None
    fix_node: cst.CSTNode | None = None  # the node the fix edits (call for add-kwarg, value for set-kwarg)
    message: str | None = None
    top: int = -1  # index of the module-level statement it was found in
    member: int = -1  # in a module-level class: index of the class-body statement it was found in


class Context:
    """What a visitor sees: the resolver, the module and the report sink."""

    def __init__(self, module: cst.Module, resolver: Resolver, path: str, index: ProjectIndex | None = None, source: str | None = None) -> None:
        self.module = module
        self._source = source
        self.resolver = resolver
        self.path = path
        self.reports: list[Report] = []
        # the project's signature index (linter.python.index.ProjectIndex) when a visitor NEEDS_INDEX, else None
        self.index = index
        # where the walk is: module-level statement and class-body statement indexes (-1: none).
        # A visitor that reports later than it sees a node (at the end of the module) keeps
        # `where` with the node and passes it to `report(..., at=...)`.
        self.where: tuple[int, int] = (-1, -1)
        #: the ``def``s around the node the walk is at, innermost last (kept by ``_ScopeTracker``)
        self.functions: list[cst.FunctionDef] = []
        self._evidence: evidence.Evidence | None = None

    @property
    def evidence(self) -> evidence.Evidence:
        """The module-wide scans the ``unless-*`` vetoes read, made when first needed."""
        if self._evidence is None:
            self._evidence = evidence.Evidence(self)
        return self._evidence

    @property
    def source(self) -> str:
        """The text the module was parsed from (``module.code``, which libcst would regenerate
        at the cost of a walk over the whole tree)."""
        if self._source is None:
            self._source = self.module.code
        return self._source

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)


class Visitor(cst.BatchableCSTVisitor):
    """Escape hatch: a rule's ``visitor: module:Class`` is a subclass of this.

    Implement ``visit_*``/``leave_*`` and call ``self.report(node, **fmt)``. ``self.resolve(expr)``
    gives the qualified name of an expression through the file's imports. ``TRIGGERS`` lists the
    words a file must contain for the visitor to be worth running (``None``: every file);
    ``TRIGGER_REGEX`` is a regular expression (on the file's text) that may stand in for or add to
    them (a tuple of patterns: any of them; an alternation of patterns that start differently is
    faster split this way). A file that matches neither is not handed to the visitor. ``NEEDS_INDEX``: the visitor
    reads ``self.context.index``, the project-wide signature index the runner builds first.
    """

    TRIGGERS: ClassVar[tuple[str, ...] | None] = None
    # True when every finding of the visitor lies in a statement whose own text holds one of its
    # triggers (no module-wide evidence): the analyzer may then skip the file's other statements
    LOCAL: ClassVar[bool] = False
    TRIGGER_REGEX: ClassVar[str | tuple[str, ...] | None] = None
    # for a LOCAL visitor whose TRIGGER_REGEX is about the whole file (lookaheads from \A): what
    # the text of a definition must match to hold one of its findings, or any statement the
    # visitor's module-wide evidence comes from
    CHUNK_REGEX: ClassVar[str | tuple[str, ...] | None] = None
    NEEDS_INDEX: ClassVar[bool] = False

    def __init__(self, rule: Rule, context: Context) -> None:
        super().__init__()
        self.rule = rule
        self.context = context

    # shadows libcst's MetadataDependent.resolve(wrapper) on purpose: ``self.resolve(expr)`` is
    # the visitors' documented API, and they are never run through a MetadataWrapper (which
    # would call resolve(wrapper)); the analyzer runs them through ``libcst.visit_batched`` or
    # its own walk, and computes positions after the walk
    def resolve(self, node: cst.BaseExpression) -> str | None:  # type: ignore[override]
        return self.context.resolver.resolve(node)

    def report(self, node: cst.CSTNode, message: str | None = None, *, at: tuple[int, int] | None = None, **fmt: str) -> None:
        """``at``: ``self.context.where`` as it was when the walk saw ``node`` (default: now)."""
        top, member = at if at is not None else self.context.where
        self.context.reports.append(Report(self.rule, node, dict(fmt), message=message, top=top, member=member))


def find_arg(
    call: cst.Call, arg: str | int, position: int | None, *, ignore_case: bool = False, kwargs_seen: bool = False
) -> tuple[str, cst.BaseExpression | None]:
    """("present", node) | ("missing", None) | ("unknown", None) when ``*args``/``**kwargs`` may hold it.
    ``ignore_case``: the keyword in any spelling; ``kwargs_seen``: the ``**`` dicts are known not to hold it."""
    positional: list[cst.BaseExpression] = []
    star = False
    double_star = False
    wanted = arg.lower() if ignore_case and isinstance(arg, str) else arg
    for a in call.args:
        if a.star == "**":
            double_star = double_star or not kwargs_seen
        elif a.star == "*":
            star = True
        elif a.keyword is None:
            if not star:
                positional.append(a.value)
        elif isinstance(arg, str) and (a.keyword.value.lower() if ignore_case else a.keyword.value) == wanted:
            return "present", a.value
    index = arg if isinstance(arg, int) else position
    if index is not None:
        if index < len(positional):
            return "present", positional[index]
        if star:
            return "unknown", None
    if isinstance(arg, str) and double_star:
        return "unknown", None
    return "missing", None


def walk(node: cst.CSTNode, visitors: Sequence[cst.BatchableCSTVisitor]) -> None:
    """Run ``visitors`` over ``node`` and everything below it, read-only (a hook's own scan of
    the module): the analyzer's walk, or libcst's batched visit under ``PITFALL_NO_FAST_PATHS``."""
    if core.FAST_PATHS:
        Batch(visitors).walk(node)
    else:
        cst.visit_batched(node, visitors)
