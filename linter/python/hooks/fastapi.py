"""FastAPI checks the declarative vocabulary cannot say (FST1xx visitors).

An *endpoint* is a function decorated by a route decorator of a FastAPI application or router
(``@app.get("/items")``, ``@router.post("")``, ``@router.api_route(...)``, ``@app.websocket(...)``)
or registered with ``add_api_route``/``add_api_websocket_route``. The receiver is accepted when the
file's imports say it is a ``fastapi.FastAPI``/``fastapi.APIRouter`` (or a class named like one,
``PrefectRouter``), and when it is a name imported from another module or a parameter whose type the
file cannot see, provided the decorator's shape is a route's: a path string as first argument or
``path=``. A receiver the file shows to be something else (``flask.Flask()``) is never one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import libcst as cst

from linter.python import tree
from linter.core.model import Rule
from linter.python.visitor import Context, Scope, Visitor, expand_braces, literal

_ROUTE_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "trace", "api_route", "websocket"})
_ROUTE_ADDERS = frozenset({"add_api_route", "add_api_websocket_route"})
# the type of a receiver built in sight: a FastAPI application or router, or a subclass named like one
_APP_TYPE = re.compile(r"(?:^|\.)\w*(?:FastAPI|Router)\(\)$")
# receivers of these frameworks are never FastAPI's (several have `@app.get("/")` too)
_OTHER_FRAMEWORKS = frozenset({"flask", "quart", "sanic", "litestar", "starlette", "bottle", "aiohttp", "django", "ninja", "falcon", "tornado", "typer"})
_DEPENDS = frozenset({"Depends", "Security"})
_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)

_VERBS = "get,options,head,post,put,patch,delete,request"

# calls that block the calling thread on the network or the clock
_BLOCKING: frozenset[str] = frozenset(
    name
    for pattern in (
        f"requests.{{{_VERBS}}}",
        f"requests.api.{{{_VERBS}}}",
        f"requests.{{Session,session,sessions.Session}}().{{{_VERBS},send}}",
        "urllib.request.urlopen",
        f"httpx.{{{_VERBS},stream}}",
        f"httpx.Client().{{{_VERBS},send,stream}}",
        "urllib3.request",
        "urllib3.{PoolManager,poolmanager.PoolManager}().{request,urlopen}",
        "time.sleep",
    )
    for name in expand_braces(pattern)
)


def _walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The node and everything under it, not entering nested functions, lambdas or classes."""
    stack: list[cst.CSTNode] = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed([c for c in tree.children(n) if not isinstance(c, _SCOPES)]))


def _nested_defs(body: cst.CSTNode) -> dict[str, cst.FunctionDef]:
    """Functions defined directly in a body (at any depth of its blocks, not inside other defs)."""
    found: dict[str, cst.FunctionDef] = {}
    stack: list[cst.CSTNode] = [body]
    while stack:
        n = stack.pop()
        for c in tree.children(n):
            if isinstance(c, cst.FunctionDef):
                found[c.name.value] = c
            elif not isinstance(c, (cst.ClassDef, cst.Lambda)):
                stack.append(c)
    return found


def _path_given(call: cst.Call) -> bool:
    """A route decorator's shape: a string path first, or ``path=``."""
    for arg in call.args:
        if arg.star:
            return False
        if arg.keyword is None:
            ok, value = literal(arg.value)
            return (ok and isinstance(value, str)) or isinstance(arg.value, cst.FormattedString)
        if arg.keyword.value == "path":
            return True
    return False


class _Module:
    """What the whole module says: its top-level functions and the dependencies it declares."""

    def __init__(self, module: cst.Module) -> None:
        self.functions: dict[str, cst.FunctionDef] = {}
        for stmt in module.body:
            if isinstance(stmt, cst.FunctionDef):
                self.functions[stmt.name.value] = stmt
        self.dependencies: set[str] = set()  # names given to Depends(...)/Security(...)
        self.registered: set[str] = set()  # names given to add_api_route(path, fn)
        stack: list[cst.CSTNode] = [module]
        while stack:
            n = stack.pop()
            if isinstance(n, cst.Call):
                self._call(n)
            stack.extend(tree.children(n))

    def _call(self, call: cst.Call) -> None:
        func = call.func
        name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        if name in _DEPENDS:
            target = next((a.value for a in call.args if a.keyword is None and not a.star), None)
            target = target or next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "dependency"), None)
            if isinstance(target, cst.Name):
                self.dependencies.add(target.value)
        elif name in _ROUTE_ADDERS and isinstance(func, cst.Attribute):
            positional = [a.value for a in call.args if a.keyword is None and not a.star]
            endpoint = positional[1] if len(positional) > 1 else next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "endpoint"), None)
            if isinstance(endpoint, cst.Name) and _path_given(call):
                self.registered.add(endpoint.value)


