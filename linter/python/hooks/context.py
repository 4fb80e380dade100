"""Context and deadline propagation (pack ``context``, ``CTX1xx``): visitors of the Python analyzer.

- ``GrpcDeadlineDropped`` (CTX101): a stub call in a gRPC servicer method whose ``timeout`` does
  not derive from ``context.time_remaining()``.
- ``TimeoutNotPropagated`` (CTX102): a function given ``timeout``/``deadline``/``context``/``ctx``
  calls something that accepts the same parameter without passing it on; callees in other modules
  come from the project's signature index (``linter.python.index``), callees of the file itself from its
  own tree, network APIs from a small table.
- ``ThreadLosesContext`` (CTX103): work handed to a thread per call (not a daemon or background
  worker) whose callable, defined in the module, reads a ``ContextVar`` or the OpenTelemetry
  context, without ``contextvars.copy_context().run``.
- ``TaskResultDiscarded`` (CTX104): ``asyncio.create_task``/``ensure_future`` as a bare statement.
- ``CancellationSwallowed`` (CTX105): an ``except`` in an ``async def`` that catches
  ``asyncio.CancelledError`` and can finish without raising, unless the code owns the cancellation
  (a task it cancelled or holds, a coroutine it starts as a task and cancels); the message says
  whether the coroutine then returns normally or keeps running.

Every visitor keeps its own small stack of enclosing scopes; calls inside a nested ``def``,
``lambda`` or class belong to that scope, not to the enclosing function. Nothing here raises on
odd input: a name that does not resolve, a dynamic attribute, ``*args``/``**kwargs`` or a
``functools.partial`` makes a rule stay silent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from linter.python import tree
from linter.python.index import _KEEPS_SIGNATURE, WATCHED, Signature, absolute, dotted_path
from linter.core.model import Rule
from linter.python.visitor import Context, Visitor, dotted, find_arg, literal

_SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)


def _last(node: cst.BaseExpression | None) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return ""


def _walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The node and everything under it, not entering nested functions, lambdas or classes."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(c for c in tree.children(n) if not isinstance(c, _SCOPES))


def _refs(node: cst.CSTNode, names: set[str] | frozenset[str]) -> bool:
    """Does the expression read one of ``names`` (not as an attribute or keyword name)?"""
    stack: list[cst.CSTNode] = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Name):
            if n.value in names:
                return True
        elif isinstance(n, cst.Attribute):
            stack.append(n.value)
        elif isinstance(n, cst.Arg):
            stack.append(n.value)
        elif isinstance(n, _SCOPES):
            if isinstance(n, cst.Lambda):
                stack.append(n.body)
        else:
            stack.extend(tree.children(n))
    return False


def _param_names(params: cst.Parameters) -> list[cst.Param]:
    return [*params.posonly_params, *params.params, *params.kwonly_params]


def _is_static(node: cst.FunctionDef) -> bool:
    return any(_last(d.decorator) == "staticmethod" for d in node.decorators)


def cst_signature(node: cst.FunctionDef, in_class: bool) -> Signature | None:
    """``linter.python.index.signature_of`` for a libcst ``def`` (the file being analysed)."""
    kind = "method" if in_class else "function"
    for dec in node.decorators:
        expr = dec.decorator.func if isinstance(dec.decorator, cst.Call) else dec.decorator
        name = _last(expr)
        if name not in _KEEPS_SIGNATURE:
            return None
        if in_class and name in ("staticmethod", "classmethod"):
            kind = name
    p = node.params
    positional = [*p.posonly_params, *p.params]
    out: list[tuple[str, int | None, bool]] = []
    bounded: set[str] = set()
    for i, a in enumerate(positional):
        if a.name.value in WATCHED:
            out.append((a.name.value, i, i >= len(p.posonly_params)))
    for a in p.kwonly_params:
        if a.name.value in WATCHED:
            out.append((a.name.value, None, True))
    for a in (*positional, *p.kwonly_params):
        if a.name.value in WATCHED and a.default is not None:
            ok, value = literal(a.default)
            if ok and isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
                bounded.add(a.name.value)
    return Signature(kind, tuple(out), frozenset(bounded)) if out else None


def _blocks(body: cst.BaseSuite) -> Iterator[cst.BaseStatement]:
    """Statements of a module or class body, looking into ``if``/``try`` (conditional defs)."""
    if not isinstance(body, cst.IndentedBlock):
        return
    yield from _statements(body.body)


def _statements(stmts: Any) -> Iterator[cst.BaseStatement]:
    for stmt in stmts:
        yield stmt
        if isinstance(stmt, (cst.If, cst.Try, cst.TryStar)):
            inner = getattr(stmt, "body", None)
            if isinstance(inner, cst.IndentedBlock):
                yield from _statements(inner.body)
            for handler in getattr(stmt, "handlers", ()):
                if isinstance(handler.body, cst.IndentedBlock):
                    yield from _statements(handler.body.body)
            for attr in ("orelse", "finalbody"):
                sub = getattr(stmt, attr, None)
                if isinstance(sub, cst.If):
                    yield from _statements([sub])
                elif sub is not None and isinstance(getattr(sub, "body", None), cst.IndentedBlock):
                    yield from _statements(sub.body.body)


@dataclass
class _Def:
    """A class or function the walk is in, named as the module names it."""

    key: str  # `f`, `Class`, `Class.method`, `f.<locals>.inner`
    name: str
    is_class: bool
    self_name: str | None = None  # the instance's name in a method (and in functions nested in it)
    class_key: str | None = None
    data: Any = None  # what a visitor keeps about the definition


class _Scopes:
    """The classes and functions around the walk, kept in step with the resolver's scopes, so a
    name used in a function leads to the definition it refers to (``key_of``)."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.stack: list[_Def] = []

    def function(self) -> _Def | None:
        """The innermost enclosing function (None at module level and in a class body)."""
        return self.stack[-1] if self.stack and not self.stack[-1].is_class else None

    def enter(self, node: cst.FunctionDef | cst.ClassDef) -> _Def:
        outer = self.stack[-1] if self.stack else None
        name = node.name.value
        if outer is None:
            frame = _Def(name, name, isinstance(node, cst.ClassDef))
        elif isinstance(node, cst.ClassDef):
            frame = _Def(f"{outer.key}.{name}" if outer.is_class else f"{outer.key}.<locals>.{name}", name, True)
        elif outer.is_class:  # a method
            positional = [*node.params.posonly_params, *node.params.params]
            self_name = positional[0].name.value if positional and not _is_static(node) else None
            frame = _Def(f"{outer.key}.{name}", name, False, self_name, outer.key)
        else:  # a nested function sees the method's instance
            frame = _Def(f"{outer.key}.<locals>.{name}", name, False, outer.self_name, outer.class_key)
        self.stack.append(frame)
        return frame

    def leave(self) -> _Def:
        return self.stack.pop()

    def key_of(self, ref: cst.BaseExpression | None) -> str | None:
        """The key of the definition ``ref`` names (`f`, `self.method`, `Class.method`), if it is
        one of this module's; whether it exists is the caller's to check."""
        if isinstance(ref, cst.Name):
            return self.bound(ref.value)
        if isinstance(ref, cst.Attribute) and isinstance(ref.value, cst.Name):
            frame = self.function()
            if frame is not None and frame.class_key and ref.value.value == frame.self_name:
                return f"{frame.class_key}.{ref.attr.value}"
            owner = self.bound(ref.value.value)  # `Class.method`
            return f"{owner}.{ref.attr.value}" if owner else None
        return None

    def bound(self, name: str) -> str | None:
        """The key ``name`` has where it is bound (the resolver's scope chain; None: not here)."""
        scopes = self.context.resolver.stack
        if len(scopes) != len(self.stack) + 1:
            return None
        first = True
        for i in range(len(self.stack), -1, -1):
            scope = scopes[i]
            if (first or scope.kind != "class") and name in scope.bindings:
                if i == 0:
                    return name
                outer = self.stack[i - 1]
                return None if outer.is_class else f"{outer.key}.<locals>.{name}"
            first = False
        return None


