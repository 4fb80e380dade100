"""Context and deadline propagation (pack ``context``, ``CTX1xx``): visitors of the Python analyzer.

- ``GrpcDeadlineDropped`` (CTX101): a stub call in a gRPC servicer method whose ``timeout`` does
  not derive from ``context.time_remaining()``.
- ``TimeoutNotPropagated`` (CTX102): a function given ``timeout``/``deadline``/``context``/``ctx``
  calls something that accepts the same parameter without passing it on; callees in other modules
  come from the project's signature index (``linter.index``), callees of the file itself from its
  own tree, network APIs from a small table.
- ``ThreadLosesContext`` (CTX103): work handed to a thread in a module that relies on
  ``contextvars`` (or OpenTelemetry context) without ``contextvars.copy_context().run``.
- ``TaskResultDiscarded`` (CTX104): ``asyncio.create_task``/``ensure_future`` as a bare statement.
- ``CancellationSwallowed`` (CTX105): an ``except`` in an ``async def`` that catches
  ``asyncio.CancelledError`` and can finish without raising.

Every visitor keeps its own small stack of enclosing scopes; calls inside a nested ``def``,
``lambda`` or class belong to that scope, not to the enclosing function. Nothing here raises on
odd input: a name that does not resolve, a dynamic attribute, ``*args``/``**kwargs`` or a
``functools.partial`` makes a rule stay silent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from ..index import _DEF_HEADER, _KEEPS_SIGNATURE, WATCHED, Signature, absolute, dotted_path
from ..python import Visitor, _dotted, find_arg

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
        stack.extend(c for c in n.children if not isinstance(c, _SCOPES))


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
            stack.extend(n.children)
    return False


def _param_names(params: cst.Parameters) -> list[cst.Param]:
    return [*params.posonly_params, *params.params, *params.kwonly_params]


def _is_static(node: cst.FunctionDef) -> bool:
    return any(_last(d.decorator) == "staticmethod" for d in node.decorators)


def cst_signature(node: cst.FunctionDef, in_class: bool) -> Signature | None:
    """``linter.index.signature_of`` for a libcst ``def`` (the file being analysed)."""
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
    for i, a in enumerate(positional):
        if a.name.value in WATCHED:
            out.append((a.name.value, i, i >= len(p.posonly_params)))
    for a in p.kwonly_params:
        if a.name.value in WATCHED:
            out.append((a.name.value, None, True))
    return Signature(kind, tuple(out)) if out else None


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

    def __init__(self, rule: Any, context: Any) -> None:
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
    # a `def` that takes a watched parameter: the caller, and any callee in the same file
    TRIGGER_REGEX = _DEF_HEADER.pattern.decode()
    # findings lie in functions whose header holds the trigger, and same-file callees have one
    # too (so the analyzer may drop the file's other definitions)
    LOCAL = True
    NEEDS_INDEX = True

    def __init__(self, rule: Any, context: Any) -> None:
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
        target = self._callee(node.func, caller)
        if target is None:
            return
        label, sig, bound, via_self = target
        for param in sorted(caller.params):
            if caller.suppressed.get(param):
                continue
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
_CONTEXT_MODULES = ("contextvars", "opentelemetry.context", "opentelemetry.trace", "opentelemetry.baggage")
_COPYING = frozenset({"contextvars.copy_context", "contextvars.copy_context().run", "contextvars.Context().run", "contextvars.Context.run"})


def _module_name(node: cst.BaseExpression | None) -> str:
    return _dotted(node) or ""


class ThreadLosesContext(Visitor):
    """CTX103: work handed to another thread without the caller's ``contextvars`` context."""

    TRIGGERS = ()
    # the module uses context variables (or OpenTelemetry), then hands work to a thread
    TRIGGER_REGEX = r"(?:contextvars|ContextVar|opentelemetry)(?s:.*?)(?:Thread|Timer|submit|\.map\(|run_in_executor)"

    def __init__(self, rule: Any, context: Any) -> None:
        super().__init__(rule, context)
        self._copied: set[str] = set()  # names bound to a callable that runs in a copied context
        self._uses = False
        self._instrumented = False  # opentelemetry's threading instrumentation copies the context
        self._candidates: list[tuple[cst.Call, str, str, tuple[int, int]]] = []

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

    def visit_Assign(self, node: cst.Assign) -> None:
        # `call = functools.partial(ctx.run, fn)`, then `run_in_executor(None, call)`
        if isinstance(node.value, (cst.Call, cst.Attribute, cst.Lambda)) and self._copies(node.value):
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self._copied.add(target.target.value)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, (cst.Name, cst.Attribute)):
            return
        if isinstance(func, cst.Attribute) and func.attr.value == "run_in_executor":
            keyword, position = "func", 1
            callee = self.context.code(func)
        else:
            qual = self.resolve(func)
            spec = _THREAD_HANDOFF.get(qual or "")
            if spec is None:
                return
            keyword, position = spec
            callee = self.context.code(func)
            if qual in ("threading.Thread", "threading.Timer"):
                status, _ = find_arg(node, "context", None)
                if status != "missing":
                    return  # Python 3.14: the thread runs in the context it is given
        status, value = find_arg(node, keyword, position)
        if status != "present" or value is None or self._copies(value):
            return
        self._candidates.append((node, callee, self.context.code(value), self.context.where))

    def _copies(self, value: cst.BaseExpression) -> bool:
        """Does the callable run in a copied context (``ctx.run``), or may it (a wrapper call)?"""
        if isinstance(value, cst.Name) and value.value in self._copied:
            return True
        for n in _walk(value) if not isinstance(value, cst.Lambda) else _walk(value.body):
            if isinstance(n, (cst.Name, cst.Attribute)):
                qual = self.resolve(n)
                if qual in _COPYING:
                    return True
                if isinstance(n, cst.Attribute) and n.attr.value == "run":
                    receiver = _last(n.value).lower()
                    if "ctx" in receiver or "context" in receiver:
                        return True
        if isinstance(value, cst.Call):
            qual = self.resolve(value.func) if isinstance(value.func, (cst.Name, cst.Attribute)) else None
            # functools.partial(fn, ...) runs fn as it is; any other call builds the callable: a
            # wrapper that may well copy the context
            return qual not in ("functools.partial",)
        return False

    def leave_Module(self, original_node: cst.Module) -> None:
        if not self._uses or self._instrumented:
            return
        for node, callee, target, where in self._candidates:
            self.report(node, at=where, callee=callee, target=target)


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