class _FastAPIVisitor(Visitor):
    """Finds endpoints (and async dependencies, for FST101) and hands their bodies to ``check``."""

    WITH_DEPENDENCIES = False
    ASYNC_ONLY = False

    def __init__(self, rule: Rule, context: Context) -> None:
        super().__init__(rule, context)
        self._module: _Module | None = None
        self._depth = 0  # enclosing function definitions

    def visit_Module(self, node: cst.Module) -> None:
        self._module = _Module(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._depth += 1
        if self.ASYNC_ONLY and node.asynchronous is None:
            return
        resolver = self.context.resolver
        outer = resolver.stack[-2] if len(resolver.stack) > 1 else resolver.module_scope
        kind = self._kind(node, outer)
        if kind is not None:
            self.check(node, kind, resolver.scope)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._depth -= 1

    def _kind(self, node: cst.FunctionDef, outer: Scope) -> str | None:
        for dec in node.decorators:
            if self._is_route(dec.decorator, outer):
                return "websocket endpoint" if isinstance(dec.decorator, cst.Call) and isinstance(dec.decorator.func, cst.Attribute) and dec.decorator.func.attr.value == "websocket" else "endpoint"
        module = self._module
        if module is None:
            return None
        if node.name.value in module.registered:
            return "endpoint"
        if self._depth != 1 or module.functions.get(node.name.value) is not node:
            return None  # dependencies: top-level functions only
        if self.WITH_DEPENDENCIES and node.name.value in module.dependencies:
            return "dependency"
        return None

    def _is_route(self, expr: cst.BaseExpression, outer: Scope) -> bool:
        if not isinstance(expr, cst.Call) or not isinstance(expr.func, cst.Attribute):
            return False
        if expr.func.attr.value not in _ROUTE_VERBS:
            return False
        receiver = expr.func.value
        if not isinstance(receiver, (cst.Name, cst.Attribute)):
            return False
        qual = self.context.resolver.resolve(receiver, outer)
        if qual is not None and qual.lstrip(".").split(".")[0] in _OTHER_FRAMEWORKS:
            return False
        if qual is not None and _APP_TYPE.search(qual):
            return True  # a FastAPI app or router built in sight: its path may be a variable
        if qual is not None and qual.endswith("()"):
            # built by a call the file can name: a class that is no app or router (`Typer()`) is
            # not one; a factory function (`create_app()`, `get_router()`) may well be
            if not qual[:-2].rsplit(".", 1)[-1][:1].islower():
                return False
        return _path_given(expr)

    def check(self, node: cst.FunctionDef, kind: str, scope: Scope) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


# --------------------------------------------------------------------------- FST101


class BlockingCallInAsyncEndpoint(_FastAPIVisitor):
    """FST101: a call that blocks the thread (``requests``, sync ``httpx``, ``urlopen``,
    ``time.sleep``) made in an ``async def`` endpoint or async dependency, directly or through a
    sync function of the same module that the endpoint calls."""

    TRIGGERS = ()
    TRIGGER_REGEX = r"\A(?=(?s:.*?)\bfastapi\b)(?=(?s:.*?)\basync[ \t]+def\b)(?=(?s:.*?)\b(?:requests|httpx|urlopen|urllib3|sleep)\b)"
    WITH_DEPENDENCIES = True
    ASYNC_ONLY = True

    def check(self, node: cst.FunctionDef, kind: str, scope: Scope) -> None:
        resolver = self.context.resolver
        module = self._module
        nested = _nested_defs(node.body)
        for n in _walk(node.body):
            if not isinstance(n, cst.Call):
                continue
            blocking = self._blocking(n, scope)
            if blocking is not None:
                self.report(n, callee=self.context.code(n.func), qualname=blocking, kind=kind, function=node.name.value)
                continue
            # a sync function of this module (or one nested here) that the endpoint calls itself
            func = n.func
            if not isinstance(func, cst.Name):
                continue
            helper: cst.FunctionDef | None = nested.get(func.value)
            helper_scope: Scope | None = None
            if helper is not None:
                helper_scope = resolver.scope_for(helper, scope)
            elif module is not None and func.value in module.functions and func.value not in scope.bindings:
                helper = module.functions[func.value]
                helper_scope = resolver.scope_for(helper, resolver.module_scope)
            if helper is None or helper.asynchronous is not None or helper_scope is None or helper is node:
                continue
            inner = next((c for c in _walk(helper.body) if isinstance(c, cst.Call) and self._blocking(c, helper_scope)), None)
            if inner is not None:
                inner_code = self.context.code(inner.func)
                self.report(
                    n,
                    f"`{func.value}()` makes the blocking call `{inner_code}` on the event loop of {kind} `{node.name.value}` (`async def`): every other request on this worker waits until it returns",
                    callee=func.value,
                    qualname=self._blocking(inner, helper_scope) or "",
                    kind=kind,
                    function=node.name.value,
                )

    def _blocking(self, call: cst.Call, scope: Scope) -> str | None:
        func = call.func
        if not isinstance(func, (cst.Name, cst.Attribute, cst.Call)):
            return None
        qual = self.context.resolver.resolve(func, scope)
        if qual not in _BLOCKING:
            return None
        if qual == "time.sleep" and call.args:
            ok, value = literal(call.args[0].value)
            if ok and value == 0:
                return None  # `time.sleep(0)` yields the GIL and returns
        return qual


# --------------------------------------------------------------------------- FST102

_CLIENTS = frozenset({
    "httpx.AsyncClient",
    "httpx.Client",
    "httpx._client.AsyncClient",
    "httpx._client.Client",
    "aiohttp.ClientSession",
    "aiohttp.client.ClientSession",
})
# settings httpx fixes per client (not per request): computed in the endpoint, they may differ per request
_PER_CLIENT = frozenset({"cert", "verify", "proxy", "proxies", "mounts"})
_IN_PROCESS = re.compile(r"(?:^|\.)(?:ASGITransport|WSGITransport|MockTransport)$")


class ClientPerRequest(_FastAPIVisitor):
    """FST102: an HTTP client (its connection pool) built inside an endpoint and closed with it."""

    TRIGGERS = ()
    TRIGGER_REGEX = r"\A(?=(?s:.*?)\bfastapi\b)(?=(?s:.*?)\b(?:AsyncClient|Client|ClientSession)[ \t]*\()"

    def check(self, node: cst.FunctionDef, kind: str, scope: Scope) -> None:
        globals_: set[str] = set()
        for n in _walk(node.body):
            if isinstance(n, cst.Global):
                globals_.update(name.name.value for name in n.names)
        for n in _walk(node.body):
            calls: list[cst.BaseExpression] = []
            if isinstance(n, cst.WithItem):
                calls.append(n.item)
            elif isinstance(n, cst.Assign) and all(isinstance(t.target, cst.Name) and t.target.value not in globals_ for t in n.targets):
                calls.append(n.value)
            elif isinstance(n, cst.AnnAssign) and isinstance(n.target, cst.Name) and n.target.value not in globals_ and n.value is not None:
                calls.append(n.value)
            elif isinstance(n, cst.Attribute) and isinstance(n.value, cst.Call):
                calls.append(n.value)  # `await httpx.AsyncClient().get(url)`: built, used once, never closed
            for value in calls:
                if isinstance(value, cst.Await):
                    value = value.expression
                if not isinstance(value, cst.Call) or not isinstance(value.func, (cst.Name, cst.Attribute)):
                    continue
                qual = self.context.resolver.resolve(value.func, scope)
                if qual not in _CLIENTS or self._shared_pool(value, scope):
                    continue
                self.report(value, callee=self.context.code(value.func), qualname=qual, kind=kind, function=node.name.value)

    def _shared_pool(self, call: cst.Call, scope: Scope) -> bool:
        """An in-process transport (no sockets), a connector the session does not own, or TLS or
        proxy settings computed in the endpoint (a client per identity, not per request)."""
        for arg in call.args:
            if arg.keyword is None:
                continue
            key = arg.keyword.value
            if key == "app":
                return True
            if key == "transport" and isinstance(arg.value, cst.Call) and isinstance(arg.value.func, (cst.Name, cst.Attribute)):
                if _IN_PROCESS.search(self.context.resolver.resolve(arg.value.func, scope) or ""):
                    return True
            if key in _PER_CLIENT and not literal(arg.value)[0]:
                return True  # a certificate, proxy or CA chosen per request: one pool cannot serve them all
            if key == "connector_owner":
                ok, value = literal(arg.value)
                if ok and value is False:
                    return True
        return False


# --------------------------------------------------------------------------- FST103

# settings only a gunicorn configuration has (a module assigning `timeout` and one of these, or
# defining one of gunicorn's server hooks, is a gunicorn configuration file)
_GUNICORN_SETTINGS = frozenset({
    "bind", "worker_class", "wsgi_app", "graceful_timeout", "keepalive", "preload_app", "worker_connections",
    "max_requests", "max_requests_jitter", "worker_tmp_dir", "forwarded_allow_ips", "accesslog", "errorlog",
    "access_log_format", "proc_name", "limit_request_line", "limit_request_fields", "reuse_port",
})
_GUNICORN_HOOKS = frozenset({
    "on_starting", "on_reload", "when_ready", "pre_fork", "post_fork", "post_worker_init", "worker_int",
    "worker_abort", "pre_exec", "pre_request", "post_request", "child_exit", "worker_exit", "nworkers_changed", "on_exit",
})
_DISABLED = {
    "timeout": "gunicorn's worker timeout is disabled (`timeout = 0`): a worker that hangs -- a blocked event loop, a request waiting on a peer that never answers -- is never killed and replaced",
    "graceful_timeout": "`graceful_timeout = 0`: on every restart or shutdown gunicorn kills its workers at once, dropping the requests they are serving",
}
_CLI_TIMEOUT = re.compile(r"^(?:--timeout|--graceful-timeout)=0$")
_CLI_STRING = re.compile(r"\bgunicorn\b.*?(?:(?:--timeout|--graceful-timeout)[= ]|\s-t ?)0(?![\w.])")


def _zero(node: cst.BaseExpression | None, resolver: Any) -> bool:
    """A literal 0 (or "0"), or an environment lookup whose default is one (``int(os.getenv("T", 0))``)."""
    if node is None:
        return False
    ok, value = literal(node)
    if ok:
        return value in (0, "0") and not isinstance(value, bool)
    if isinstance(node, cst.Call) and isinstance(node.func, (cst.Name, cst.Attribute)):
        callee = resolver.resolve(node.func) or ""
        positional = [a.value for a in node.args if a.keyword is None and not a.star]
        if callee in ("int", "float") and len(positional) == 1:
            return _zero(positional[0], resolver)
        if callee in ("os.getenv", "os.environ.get") and len(positional) == 2:
            return _zero(positional[1], resolver)
    return False


def _assigned_in_blocks(module: cst.Module) -> set[str]:
    """Names assigned inside the module's compound statements (``if``/``try``/``with``)."""
    found: set[str] = set()
    stack: list[cst.CSTNode] = [s for s in module.body if isinstance(s, cst.BaseCompoundStatement) and not isinstance(s, (cst.FunctionDef, cst.ClassDef))]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.AssignTarget) and isinstance(n.target, cst.Name):
            found.add(n.target.value)
        stack.extend(c for c in tree.children(n) if not isinstance(c, _SCOPES))
    return found