# --------------------------------------------------------------------------- CTX101

# a stub's method as the resolver names it: `<pkg.>x_pb2_grpc.NameStub().Method[.future|.with_call]`
_STUB_METHOD = re.compile(r"(?:^|\.)\w*_pb2_grpc\.\w+Stub\(\)\.\w+(?:\.(?:future|with_call))?$")
_CONTEXT_PARAM = re.compile(r"^_*(?:\w+_)?(?:context|ctx)$", re.IGNORECASE)


def _is_servicer(node: cst.ClassDef) -> bool:
    for base in node.bases:
        if base.keyword is None and _last(base.value).endswith("Servicer"):
            return True
    return False


@dataclass
class _ServicerFrame:
    method: str
    context: str
    derived: set[str] = field(default_factory=set)


class GrpcDeadlineDropped(Visitor):
    """CTX101: an outbound stub call in a servicer method that drops the incoming deadline."""

    TRIGGERS = ("Servicer",)

    def __init__(self, rule: Rule, context: Context) -> None:
        super().__init__(rule, context)
        # ("class", is servicer) | ("func", frame or None) | ("lambda", None)
        self._stack: list[tuple[str, Any]] = []

    def _frame(self) -> _ServicerFrame | None:
        if self._stack and self._stack[-1][0] == "func":
            return self._stack[-1][1]
        return None

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._stack.append(("class", _is_servicer(node)))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        frame = None
        if self._stack and self._stack[-1] == ("class", True) and not _is_static(node):
            positional = [*node.params.posonly_params, *node.params.params]
            if len(positional) >= 3 and _CONTEXT_PARAM.match(positional[2].name.value):
                frame = _ServicerFrame(node.name.value, positional[2].name.value)
        self._stack.append(("func", frame))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._stack.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._stack.append(("lambda", None))

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._stack.pop()

    # names whose value derives from the context (`remaining = context.time_remaining()`)
    def _derive(self, targets: list[cst.BaseExpression], value: cst.BaseExpression | None) -> None:
        frame = self._frame()
        if frame is None or value is None:
            return
        if _refs(value, frame.derived | {frame.context}):
            stack = list(targets)
            while stack:
                t = stack.pop()
                if isinstance(t, cst.Name):
                    frame.derived.add(t.value)
                elif isinstance(t, (cst.Tuple, cst.List)):
                    stack.extend(e.value for e in t.elements)

    def visit_Assign(self, node: cst.Assign) -> None:
        self._derive([t.target for t in node.targets], node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._derive([node.target], node.value)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._derive([node.target], node.value)

    def visit_Call(self, node: cst.Call) -> None:
        frame = self._frame()
        if frame is None or not isinstance(node.func, cst.Attribute):
            return
        qual = self.resolve(node.func)
        if not qual or not _STUB_METHOD.search(qual):
            return
        status, value = find_arg(node, "timeout", 1)
        if status == "unknown":
            return  # `**kwargs` / `*args` may carry it
        if status == "missing":
            problem = "sets no `timeout`"
        elif value is not None and _refs(value, frame.derived | {frame.context}):
            return
        else:
            code = self.context.code(value) if value is not None else ""
            problem = f"sets `timeout={code}`, which does not derive from `{frame.context}.time_remaining()`"
        self.report(node, callee=self.context.code(node.func), method=frame.method, context=frame.context, problem=problem)


# --------------------------------------------------------------------------- CTX102

_HTTP_VERBS = ("get", "options", "head", "post", "put", "patch", "delete", "request")


def _table() -> dict[str, Signature]:
    """Network APIs that take ``timeout``: callee -> where (keyword only: index None)."""
    out: dict[str, Signature] = {}

    def add(names: list[str], index: int | None) -> None:
        for n in names:
            out[n] = Signature("function", (("timeout", index, True),))

    verbs = list(_HTTP_VERBS)
    add([f"requests.{v}" for v in verbs] + [f"requests.api.{v}" for v in verbs], None)
    for session in ("requests.Session()", "requests.session()", "requests.sessions.Session()"):
        add([f"{session}.{v}" for v in verbs], None)
    add([f"httpx.{v}" for v in (*verbs, "stream")] + ["httpx.Client", "httpx.AsyncClient"], None)
    for client in ("httpx.Client()", "httpx.AsyncClient()"):
        add([f"{client}.{v}" for v in (*verbs, "stream")], None)
    add([f"aiohttp.ClientSession().{v}" for v in (*verbs, "ws_connect")], None)
    add(["urllib3.request", "urllib3.PoolManager().request", "urllib3.PoolManager().urlopen", "urllib3.PoolManager().request_encode_body"], None)
    add(["urllib.request.urlopen"], 2)
    add(["socket.create_connection"], 1)
    add(["http.client.HTTPConnection", "http.client.HTTPSConnection"], 2)
    add(["smtplib.SMTP", "smtplib.SMTP_SSL"], 3)
    add(["ftplib.FTP"], 4)
    add(["imaplib.IMAP4"], 2)
    add(["poplib.POP3"], 2)
    add(["asyncio.wait_for"], 1)
    return out


NETWORK = _table()
_STUB_SIGNATURE = Signature("function", (("timeout", 1, True),))


@dataclass
class _Caller:
    name: str
    params: frozenset[str]  # watched parameters the function takes
    self_name: str | None  # first parameter of a method
    class_name: str | None  # qualified name of the class inside the module
    suppressed: dict[str, int] = field(default_factory=dict)  # inside `if <param> is None:`
    cleanup: int = 0  # inside `except`/`finally`: clean-up after the budget ran out
    stored: set[str] = field(default_factory=set)  # `self.x = <param>`: the instance carries it
    pending: list[tuple[cst.Call, str, str, bool]] = field(default_factory=list)


class TimeoutNotPropagated(Visitor):
    """CTX102: a function given a timeout/deadline/context that does not pass it on."""

    TRIGGERS = ()
    # a `def` that takes a watched parameter: the caller, and any callee in the same file (the
    # header may span lines and hold calls in its defaults, one level of parentheses)
    TRIGGER_REGEX = r"def[ \t]+\w+[ \t]*\((?:[^()]*\([^()]*\))*[^()]*?\b(?:timeout|deadline|context|ctx)\b"
    # findings lie in functions whose header holds the trigger, and same-file callees have one
    # too (so the analyzer may drop the file's other definitions)
    LOCAL = True
    NEEDS_INDEX = True

    def __init__(self, rule: Rule, context: Context) -> None:
        super().__init__(rule, context)
        # ("class", qualified name) | ("func", caller or None) | ("lambda", None)
        self._stack: list[tuple[str, Any]] = []
        self._functions: dict[str, Signature] = {}  # this module: `f` / `Class.m`
        self._classes: set[str] = set()
        self._module = ""
        self._package = False
        self._suites: dict[int, tuple[_Caller, str]] = {}
        self._rest: dict[int, tuple[_Caller, str]] = {}
        self._blocks: list[list[tuple[_Caller, str]]] = []  # suppressions to undo when a block ends
        self._chained: dict[int, set[str]] = {}  # constructor calls whose method call gets the parameter

    # ---- this module's own signatures (the text being analysed, fresher than any index)
    def visit_Module(self, node: cst.Module) -> None:
        index = self.context.index
        path = self.context.path.replace("\\", "/")
        self._module = index.module_of(path) if index is not None else dotted_path(path)
        self._package = path.endswith("__init__.py")

        def collect(body: Any, prefix: str, in_class: bool) -> None:
            for stmt in _statements(body):
                if isinstance(stmt, cst.FunctionDef):
                    sig = cst_signature(stmt, in_class)
                    if sig is not None:
                        self._functions[prefix + stmt.name.value] = sig
                elif isinstance(stmt, cst.ClassDef) and isinstance(stmt.body, cst.IndentedBlock):
                    self._classes.add(prefix + stmt.name.value)
                    collect(stmt.body.body, f"{prefix}{stmt.name.value}.", True)

        collect(node.body, "", False)

    def _caller(self) -> _Caller | None:
        if self._stack and self._stack[-1][0] == "func":
            return self._stack[-1][1]
        return None

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        outer = self._stack[-1] if self._stack else None
        prefix = f"{outer[1]}." if outer is not None and outer[0] == "class" else ""
        # a class inside a function is not reachable by name from the module
        name = prefix + node.name.value if outer is None or outer[0] == "class" else None
        self._stack.append(("class", name))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        # a `context`/`ctx` with a default (`context=None`: "the ambient one") is optional by
        # design; one the function must be given is the request's, and must travel
        params = frozenset(
            p.name.value
            for p in _param_names(node.params)
            if p.name.value in ("timeout", "deadline") or (p.name.value in WATCHED and p.default is None)
        )
        caller = None
        if params:
            outer = self._stack[-1] if self._stack else None
            self_name = class_name = None
            if outer is not None and outer[0] == "class" and not _is_static(node):
                positional = [*node.params.posonly_params, *node.params.params]
                if positional and positional[0].name.value not in WATCHED:
                    self_name = positional[0].name.value
                    class_name = outer[1]
            caller = _Caller(node.name.value, params, self_name, class_name)
        self._stack.append(("func", caller))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        _, caller = self._stack.pop()
        if caller is None:
            return
        for call, param, callee, via_self in caller.pending:
            if via_self and param in caller.stored:
                continue
            self.report(call, function=caller.name, param=param, callee=callee)

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._stack.append(("lambda", None))

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._stack.pop()

    # ---- `if timeout is None: f()` passes nothing on purpose
    def visit_If(self, node: cst.If) -> None:
        caller = self._caller()
        if caller is None:
            return
        param, negated = _none_test(node.test, caller.params)
        if param is None:
            return
        if not negated:
            self._suites[id(node.body)] = (caller, param)
        elif isinstance(node.orelse, cst.Else):
            self._suites[id(node.orelse.body)] = (caller, param)
        elif node.orelse is None and _ends_flow(node.body):
            # `if timeout is not None: return f(x, timeout)` then `return f(x)`: the rest of the
            # block is the None branch
            self._rest[id(node)] = (caller, param)

    def leave_If(self, original_node: cst.If) -> None:
        hit = self._rest.pop(id(original_node), None)
        if hit is not None and self._blocks:
            caller, param = hit
            caller.suppressed[param] = caller.suppressed.get(param, 0) + 1
            self._blocks[-1].append(hit)

    def _enter_suite(self, node: cst.BaseSuite) -> None:
        hit = self._suites.get(id(node))
        if hit is not None:
            caller, param = hit
            caller.suppressed[param] = caller.suppressed.get(param, 0) + 1

    def _leave_suite(self, node: cst.BaseSuite) -> None:
        hit = self._suites.pop(id(node), None)
        if hit is not None:
            caller, param = hit
            caller.suppressed[param] -= 1

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._blocks.append([])
        self._enter_suite(node)

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock) -> None:
        self._leave_suite(original_node)
        for caller, param in self._blocks.pop():
            caller.suppressed[param] -= 1

    def _enter_cleanup(self, node: cst.CSTNode) -> None:
        caller = self._caller()
        if caller is not None:
            caller.cleanup += 1

    def _leave_cleanup(self, node: cst.CSTNode) -> None:
        caller = self._caller()
        if caller is not None:
            caller.cleanup -= 1

    # (libcst finds hooks by their __name__: aliases of one function would not be seen)
    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._enter_cleanup(node)

    def leave_ExceptHandler(self, original_node: cst.ExceptHandler) -> None:
        self._leave_cleanup(original_node)

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        self._enter_cleanup(node)

    def leave_ExceptStarHandler(self, original_node: cst.ExceptStarHandler) -> None:
        self._leave_cleanup(original_node)

    def visit_Finally(self, node: cst.Finally) -> None:
        self._enter_cleanup(node)

    def leave_Finally(self, original_node: cst.Finally) -> None:
        self._leave_cleanup(original_node)

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> None:
        self._enter_suite(node)

    def leave_SimpleStatementSuite(self, original_node: cst.SimpleStatementSuite) -> None:
        self._leave_suite(original_node)

    # ---- `self.timeout = timeout`: methods read it from the instance
    def visit_Assign(self, node: cst.Assign) -> None:
        caller = self._caller()
        if caller is None or caller.self_name is None:
            return
        for target in node.targets:
            t = target.target
            if isinstance(t, cst.Attribute) and isinstance(t.value, cst.Name) and t.value.value == caller.self_name:
                for param in caller.params:
                    if _refs(node.value, {param}):
                        caller.stored.add(param)

    # ---- the calls
    def visit_Call(self, node: cst.Call) -> None:
        caller = self._caller()
        if caller is None or caller.cleanup:
            return
        if any(a.star == "**" for a in node.args):
            return  # `**kwargs` forwarding: the parameter may be in there
        func = node.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call):
            # `Request().open(url, timeout=timeout)`: the method given the bound overrides what
            # the object was built with
            given = {param for param in caller.params if any(_refs(a.value, {param}) for a in node.args)}
            if given:
                self._chained[id(func.value)] = given
        chained: AbstractSet[str] = self._chained.pop(id(node), frozenset())
        target = self._callee(node.func, caller)
        if target is None:
            return
        label, sig, bound, via_self = target
        for param in sorted(caller.params):
            if caller.suppressed.get(param) or param in chained or param in sig.bounded:
                continue  # (a callee with a finite default bounds itself)
            accepted = sig.accepts(param, bound=bound)
            if accepted is None:
                continue
            index, keyword = accepted
            if _passed(node, param, index, keyword) or _refs(node, {param}):
                continue
            caller.pending.append((node, param, label, via_self))
            return

    def _callee(self, func: cst.BaseExpression, caller: _Caller) -> tuple[str, Signature, bool, bool] | None:
        """(label, signature, bound, through self) of what a call reaches, or None."""
        resolver = self.context.resolver
        if isinstance(func, cst.Name):
            scope = _binding_scope(resolver, func.value)
            if scope is resolver.module_scope and resolver.module_scope.bindings.get(func.value) is None:
                name = func.value
                sig = self._functions.get(name)
                if sig is not None:
                    return name, sig, False, False
                init = self._functions.get(f"{name}.__init__") if name in self._classes else None
                if init is not None:
                    return name, init, True, False
                return None
            if scope is not None and scope is not resolver.module_scope:
                return None  # a local name (parameter, assignment): unknown
        elif isinstance(func, cst.Attribute):
            inner = func.value
            if caller.self_name is not None and isinstance(inner, cst.Name) and inner.value == caller.self_name:
                if caller.class_name is None:
                    return None
                sig = self._functions.get(f"{caller.class_name}.{func.attr.value}")
                if sig is None:
                    return None  # inherited or dynamic: unknown
                return f"{inner.value}.{func.attr.value}", sig, True, True
        else:
            return None
        qual = self.resolve(func)
        if not qual:
            return None
        label = self.context.code(func)
        sig = NETWORK.get(qual)
        if sig is not None:
            return label, sig, False, False
        if _STUB_METHOD.search(qual):
            return label, _STUB_SIGNATURE, False, False
        index = self.context.index
        if index is None:
            return None
        if qual.startswith("."):
            resolved = absolute(qual, self._module, self._package)
            if resolved is None:
                return None
            qual = resolved
        if "()" in qual:
            head, _, method = qual.rpartition("().")
            if not head or "(" in head or not method or "(" in method:
                return None
            found = index.lookup(f"{head}.{method}")
            return (label, found[1], True, False) if found is not None else None
        found = index.lookup(qual)
        if found is not None:
            inner_name, sig = found
            return label, sig, "." in inner_name and sig.kind == "classmethod", False
        found = index.lookup(f"{qual}.__init__")
        if found is not None:
            return label, found[1], True, False
        return None