@dataclass
class _AsyncFrame:
    name: str
    is_async: bool
    cancels: bool = False  # cancels something itself (`.cancel` lexically before the try)
    raises_cancelled: bool = False  # raises CancelledError itself somewhere
    raised: set[str] = field(default_factory=set)  # names read by `raise <expr>` statements
    # (report node, how it catches, names the handler binds: the caught one and its assignments)
    pending: list[tuple[cst.CSTNode, str, frozenset[str]]] = field(default_factory=list)


class CancellationSwallowed(Visitor):
    """CTX105: an ``except`` in an ``async def`` that catches cancellation and never re-raises."""

    TRIGGERS = ()
    # an `async def`, and after it a handler that can catch cancellation
    TRIGGER_REGEX = r"async[ \t]+def\b(?s:.*?)(?:CancelledError|BaseException|\bexcept[ \t]*:)"
    LOCAL = True

    def __init__(self, rule: Any, context: Any) -> None:
        super().__init__(rule, context)
        self._stack: list[_AsyncFrame | None] = []

    def _frame(self) -> _AsyncFrame | None:
        return self._stack[-1] if self._stack else None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._stack.append(_AsyncFrame(node.name.value, node.asynchronous is not None))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        frame = self._stack.pop()
        if frame is None or frame.raises_cancelled:
            return
        for node, what, names in frame.pending:
            if names & frame.raised:
                continue  # the caught exception is kept and raised later (`raise exc_details[1]`)
            self.report(node, handler=what, function=frame.name)

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._stack.append(None)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._stack.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._stack.append(None)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._stack.pop()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        # `task.cancel()`, `loop.call_soon(task.cancel)`: this function cancels something itself
        if node.attr.value == "cancel":
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
        for n in _walk(node.body):
            if isinstance(n, cst.Await) or (isinstance(n, (cst.For, cst.With, cst.CompFor)) and n.asynchronous is not None):
                awaits = True
            elif isinstance(n, cst.Attribute) and n.attr.value == "cancel":
                frame.cancels = True
        if not awaits:
            return  # cancellation is delivered at an await: none in the body, nothing to catch
        if frame.cancels:
            return  # `task.cancel(); try: await task; except CancelledError: pass`: the documented idiom
        for handler in node.handlers:
            what = self._catches(handler.type)
            if what is None:
                continue
            caught = handler.name.name.value if handler.name is not None and isinstance(handler.name.name, cst.Name) else None
            names = {caught} if caught else set()
            forwarded = False
            for n in _walk(handler.body):
                if isinstance(n, cst.Raise):
                    break  # re-raises (or raises): the task still stops
                if isinstance(n, cst.Assign):
                    names.update(t.target.value for t in n.targets if isinstance(t.target, cst.Name))
                elif (
                    caught
                    and isinstance(n, cst.Call)
                    and isinstance(n.func, cst.Attribute)
                    and n.func.attr.value == "set_exception"
                    and _refs(n, {caught})
                ):
                    forwarded = True  # handed to a future: whoever awaits it gets the cancellation
            else:
                if not forwarded:
                    frame.pending.append((handler.type if handler.type is not None else handler, what, frozenset(names)))