class GunicornTimeoutDisabled(Visitor):
    """FST103: gunicorn's worker `timeout` (or `graceful_timeout`) set to 0 in a gunicorn
    configuration module, an options dict of a custom application, `cfg.set(...)`, or a command line."""

    TRIGGERS = ()
    # a module-level `timeout =`, a "timeout" key, `timeout=0` (a `dict(...)`), `cfg.set(`, or gunicorn named
    TRIGGER_REGEX = (r"^(?:graceful_)?timeout[ \t]*=", r"[\"'](?:graceful_)?timeout[\"'][ \t]*:", r"\btimeout[ \t]*=[ \t]*0\b", r"\bcfg\.set\(", r"gunicorn")

    def visit_Module(self, node: cst.Module) -> None:
        assigned: dict[str, tuple[int, cst.Assign]] = {}
        names: set[str] = set()
        for i, stmt in enumerate(node.body):
            if isinstance(stmt, cst.FunctionDef):
                names.add(stmt.name.value)
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign):
                        for t in small.targets:
                            if isinstance(t.target, cst.Name):
                                names.add(t.target.value)
                                assigned[t.target.value] = (i, small)  # the last assignment wins
        if not (names & _GUNICORN_SETTINGS or names & _GUNICORN_HOOKS):
            return
        chosen = _assigned_in_blocks(node)  # `if PRODUCTION: timeout = 120` chooses per environment
        for key in ("timeout", "graceful_timeout"):
            if key in assigned and key not in chosen:
                i, assign = assigned[key]
                if _zero(assign.value, self.context.resolver):
                    self.report(assign.value, _DISABLED[key], at=(i, -1), setting=key)

    def visit_Dict(self, node: cst.Dict) -> None:
        keys: dict[str, cst.BaseExpression] = {}
        for el in node.elements:
            if isinstance(el, cst.DictElement):
                ok, key = literal(el.key)
                if ok and isinstance(key, str):
                    keys[key] = el.value
        self._options(keys)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Name) and func.value == "dict" and self.resolve(func) == "dict":
            self._options({a.keyword.value: a.value for a in node.args if a.keyword is not None})
            return
        if isinstance(func, cst.Attribute) and func.attr.value == "set" and isinstance(func.value, cst.Attribute) and func.value.attr.value == "cfg":
            positional = [a.value for a in node.args if a.keyword is None and not a.star]
            if len(positional) == 2:
                ok, key = literal(positional[0])
                if ok and key in _DISABLED and _zero(positional[1], self.context.resolver):
                    self.report(positional[1], _DISABLED[key], setting=key)

    def _options(self, keys: dict[str, cst.BaseExpression]) -> None:
        """An options dict for gunicorn (it holds gunicorn-only settings too)."""
        if not (set(keys) & _GUNICORN_SETTINGS):
            return
        for key in ("timeout", "graceful_timeout"):
            if key in keys and _zero(keys[key], self.context.resolver):
                self.report(keys[key], _DISABLED[key], setting=key)

    def visit_List(self, node: cst.List) -> None:
        self._command([e.value for e in node.elements if isinstance(e, cst.Element)])

    def visit_Tuple(self, node: cst.Tuple) -> None:
        self._command([e.value for e in node.elements if isinstance(e, cst.Element)])

    def _command(self, items: list[cst.BaseExpression]) -> None:
        """``["gunicorn", ..., "--timeout", "0"]``: a command line that starts gunicorn."""
        values = [literal(v) for v in items]
        texts = [v if ok and isinstance(v, str) else None for ok, v in values]
        if not any(t is not None and re.search(r"(?:^|[/\s])gunicorn$", t) for t in texts[:4]):
            return
        for i, t in enumerate(texts):
            if t in ("--timeout", "-t", "--graceful-timeout") and i + 1 < len(items) and _zero(items[i + 1], self.context.resolver):
                key = "graceful_timeout" if t == "--graceful-timeout" else "timeout"
                self.report(items[i + 1], _DISABLED[key], setting=key)
            elif t is not None and _CLI_TIMEOUT.match(t):
                key = "graceful_timeout" if t.startswith("--graceful") else "timeout"
                self.report(items[i], _DISABLED[key], setting=key)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        value = node.evaluated_value
        if isinstance(value, str) and "gunicorn" in value:
            m = _CLI_STRING.search(value)
            if m:
                key = "graceful_timeout" if "graceful" in m.group(0) else "timeout"
                self.report(node, _DISABLED[key], setting=key)