def _binding_scope(resolver: Any, name: str) -> Any:
    """The scope whose binding ``name`` refers to (class scopes only when innermost), or None."""
    s = resolver.scope
    first = True
    while s is not None:
        if (first or s.kind != "class") and name in s.bindings:
            return s
        first = False
        s = s.parent
    return None


def _ends_flow(body: cst.BaseSuite) -> bool:
    """Does the block end in ``return``/``raise``/``continue``/``break``?"""
    if isinstance(body, cst.SimpleStatementSuite):
        last: Any = body.body[-1] if body.body else None
    elif isinstance(body, cst.IndentedBlock) and body.body and isinstance(body.body[-1], cst.SimpleStatementLine):
        line = body.body[-1]
        last = line.body[-1] if line.body else None
    else:
        return False
    return isinstance(last, (cst.Return, cst.Raise, cst.Continue, cst.Break))


def _none_test(test: cst.BaseExpression, params: frozenset[str]) -> tuple[str | None, bool]:
    """``p is None`` / ``not p`` -> (p, False); ``p is not None`` / ``p`` -> (p, True).

    ``p is None and ...`` also holds only when ``p`` is None: (p, False).
    """
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        for side in (test.left, test.right):
            param, negated = _none_test(side, params)
            if param is not None and not negated:
                return param, False
        return None, False
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.left, cst.Name):
        comp = test.comparisons[0]
        if isinstance(comp.comparator, cst.Name) and comp.comparator.value == "None" and test.left.value in params:
            if isinstance(comp.operator, cst.Is):
                return test.left.value, False
            if isinstance(comp.operator, cst.IsNot):
                return test.left.value, True
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not) and isinstance(test.expression, cst.Name):
        if test.expression.value in params:
            return test.expression.value, False
    if isinstance(test, cst.Name) and test.value in params:
        return test.value, True
    return None, False


def _passed(call: cst.Call, param: str, index: int | None, keyword: bool) -> bool:
    positional = 0
    for a in call.args:
        if a.star == "*":
            if index is not None:
                return True  # `*args` may fill the position
        elif a.keyword is None:
            positional += 1
        elif keyword and a.keyword.value == param:
            return True
    return index is not None and positional > index


# --------------------------------------------------------------------------- CTX103

_THREAD_HANDOFF = {
    # callee -> (keyword of the callable, its position)
    "threading.Thread": ("target", 1),
    "threading.Timer": ("function", 1),
    "concurrent.futures.ThreadPoolExecutor().submit": ("fn", 0),
    "concurrent.futures.ThreadPoolExecutor().map": ("fn", 0),
    "concurrent.futures.thread.ThreadPoolExecutor().submit": ("fn", 0),
    "concurrent.futures.thread.ThreadPoolExecutor().map": ("fn", 0),
}
_THREADS = frozenset({"threading.Thread", "threading.Timer"})
_CONTEXT_MODULES = ("contextvars", "opentelemetry.context", "opentelemetry.trace", "opentelemetry.baggage")
_COPYING = frozenset({"contextvars.copy_context", "contextvars.copy_context().run", "contextvars.Context().run", "contextvars.Context.run"})
_CONTEXT_VAR = "contextvars.ContextVar()"  # what the resolver calls a name bound to `ContextVar(...)`
# OpenTelemetry calls that read the current context: the active span, baggage, the parent of a
# new span, the headers injected into an outgoing request
_OTEL_READS = frozenset(
    {
        "opentelemetry.context.get_current",
        "opentelemetry.context.get_value",
        "opentelemetry.trace.get_current_span",
        "opentelemetry.baggage.get_baggage",
        "opentelemetry.baggage.get_all",
        "opentelemetry.propagate.inject",
    }
)
_OTEL_SPAN_STARTS = (".start_as_current_span", ".start_span")
_OTEL_ATTACH = frozenset({"opentelemetry.context.attach"})
# functions that run once per object or per process, not once per request: a thread or pool task
# they start is a background worker, and its not inheriting a request's context is intended
_LIFECYCLE = frozenset(
    {
        "__init__", "__post_init__", "__new__", "__enter__", "__aenter__",
        "start", "_start", "startup", "setup", "setUp", "run", "serve", "serve_forever", "main",
    }
)  # fmt: skip
_CLOSURE_LIMIT = 64  # same-module functions followed from one worker


def _module_name(node: cst.BaseExpression | None) -> str:
    return dotted(node) or ""


def _is_true(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


def _runs_in_context(receiver: cst.BaseExpression) -> bool:
    """``ctx.run`` / ``self._context.run``: a receiver named like a ``contextvars.Context``."""
    name = _last(receiver).lower()
    return "ctx" in name or "context" in name


@dataclass
class _Work:
    """What a function (or a lambda handed to a thread) does with the context in its own body."""

    name: str
    reads: dict[str, str] = field(default_factory=dict)  # ContextVar (its code) -> the read
    otel: str | None = None  # the first OpenTelemetry call that reads the current context
    sets: set[str] = field(default_factory=set)  # ContextVars it sets itself
    enters: bool = False  # runs in a context it is given (`ctx.run`, `opentelemetry.context.attach`)
    loops: bool = False  # a `while` loop: a long-lived worker (poller, consumer, flusher)
    calls: list[str] = field(default_factory=list)  # keys of the functions it calls
    daemons: set[str] = field(default_factory=set)  # `t.daemon = True` / `t.setDaemon(True)`: code of `t`


@dataclass
class _Handoff:
    node: cst.Call
    callee: str
    target: str
    where: tuple[int, int]
    key: str | None  # the function handed over (see `_Scopes`), or None for a lambda,
    work: _Work | None  # whose own body is summarised here


class ThreadLosesContext(Visitor):
    """CTX103: work handed to another thread per call, whose callable reads the caller's context."""

    TRIGGERS = ()
    # the module uses context variables (or OpenTelemetry), then hands work to a thread
    TRIGGER_REGEX = r"(?:contextvars|ContextVar|opentelemetry)(?s:.*?)(?:Thread|Timer|submit|\.map\(|run_in_executor)"

    def __init__(self, rule: Rule, context: Context) -> None:
        super().__init__(rule, context)
        self._copied: set[str] = set()  # names bound to a callable that runs in a copied context
        self._uses = False
        self._instrumented = False  # opentelemetry's threading instrumentation copies the context
        self._scopes = _Scopes(context)
        self._defs: dict[str, _Work] = {}
        self._ambiguous: set[str] = set()  # keys defined twice: not followed
        self._assigned: dict[int, list[str]] = {}  # id(call) -> code of what its value is bound to
        self._handoffs: list[_Handoff] = []

    def _note_module(self, name: str) -> None:
        if name.startswith("opentelemetry.instrumentation.threading"):
            self._instrumented = True
        elif any(name == m or name.startswith(m + ".") for m in _CONTEXT_MODULES):
            self._uses = True

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            self._note_module(_module_name(alias.name))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None:
            return
        base = _module_name(node.module)
        self._note_module(base)
        if base == "opentelemetry" and not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                self._note_module(f"opentelemetry.{_module_name(alias.name)}")

    # ---- where each function is, and what it does with the context
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._scopes.enter(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._scopes.leave()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        frame = self._scopes.enter(node)
        frame.data = work = _Work(frame.name)
        if frame.key in self._defs:
            self._ambiguous.add(frame.key)
        self._defs[frame.key] = work
        self._summarize(node.body, work)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._scopes.leave()

    def _summarize(self, body: cst.CSTNode, work: _Work) -> None:
        for n in _walk(body):
            if isinstance(n, cst.While):
                work.loops = True
            elif isinstance(n, cst.Assign):
                for t in n.targets:
                    if isinstance(t.target, cst.Attribute) and t.target.attr.value == "daemon" and _is_true(n.value):
                        work.daemons.add(self.context.code(t.target.value))
            elif isinstance(n, cst.Call):
                self._note_call(n, work)

    def _note_call(self, node: cst.Call, work: _Work) -> None:
        func = node.func
        if not isinstance(func, (cst.Name, cst.Attribute)):
            return
        if isinstance(func, cst.Attribute):
            attr = func.attr.value
            if attr in ("get", "set", "reset") and self.resolve(func.value) == _CONTEXT_VAR:
                var = self.context.code(func.value)
                if attr == "get":
                    work.reads.setdefault(var, f"{var}.get()")
                else:
                    work.sets.add(var)
                return
            if attr == "setDaemon" and node.args and _is_true(node.args[0].value):
                work.daemons.add(self.context.code(func.value))
                return
            if attr == "run" and (self.resolve(func) in _COPYING or _runs_in_context(func.value)):
                work.enters = True
                return
        qual = self.resolve(func)
        if qual in _OTEL_ATTACH:
            work.enters = True
        elif qual is not None and (qual in _OTEL_READS or (qual.startswith("opentelemetry.") and qual.endswith(_OTEL_SPAN_STARTS))):
            if work.otel is None:
                work.otel = f"{self.context.code(func)}()"
        else:
            key = self._scopes.key_of(func)
            if key is not None:
                work.calls.append(key)

    # ---- hand-offs
    def visit_Assign(self, node: cst.Assign) -> None:
        # `call = functools.partial(ctx.run, fn)`, then `run_in_executor(None, call)`
        if isinstance(node.value, (cst.Call, cst.Attribute, cst.Lambda)) and self._copies(node.value):
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self._copied.add(target.target.value)
        if isinstance(node.value, cst.Call):  # `self._thread = threading.Thread(...)`
            self._assigned[id(node.value)] = [self.context.code(t.target) for t in node.targets]

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.value, cst.Call):
            self._assigned[id(node.value)] = [self.context.code(node.target)]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, (cst.Name, cst.Attribute)):
            return
        qual = None
        if isinstance(func, cst.Attribute) and func.attr.value == "run_in_executor":
            keyword, position = "func", 1
        else:
            qual = self.resolve(func)
            spec = _THREAD_HANDOFF.get(qual or "")
            if spec is None:
                return
            keyword, position = spec
            if qual in _THREADS:
                status, _ = find_arg(node, "context", None)
                if status != "missing":
                    return  # Python 3.14: the thread runs in the context it is given
        status, value = find_arg(node, keyword, position)
        if status != "present" or value is None or self._copies(value):
            return
        frame = self._scopes.function()
        if frame is None or frame.name in _LIFECYCLE:
            return  # at import, in a class body, or once per object: not per call
        if qual in _THREADS and self._background(node, frame):
            return
        key = None
        work = None
        if isinstance(value, cst.Lambda):
            work = _Work("lambda")
            self._summarize(value.body, work)
        else:
            ref: cst.BaseExpression | None = value
            if isinstance(value, cst.Call):  # functools.partial(fn, ...): `_copies` let no other call through
                first = value.args[0] if value.args else None
                ref = first.value if first is not None and first.keyword is None and not first.star else None
            key = self._scopes.key_of(ref)
            if key is None:
                return  # defined elsewhere: what it reads is not known
        self._handoffs.append(_Handoff(node, self.context.code(func), self.context.code(value), self.context.where, key, work))

    def _background(self, node: cst.Call, frame: _Def) -> bool:
        """A daemon thread, or one the instance keeps: a long-lived worker, not per-call work."""
        status, daemon = find_arg(node, "daemon", None)
        if status == "present" and _is_true(daemon):
            return True
        for bound in self._assigned.get(id(node), ()):
            if bound in frame.data.daemons:
                return True
            if frame.self_name and bound.startswith(frame.self_name + "."):
                return True
        return False

    def _copies(self, value: cst.BaseExpression) -> bool:
        """Does the callable run in a copied context (``ctx.run``), or may it (a wrapper call)?"""
        if isinstance(value, cst.Name) and value.value in self._copied:
            return True
        for n in _walk(value) if not isinstance(value, cst.Lambda) else _walk(value.body):
            if isinstance(n, (cst.Name, cst.Attribute)):
                qual = self.resolve(n)
                if qual in _COPYING:
                    return True
                if isinstance(n, cst.Attribute) and n.attr.value == "run" and _runs_in_context(n.value):
                    return True
        if isinstance(value, cst.Call):
            qual = self.resolve(value.func) if isinstance(value.func, (cst.Name, cst.Attribute)) else None
            # functools.partial(fn, ...) runs fn as it is; any other call builds the callable: a
            # wrapper that may well copy the context
            return qual not in ("functools.partial",)
        return False

    # ---- what the worker needs from the caller's context
    def _find(self, key: str | None) -> _Work | None:
        return None if key is None or key in self._ambiguous else self._defs.get(key)

    def _needs(self, work: _Work) -> str | None:
        """What the worker reads from the caller's context and would miss (for the message)."""
        if work.enters or work.loops:
            return None  # it runs in a context it is given, or it is a long-lived loop
        if work.name == "lambda" and any((callee := self._find(key)) is not None and callee.loops for key in work.calls):
            return None  # `lambda: self._poll()`
        seen: list[_Work] = [work]
        queue = [work]
        while queue and len(seen) < _CLOSURE_LIMIT:
            for key in queue.pop(0).calls:
                callee = self._find(key)
                if callee is not None and all(callee is not s for s in seen):
                    seen.append(callee)
                    queue.append(callee)
        sets = {var for w in seen for var in w.sets}
        for w in seen:
            for var, read in w.reads.items():
                if var not in sets:
                    return f"`{read}` in `{w.name}` does not see the caller's value there: it returns the default (or raises `LookupError` without one)"
        for w in seen:
            if w.otel is not None:
                return f"`{w.otel}` in `{w.name}` sees an empty OpenTelemetry context there (no current span or baggage; a new span starts a new trace)"
        return None

    def leave_Module(self, original_node: cst.Module) -> None:
        if not self._uses or self._instrumented:
            return
        for h in self._handoffs:
            work = h.work if h.work is not None else self._find(h.key)
            needs = self._needs(work) if work is not None else None
            if needs is not None:
                self.report(h.node, at=h.where, callee=h.callee, target=h.target, consequence=needs)


# --------------------------------------------------------------------------- CTX104

_TASK_FACTORIES = frozenset(
    {
        "asyncio.create_task",
        "asyncio.ensure_future",
        "asyncio.tasks.create_task",
        "asyncio.tasks.ensure_future",
        "asyncio.get_event_loop().create_task",
        "asyncio.get_running_loop().create_task",
        "asyncio.new_event_loop().create_task",
        "asyncio.events.get_event_loop().create_task",
        "asyncio.events.get_running_loop().create_task",
        "asyncio.events.new_event_loop().create_task",
    }
)


class TaskResultDiscarded(Visitor):
    """CTX104: the task ``create_task``/``ensure_future`` returns is thrown away."""

    TRIGGERS = ()
    # the call (`_` first: a single-literal prefix keeps the search fast)
    TRIGGER_REGEX = r"_(?:task(?<=create_task)|future(?<=ensure_future))[ \t]*\("
    LOCAL = True

    def visit_Expr(self, node: cst.Expr) -> None:
        call = node.value
        if not isinstance(call, cst.Call) or not isinstance(call.func, (cst.Name, cst.Attribute)):
            return
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value not in ("create_task", "ensure_future"):
            return  # a Name may be an alias (`from asyncio import create_task as spawn`)
        qual = self.resolve(func)
        if qual in _TASK_FACTORIES:
            pass
        elif isinstance(func, cst.Attribute) and func.attr.value == "create_task":
            # a loop the resolver cannot type (a parameter, `self.loop`): trust the name, never a
            # TaskGroup (it keeps its tasks)
            if qual is not None and "TaskGroup" in qual:
                return
            if "loop" not in _last(func.value).lower():
                return
        else:
            return
        self.report(call, callee=self.context.code(func))


# --------------------------------------------------------------------------- CTX105

_CANCELLED = frozenset({"asyncio.CancelledError", "asyncio.exceptions.CancelledError"})
_TASK_STARTERS = frozenset({"create_task", "ensure_future"})

# what a swallowed cancellation leads to, by where control goes when the handler completes
_OUTCOMES = {
    "end": "the cancellation is swallowed and the coroutine returns normally, so the canceller and whoever awaits it see a normal return",
    "stop": "the cancellation is swallowed and the generator stops, so the caller's `async for` ends normally instead of being cancelled",
    "loop": "the cancellation is swallowed and the loop goes on, so the task keeps running after it was cancelled",
    "more": "the cancellation is swallowed and the code after the `try` runs on, so the task keeps running after it was cancelled",
}


def _suite(body: cst.BaseSuite | None) -> list[cst.BaseStatement]:
    return list(body.body) if isinstance(body, cst.IndentedBlock) else []


def _next(rest: list[cst.BaseStatement], after: str, in_loop: bool) -> str:
    """Where control goes through the statements ``rest`` and then ``after``: "end" (the function
    returns), "raise", "loop" (the next iteration of a loop) or "more" (other code runs)."""
    for stmt in rest:
        if isinstance(stmt, cst.SimpleStatementLine):
            small = [s for s in stmt.body if not isinstance(s, cst.Pass)]
            if not small:
                continue
            if isinstance(small[0], cst.Return):
                return "end"
            if isinstance(small[0], cst.Raise):
                return "raise"
        return "loop" if in_loop else "more"
    return after


def _flow(stmts: list[cst.BaseStatement], after: str, broken: str | None, in_loop: bool, out: dict[int, tuple[str, str | None]]) -> None:
    """For every ``try`` among ``stmts`` (not in nested scopes): where control goes when it
    completes normally, and where a ``break`` in it goes (None: not in a loop)."""
    for i, stmt in enumerate(stmts):
        nxt = _next(stmts[i + 1 :], after, in_loop)
        if isinstance(stmt, (cst.Try, cst.TryStar)):
            out[id(stmt)] = (nxt, broken)
            _flow(_suite(stmt.body), nxt if stmt.orelse is None else ("loop" if in_loop else "more"), broken, in_loop, out)
            for handler in stmt.handlers:
                _flow(_suite(handler.body), nxt, broken, in_loop, out)
            for extra in (stmt.orelse, stmt.finalbody):
                if extra is not None:
                    _flow(_suite(extra.body), nxt, broken, in_loop, out)
        elif isinstance(stmt, (cst.For, cst.While)):
            _flow(_suite(stmt.body), "loop", nxt, True, out)
            if stmt.orelse is not None:
                _flow(_suite(stmt.orelse.body), nxt, broken, in_loop, out)
        elif isinstance(stmt, cst.If):
            _flow(_suite(stmt.body), nxt, broken, in_loop, out)
            if isinstance(stmt.orelse, cst.If):
                _flow([stmt.orelse], nxt, broken, in_loop, out)
            elif stmt.orelse is not None:
                _flow(_suite(stmt.orelse.body), nxt, broken, in_loop, out)
        elif isinstance(stmt, cst.With):
            _flow(_suite(stmt.body), nxt, broken, in_loop, out)
        elif isinstance(stmt, cst.Match):
            for case in stmt.cases:
                _flow(_suite(case.body), nxt, broken, in_loop, out)


def _handler_goes(handler: cst.ExceptHandler | cst.ExceptStarHandler, after: str, broken: str | None) -> str:
    """Where control goes when ``handler`` completes (its last statement, else what follows the try)."""
    body = handler.body
    last: cst.CSTNode | None = None
    if isinstance(body, cst.IndentedBlock) and body.body:
        stmt = body.body[-1]
        if isinstance(stmt, cst.SimpleStatementLine):
            last = stmt.body[-1]
    elif isinstance(body, cst.SimpleStatementSuite) and body.body:
        last = body.body[-1]
    if isinstance(last, cst.Return):
        return "end"
    if isinstance(last, cst.Break):
        return broken or "more"
    if isinstance(last, cst.Continue):
        return "loop"
    return after


def _held(expr: cst.BaseExpression) -> bool:
    """``self._task``, ``tasks[i]``, ``workflow.pending_task``: a task or future an object or a
    collection holds, which other code can cancel (unlike a call, a local future, or a parameter,
    which may be a coroutine run in this very task)."""
    while isinstance(expr, (cst.Attribute, cst.Subscript)):
        expr = expr.value
        if isinstance(expr, cst.Name):
            return True
    return False


@dataclass
class _AsyncFrame:
    name: str
    key: str  # see `_Scopes`
    is_async: bool
    body: cst.BaseSuite | None = None  # of an `async def`: read by `generator`, when a handler needs it
    _generator: bool | None = None
    flow: dict[int, tuple[str, str | None]] = field(default_factory=dict)  # see `_flow`
    coroutines: dict[str, str] = field(default_factory=dict)  # `coro = self._serve(...)`: name -> key
    cancels: bool = False  # cancels something itself (`.cancel` lexically before the try)
    raises_cancelled: bool = False  # raises CancelledError itself somewhere
    raised: set[str] = field(default_factory=set)  # names read by `raise <expr>` statements
    # (report node, how it catches, names the handler binds: the caught one and its assignments,
    # where control goes after it, where the walk was)
    pending: list[tuple[cst.CSTNode, str, frozenset[str], str, tuple[int, int]]] = field(default_factory=list)

    @property
    def generator(self) -> bool:
        """An async generator: returning ends its caller's `async for` (walked on first use)."""
        if self._generator is None:
            self._generator = self.body is not None and any(isinstance(n, cst.Yield) for n in _walk(self.body))
        return self._generator


class CancellationSwallowed(Visitor):
    """CTX105: an ``except`` in an ``async def`` that catches cancellation and never re-raises."""

    TRIGGERS = ()
    # an `async def`, and after it a handler that can catch cancellation
    # both somewhere in the file, each found by one linear scan (an `async def` followed by the
    # handler would rescan the rest of the file from every `async def`)
    TRIGGER_REGEX = r"\A(?=(?s:.*?)async[ \t]+def\b)(?=(?s:.*?)(?:CancelledError|BaseException|\bexcept[ \t]*:))"
    # definitions that hold findings, and those the module-wide evidence comes from: the tasks the
    # module starts and cancels itself
    CHUNK_REGEX = (r"async[ \t]+def\b(?s:.*?)(?:CancelledError|BaseException|\bexcept[ \t]*:)", r"create_task", r"ensure_future", r"\.cancel\b")
    LOCAL = True

    def __init__(self, rule: Rule, context: Context) -> None:
        super().__init__(rule, context)
        self._stack: list[_AsyncFrame | None] = []
        self._scopes = _Scopes(context)
        self._started: set[str] = set()  # coroutine functions this module starts as tasks (their keys)
        self._cancels = False  # this module cancels tasks
        self._pending: list[tuple[str, str, cst.CSTNode, str, str, tuple[int, int]]] = []

    def _frame(self) -> _AsyncFrame | None:
        return self._stack[-1] if self._stack else None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        frame = _AsyncFrame(node.name.value, self._scopes.enter(node).key, node.asynchronous is not None)
        if frame.is_async:
            frame.body = node.body
            _flow(_suite(node.body), "end", None, False, frame.flow)
        self._stack.append(frame)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._scopes.leave()
        frame = self._stack.pop()
        if frame is None or frame.raises_cancelled:
            return
        for node, what, names, goes, where in frame.pending:
            if names & frame.raised:
                continue  # the caught exception is kept and raised later (`raise exc_details[1]`)
            self._pending.append((frame.key, frame.name, node, what, goes, where))

    def leave_Module(self, original_node: cst.Module) -> None:
        for key, function, node, what, goes, where in self._pending:
            if goes != "loop" and key in self._started and self._cancels:
                # the module starts this coroutine as a task and cancels tasks itself: it owns the
                # cancellation, and a handler that ends the task is how it says what cancelling means
                continue
            self.report(node, at=where, handler=what, function=function, consequence=_OUTCOMES[goes])

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._stack.append(None)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._stack.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._scopes.enter(node)
        self._stack.append(None)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._scopes.leave()
        self._stack.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        frame = self._frame()
        if frame is not None and isinstance(node.value, cst.Call) and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            key = self._scopes.key_of(node.value.func)
            if key is not None:
                frame.coroutines[node.targets[0].target.value] = key

    def visit_Call(self, node: cst.Call) -> None:
        # `asyncio.create_task(self._run())`, `loop.create_task(worker())`, `coro = self._serve();
        # self.create_task(coro)`: a task this module starts
        if _last(node.func) not in _TASK_STARTERS or not node.args:
            return
        arg = node.args[0].value
        started = None
        if isinstance(arg, cst.Call):
            started = self._scopes.key_of(arg.func)
        elif isinstance(arg, cst.Name) and (frame := self._frame()) is not None:
            started = frame.coroutines.get(arg.value)
        if started is not None:
            self._started.add(started)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        # `task.cancel()`, `loop.call_soon(task.cancel)`: this function cancels something itself
        if node.attr.value == "cancel":
            self._cancels = True
            frame = self._frame()
            if frame is not None:
                frame.cancels = True

    def visit_Raise(self, node: cst.Raise) -> None:
        frame = self._frame()
        if frame is None or node.exc is None:
            return
        frame.raised.update(n.value for n in _walk(node.exc) if isinstance(n, cst.Name))
        exc = node.exc.func if isinstance(node.exc, cst.Call) else node.exc
        if self._is_cancelled(exc):
            frame.raises_cancelled = True

    def _is_cancelled(self, expr: cst.BaseExpression) -> bool:
        if not isinstance(expr, (cst.Name, cst.Attribute)):
            return False
        qual = self.resolve(expr)
        return qual in _CANCELLED or (qual is None and _last(expr) == "CancelledError")

    def _catches(self, kind: cst.BaseExpression | None) -> str | None:
        """How the handler catches cancellation (for the message), or None."""
        if kind is None:
            return "bare `except:`"
        items = [e.value for e in kind.elements] if isinstance(kind, cst.Tuple) else [kind]
        for item in items:
            if self._is_cancelled(item):
                return f"`except {self.context.code(kind)}`"
            if isinstance(item, (cst.Name, cst.Attribute)) and self.resolve(item) in ("BaseException", "builtins.BaseException"):
                return f"`except {self.context.code(kind)}`"
        return None

    def visit_Try(self, node: cst.Try) -> None:
        self._check_try(node)

    def visit_TryStar(self, node: cst.TryStar) -> None:
        self._check_try(node)

    def _check_try(self, node: cst.Try | cst.TryStar) -> None:
        frame = self._frame()
        if frame is None or not frame.is_async:
            return
        awaits = False
        held = True  # every await is of a task or future held (`await self._task`)
        for n in _walk(node.body):
            if isinstance(n, cst.Await):
                awaits = True
                held = held and _held(n.expression)
            elif isinstance(n, (cst.For, cst.With, cst.CompFor)) and n.asynchronous is not None:
                awaits = True
                held = False
            elif isinstance(n, cst.Attribute) and n.attr.value == "cancel":
                frame.cancels = True
        if not awaits:
            return  # cancellation is delivered at an await: none in the body, nothing to catch
        if frame.cancels:
            return  # `task.cancel(); try: await task; except CancelledError: pass`: the documented idiom
        if held:
            return  # waits for a task an object holds: the CancelledError caught is that task's outcome
        after, broken = frame.flow.get(id(node), ("more", None))
        for handler in node.handlers:
            what = self._catches(handler.type)
            if what is None:
                continue
            # the first handler that catches cancellation is the only one that sees it
            caught = handler.name.name.value if handler.name is not None and isinstance(handler.name.name, cst.Name) else None
            names = {caught} if caught else set()
            kept = False
            for n in _walk(handler.body):
                if isinstance(n, cst.Raise):
                    kept = True  # re-raises (or raises): the task still stops
                    break
                if isinstance(n, cst.Assign):
                    names.update(t.target.value for t in n.targets if isinstance(t.target, cst.Name))
                elif isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute):
                    if n.func.attr.value == "uncancel":
                        kept = True  # `current_task().uncancel()`: the cancel request is withdrawn on purpose
                    elif caught and n.func.attr.value == "set_exception" and _refs(n, {caught}):
                        kept = True  # handed to a future: whoever awaits it gets the cancellation
            goes = _handler_goes(handler, after, broken)
            if not kept and goes != "raise":
                if goes == "end" and frame.generator:
                    goes = "stop"
                frame.pending.append((handler.type if handler.type is not None else handler, what, frozenset(names), goes, self.context.where))
            return
