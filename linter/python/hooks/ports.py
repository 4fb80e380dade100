"""Port and bind-address checks the declarative vocabulary cannot say (PRT1xx visitors)."""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from typing import Any

import libcst as cst

from linter.core.model import Rule
from linter.python.visitor import Context, Visitor
from linter.python.addresses import HOLE, arg_value, split_host_port, template, url_host_port

# --------------------------------------------------------------------------- helpers


def _shown(text: str) -> str:
    return text.replace(HOLE, "{...}")


# --------------------------------------------------------------------------- PRT103

_GRPC_TARGETS = {
    "grpc.insecure_channel": ("target", 0),
    "grpc.secure_channel": ("target", 0),
    "grpc.aio.insecure_channel": ("target", 0),
    "grpc.aio.secure_channel": ("target", 0),
}
_GRPC_SERVER_METHODS = ("add_insecure_port", "add_secure_port")


class HardcodedPortInAddress(Visitor):
    """PRT103: a literal port in a gRPC channel target or server address (``"[::]:50051"``)."""

    TRIGGERS = ("secure_channel", "add_insecure_port", "add_secure_port")  # `insecure_channel` holds `secure_channel`
    LOCAL = True  # its findings lie in statements that hold its triggers

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _GRPC_SERVER_METHODS:
            value = arg_value(node, "address", 0)
        else:
            spec = _GRPC_TARGETS.get(self.resolve(func) or "") if isinstance(func, (cst.Name, cst.Attribute)) else None
            if spec is None:
                return
            value = arg_value(node, *spec)
        text = template(value)
        if value is None or text is None:
            return
        hp = split_host_port(text)
        if hp is None or hp.port is None or not 1 <= hp.port <= 65535:
            return
        self.report(value, callee=self.context.code(func), value=str(hp.port), address=_shown(text), qualname=_shown(text))


# --------------------------------------------------------------------------- PRT104

_VERBS = "get,options,head,post,put,patch,delete"


def _expand(pattern: str) -> list[str]:
    from linter.python.visitor import expand_braces

    return expand_braces(pattern)


def _url_calls() -> dict[str, tuple[tuple[str, int | None], ...]]:
    table: dict[str, tuple[tuple[str, int | None], ...]] = {}

    def add(pattern: str, *where: tuple[str, int | None]) -> None:
        for name in _expand(pattern):
            table[name] = where

    add(f"requests.{{{_VERBS}}}", ("url", 0))
    add("requests.request", ("url", 1))
    add(f"requests.{{Session,session,sessions.Session}}().{{{_VERBS}}}", ("url", 0))
    add("requests.{Session,session,sessions.Session}().request", ("url", 1))
    add(f"httpx.{{{_VERBS}}}", ("url", 0))
    add("httpx.{request,stream}", ("url", 1))
    add(f"httpx.{{Client,AsyncClient}}().{{{_VERBS}}}", ("url", 0))
    add("httpx.{Client,AsyncClient}().{request,stream}", ("url", 1))
    add("httpx.{Client,AsyncClient}", ("base_url", None))
    add(f"aiohttp.ClientSession().{{{_VERBS},ws_connect}}", ("url", 0))
    add("aiohttp.ClientSession().request", ("url", 1))
    add("aiohttp.ClientSession", ("base_url", 0))
    add("aiohttp.request", ("url", 1))
    add("urllib.request.{urlopen,Request}", ("url", 0))
    add("urllib3.{PoolManager,ProxyManager}().{request,urlopen}", ("url", 1))
    add("urllib3.request", ("url", 1))
    add("urllib3.connection_from_url", ("url", 0))
    add("redis.{from_url,Redis.from_url,StrictRedis.from_url,ConnectionPool.from_url}", ("url", 0))
    add("redis.asyncio.{from_url,Redis.from_url,ConnectionPool.from_url}", ("url", 0))
    add("sqlalchemy.create_engine", ("url", 0))
    add("sqlalchemy.ext.asyncio.create_async_engine", ("url", 0))
    add("pymongo.MongoClient", ("host", 0))
    add("motor.motor_asyncio.AsyncIOMotorClient", ("host", 0))
    add("psycopg2.connect", ("dsn", 0))
    add("psycopg.{connect,Connection.connect,AsyncConnection.connect}", ("conninfo", 0))
    add("asyncpg.{connect,create_pool}", ("dsn", 0))
    add("websockets.{connect,client.connect}", ("uri", 0))
    add("pika.URLParameters", ("url", 0))
    add("aio_pika.{connect,connect_robust}", ("url", 0))
    add("celery.Celery", ("broker", None), ("backend", None))
    return table


_URL_CALLS = _url_calls()
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")


class UrlWithHardcodedPort(Visitor):
    """PRT104: a URL with a literal ``host:port`` passed to a client (``requests.get("http://api:8080/")``)."""

    TRIGGERS = ()
    LOCAL = True  # its findings lie in statements that hold its triggers
    # a URL with a literal port in a string literal (the host may be an f-string field)
    TRIGGER_REGEX = r"[\"'][A-Za-z][\w+.\-]*://[^\"'\s/?#]*:[0-9]"

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, (cst.Name, cst.Attribute)):
            return
        qual = self.resolve(func)
        where = _URL_CALLS.get(qual or "")
        if not where:
            return
        for keyword, position in where:
            value = arg_value(node, keyword, position)
            text = template(value)
            if value is None or text is None:
                continue
            hp = url_host_port(text)
            if hp is None or hp.port is None or not 1 <= hp.port <= 65535:
                continue
            scheme = _SCHEME.match(text)
            if scheme and _DEFAULT_PORTS.get(scheme.group(1).lower()) == hp.port:
                continue  # `https://host:443/` names the scheme's own port
            self.report(value, callee=self.context.code(func), value=str(hp.port), url=_shown(text), qualname=_shown(text))


# --------------------------------------------------------------------------- listening calls (PRT101, PRT102, PRT105)
#
# A bind-all address or a port number is a finding only where it reaches a call that listens:
# written as the call's argument, or held by a name the call reads (a local or module-level
# variable bound once, to the literal; a parameter default of the function making the call).
# The same address anywhere else (a comparison, a parser constant, test data, a log line) never
# serves, and neither does a free-port probe (`s.bind((host, 0))`, or a socket that is only
# bound, inspected and closed). A value read from configuration (`os.environ.get("HOST",
# "0.0.0.0")`, `int(os.getenv("PORT", "8080"))`) is not a literal, whatever its fallback.

_Arg = tuple[str | None, int | None]  # (keyword, position) of an argument


@dataclass(frozen=True, slots=True)
class _Listen:
    """How a listening call takes its address."""

    address: _Arg | None = None  # a (host, port) pair: `socket.bind`, `HTTPServer`
    host: _Arg | None = None
    port: _Arg | None = None
    hostport: _Arg | None = None  # "host:port" text (gRPC, waitress `listen`)
    empty_is_all: bool = False  # `""` means every interface here
    grpc: bool = False  # a port in its "host:port" is PRT103's finding
    raw: bool = False  # a plain socket's `bind`: a probe (bound, inspected, closed) does not serve


_PAIR = _Listen(address=("server_address", 0), empty_is_all=True)
_HOST_PORT = _Listen(host=("host", None), port=("port", None))  # keywords only
_LOOP = _Listen(host=("host", 1), port=("port", 2), empty_is_all=True)  # asyncio's (factory, host, port)
_TORNADO = _Listen(port=("port", 0), host=("address", 1), empty_is_all=True)
_GRPC = _Listen(hostport=("address", 0), grpc=True)


def _listeners() -> dict[str, _Listen]:
    table: dict[str, _Listen] = {}

    def add(pattern: str, spec: _Listen) -> None:
        for name in _expand(pattern):
            table[name] = spec

    add("socket.create_server", _Listen(address=("address", 0), empty_is_all=True))
    add("http.server.{HTTPServer,ThreadingHTTPServer}", _PAIR)
    add("socketserver.{TCPServer,UDPServer,ThreadingTCPServer,ThreadingUDPServer,ForkingTCPServer,ForkingUDPServer}", _PAIR)
    add("wsgiref.simple_server.WSGIServer", _PAIR)
    add("xmlrpc.server.{SimpleXMLRPCServer,DocXMLRPCServer}", _Listen(address=("addr", 0), empty_is_all=True))
    add("gevent.pywsgi.WSGIServer", _Listen(address=("listener", 0), empty_is_all=True))
    add("gevent.server.{StreamServer,DatagramServer}", _Listen(address=("listener", 0), empty_is_all=True))
    add("eventlet.listen", _Listen(address=("addr", 0), empty_is_all=True))
    add("wsgiref.simple_server.make_server", _Listen(host=("host", 0), port=("port", 1), empty_is_all=True))
    add("werkzeug.serving.run_simple", _Listen(host=("hostname", 0), port=("port", 1)))
    add("werkzeug.serving.make_server", _Listen(host=("host", 0), port=("port", 1)))
    add("{flask.Flask,quart.Quart,sanic.Sanic}().run", _Listen(host=("host", 0), port=("port", 1)))
    add("{uvicorn.run,uvicorn.Config,aiohttp.web.run_app,bottle.run,waitress.create_server}", _HOST_PORT)
    add("waitress.serve", _Listen(host=("host", None), port=("port", None), hostport=("listen", None)))
    add("{asyncio.start_server,aiohttp.web.TCPSite,websockets.serve,websockets.server.serve,websockets.asyncio.server.serve}", _LOOP)
    add("prometheus_client.{,exposition.}{start_http_server,start_wsgi_server}", _Listen(port=("port", 0), host=("addr", 1)))
    add("tornado.{web.Application,httpserver.HTTPServer,tcpserver.TCPServer}().{listen,bind}", _TORNADO)
    add("tornado.netutil.bind_sockets", _TORNADO)
    return table


_LISTENERS = _listeners()
# a method of any receiver (`app.run`, `loop.create_server`, `server.add_insecure_port`);
# `bind` and `listen` are read from their arguments (see `_method_listener`)
_METHODS = {
    "run": _HOST_PORT,
    "run_server": _HOST_PORT,
    "run_app": _HOST_PORT,
    "create_server": _LOOP,
    "create_datagram_endpoint": _Listen(address=("local_addr", 1), empty_is_all=True),
    "add_insecure_port": _GRPC,
    "add_secure_port": _GRPC,
}
_SOCKET_BIND = _Listen(address=("address", 0), empty_is_all=True, raw=True)
# a socket that only sees these is being probed (a free port, a source address), not served
_PROBE_METHODS = frozenset(
    {"bind", "close", "getsockname", "setsockopt", "getsockopt", "settimeout", "setblocking", "shutdown", "connect", "connect_ex", "set_inheritable"}
)
_PROBE_EVIDENCE = frozenset({"close", "getsockname", "connect", "connect_ex"})
_ALL_HOSTS = frozenset({"0.0.0.0", "::", "[::]"})
_ALL_IN_ADDRESS = frozenset({"0.0.0.0", "::", "*"})
_STRINGS = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)

# a file without one of these cannot hold a listening call (the visitors' gate)
_LISTEN_REGEX = (  # any of them (one alternation of them all is searched several times slower)
    r"\.(?:run|run_server|run_app|bind|listen|create_server|create_datagram_endpoint|add_insecure_port|add_secure_port)\s*\(",
    r"\b(?:make_server|run_simple|run_app|TCPSite|start_server|create_server|serve|start_http_server|start_wsgi_server|bind_sockets|listen)\s*\(",
    r"(?:HTTP|TCP|UDP|WSGI|XMLRPC|Stream|Datagram)Server\b",
    r"\bbind\s*=[^=]",
    r"[\"']bind[\"']\s*:",
)


def _method_listener(node: cst.Call, attr: str) -> _Listen | None:
    if attr == "bind":
        # tornado's `server.bind(port, address=...)`; else a socket's `bind(address)`
        return _TORNADO if arg_value(node, "address", None) is not None else _SOCKET_BIND
    if attr == "listen":
        # tornado's `app.listen(port, address=...)`; a socket's `listen(backlog)` has no address
        return _TORNADO if arg_value(node, "address", None) is not None else None
    return _METHODS.get(attr)


@dataclass(slots=True)
class _Binding:
    value: cst.BaseExpression | None  # None: bound to something we do not read (import, loop, `+=`)
    scope: _Scope  # where `value` is evaluated (a parameter default: the enclosing scope)
    at: tuple[int, int]  # the analyzer's `where` when the walk saw the binding


class _Scope:
    __slots__ = ("kind", "parent", "node", "bindings", "globals", "nonlocals")

    def __init__(self, kind: str, parent: _Scope | None, node: cst.CSTNode) -> None:
        self.kind = kind  # "module" | "class" | "function"
        self.parent = parent
        self.node = node
        self.bindings: dict[str, list[_Binding]] = {}
        self.globals: set[str] = set()
        self.nonlocals: set[str] = set()


@dataclass(slots=True)
class _Endpoint:
    """One listening call (or listening setting) and the expressions that give its address."""

    callee: str
    spec: _Listen
    scope: _Scope
    at: tuple[int, int]
    host: cst.BaseExpression | None = None
    port: cst.BaseExpression | None = None
    address: cst.BaseExpression | None = None
    hostport: cst.BaseExpression | None = None
    receiver: str | None = None  # the socket name of a raw `bind`
    config_file: bool = False  # gunicorn's `bind = "host:port"` setting: configuration already


@dataclass(frozen=True, slots=True)
class _Value:
    node: cst.BaseExpression
    name: str | None  # the first name the value travelled through (None: written in the call)
    at: tuple[int, int]


@dataclass(frozen=True, slots=True)
class _Hit:
    rule: str  # "PRT101" | "PRT102" | "PRT105"
    node: cst.CSTNode
    at: tuple[int, int]
    fmt: tuple[tuple[str, str], ...]


class _SocketUse(cst.CSTVisitor):
    """How a function (or module) uses one socket name: the methods called on it, whether it is
    closed (`close()`, a `with` block, `contextlib.closing`) and whether it escapes (returned,
    passed, stored)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.methods: set[str] = set()
        self.closed = False
        self.escapes = False
        self._ok: set[int] = set()

    def _is(self, node: cst.CSTNode | None) -> bool:
        return isinstance(node, cst.Name) and node.value == self.name

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and self._is(func.value):
            self.methods.add(func.attr.value)
            self._ok.add(id(func.value))
        name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        if name == "closing":
            for a in node.args:
                if self._is(a.value):
                    self.closed = True
                    self._ok.add(id(a.value))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self._is(node.value):
            self._ok.add(id(node.value))

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            if self._is(t.target):
                self._ok.add(id(t.target))

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None and self._is(node.asname.name):
            self.closed = True
            self._ok.add(id(node.asname.name))

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name and id(node) not in self._ok:
            self.escapes = True

    def probe(self) -> bool:
        return not self.escapes and self.methods <= _PROBE_METHODS and (self.closed or bool(self.methods & _PROBE_EVIDENCE))


class _Listening:
    """The listening calls of one module and the names their arguments travel through: fed by
    the walk (one per module, shared by the three rules), evaluated once the walk is over."""

    def __init__(self, visitor: Visitor, module: cst.Module) -> None:
        self.visitor = visitor
        self.context = visitor.context
        self.module = _Scope("module", None, module)
        self.stack: list[_Scope] = [self.module]
        self.endpoints: list[_Endpoint] = []
        self.servers: dict[str, _Listen] = {}  # classes of this module derived from a listening server
        self._hits: list[_Hit] | None = None

    # ---- bindings
    @property
    def scope(self) -> _Scope:
        return self.stack[-1]

    def bind(self, name: str, value: cst.BaseExpression | None, scope: _Scope | None = None) -> None:
        s = self.scope
        if name in s.globals:
            s = self.module
        elif name in s.nonlocals:
            outer = s.parent
            while outer is not None and outer.kind == "class":
                outer = outer.parent
            s = outer or self.module
        s.bindings.setdefault(name, []).append(_Binding(value, scope or s, self.context.where))

    def bind_target(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if isinstance(target, cst.Name):
            self.bind(target.value, value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            values: list[cst.BaseExpression | None] = [None] * len(target.elements)
            if (
                isinstance(value, (cst.Tuple, cst.List))
                and len(value.elements) == len(target.elements)
                and not any(isinstance(e, cst.StarredElement) for e in (*value.elements, *target.elements))
            ):
                values = [e.value for e in value.elements]
            for el, v in zip(target.elements, values):
                self.bind_target(el.value, v)
        elif isinstance(target, cst.StarredElement):
            self.bind_target(target.value, None)

    def push(self, kind: str, node: cst.CSTNode, params: cst.Parameters | None = None) -> None:
        outer = self.scope
        scope = _Scope(kind, outer, node)
        self.stack.append(scope)
        if params is not None:
            every = [*params.posonly_params, *params.params, *params.kwonly_params]
            for extra in (params.star_arg, params.star_kwarg):
                if isinstance(extra, cst.Param):
                    every.append(extra)
            for p in every:
                # a default is evaluated where the function is defined
                self.bind(p.name.value, p.default, scope=outer)

    def pop(self) -> None:
        self.stack.pop()

    def lookup(self, name: str, scope: _Scope) -> _Binding | None:
        """The one binding of a name seen from a scope; None when unbound or bound more than once."""
        s: _Scope | None = self.module if name in scope.globals else scope
        first = True
        while s is not None:
            if (first or s.kind != "class") and name in s.bindings:
                found = s.bindings[name]
                return found[0] if len(found) == 1 else None
            first = False
            s = s.parent
        return None

    # ---- listening calls
    def call(self, node: cst.Call) -> None:
        func = node.func
        qual = self.visitor.resolve(func) if isinstance(func, (cst.Name, cst.Attribute, cst.Call)) else None
        spec = _LISTENERS.get(qual or "")
        if spec is None and isinstance(func, cst.Name) and qual is None:
            spec = self.servers.get(func.value)
        if spec is None and isinstance(func, cst.Attribute):
            spec = _method_listener(node, func.attr.value)
        if spec is None:
            return
        end = _Endpoint(self.context.code(func), spec, self.scope, self.context.where)
        if spec.address is not None:
            end.address = arg_value(node, *spec.address)
        if spec.host is not None:
            end.host = arg_value(node, *spec.host)
        if spec.port is not None:
            end.port = arg_value(node, *spec.port)
        if spec.hostport is not None:
            end.hostport = arg_value(node, *spec.hostport)
        if spec.raw and isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            end.receiver = func.value.value
        if end.address is not None or end.host is not None or end.port is not None or end.hostport is not None:
            self.endpoints.append(end)

    def server_class(self, node: cst.ClassDef) -> None:
        for base in node.bases:
            value = base.value
            qual = self.visitor.resolve(value) if isinstance(value, (cst.Name, cst.Attribute)) else None
            spec = _LISTENERS.get(qual or "")
            if spec is None and isinstance(value, cst.Name):
                spec = self.servers.get(value.value)
            if spec is not None and spec.address is not None:
                self.servers[node.name.value] = spec
                return

    def setting(self, callee: str, value: cst.BaseExpression, *, config_file: bool = False) -> None:
        """A "host:port" listen setting: gunicorn's `bind`, hypercorn's `Config().bind`."""
        self.endpoints.append(_Endpoint(callee, _Listen(hostport=("bind", None)), self.scope, self.context.where, hostport=value, config_file=config_file))

    # ---- evaluation
    def value(self, expr: cst.BaseExpression | None, scope: _Scope, at: tuple[int, int], name: str | None = None) -> tuple[_Value, _Scope] | None:
        """The expression a value comes from, following names bound once (a few steps)."""
        for _ in range(6):
            if expr is None:
                return None
            if not isinstance(expr, cst.Name):
                return _Value(expr, name, at), scope
            found = self.lookup(expr.value, scope)
            if found is None or found.value is None:
                return None
            name = name or expr.value
            expr, scope, at = found.value, found.scope, found.at
        return None

    def hits(self) -> list[_Hit]:
        if self._hits is None:
            self._hits = self._evaluate()
        return self._hits

    def _evaluate(self) -> list[_Hit]:
        out: list[_Hit] = []
        seen: set[tuple[str, int]] = set()
        probes: dict[tuple[int, str], bool] = {}

        def hit(rule: str, found: _Value, end: _Endpoint, **fmt: str) -> None:
            key = ("bind" if rule != "PRT102" else rule, id(found.node))  # PRT101 and PRT105 never share a literal
            if key in seen:
                return
            seen.add(key)
            fmt.update(callee=end.callee, qualname=f"{end.callee}:{fmt.get('value', '')}")
            if found.name:
                fmt["name"] = found.name
            out.append(_Hit(rule, found.node, found.at, tuple(fmt.items())))

        def is_probe(end: _Endpoint) -> bool:
            if end.receiver is None:
                return False
            scope: _Scope | None = end.scope
            while scope is not None and scope.kind == "class":
                scope = scope.parent
            owner = (scope or self.module).node
            key = (id(owner), end.receiver)
            if key not in probes:
                use = _SocketUse(end.receiver)
                owner.visit(use)
                probes[key] = use.probe()
            return probes[key]

        for end in self.endpoints:
            host = port = None
            texts: list[tuple[_Value, str]] = []  # "host:port" strings
            if end.address is not None:
                found = self.value(end.address, end.scope, end.at)
                if found is not None:
                    pair, where = found
                    if isinstance(pair.node, (cst.Tuple, cst.List)) and len(pair.node.elements) >= 2:
                        first, second = pair.node.elements[0], pair.node.elements[1]
                        if not isinstance(first, cst.StarredElement) and not isinstance(second, cst.StarredElement):
                            host = self.value(first.value, where, pair.at, pair.name)
                            port = self.value(second.value, where, pair.at, pair.name)
                    elif isinstance(pair.node, _STRINGS):
                        text = template(pair.node)
                        if text is not None and text.startswith("tcp://"):  # ZeroMQ: `sock.bind("tcp://*:5555")`
                            texts.append((pair, text[len("tcp://") :]))
            if end.host is not None:
                host = self.value(end.host, end.scope, end.at)
            if end.port is not None:
                port = self.value(end.port, end.scope, end.at)
            if end.hostport is not None:
                found = self.value(end.hostport, end.scope, end.at)
                if found is not None:
                    v, where = found
                    items = [e.value for e in v.node.elements] if isinstance(v.node, (cst.List, cst.Tuple)) else [v.node]
                    for item in items:
                        got = self.value(item, where, v.at, v.name)
                        if got is None:
                            continue
                        text = template(got[0].node)
                        if text is not None and HOLE not in text:
                            texts.extend((got[0], part) for part in text.split())
            # the host and port of the call
            port_number = _port(port[0].node) if port is not None else None
            probe: bool | None = None
            if host is not None:
                text = template(host[0].node) if isinstance(host[0].node, _STRINGS) else None
                if text is not None and HOLE not in text and port_number != 0 and (text in _ALL_HOSTS or (text == "" and end.spec.empty_is_all)):
                    probe = is_probe(end)
                    if not probe:
                        hit("PRT101" if host[0].name is None else "PRT105", host[0], end, value=self.context.code(host[0].node))
            if port is not None and port_number is not None and 1 <= port_number <= 65535:
                if probe is None:
                    probe = is_probe(end)
                if not probe:
                    hit("PRT102", port[0], end, value=str(port_number))
            # "host:port" texts
            for v, text in texts:
                hp = split_host_port(text)
                if hp is None or hp.port == 0:
                    continue
                if hp.host in _ALL_IN_ADDRESS or (hp.host == "" and end.spec.empty_is_all):
                    hit("PRT101" if v.name is None else "PRT105", v, end, value=self.context.code(v.node))
                if hp.port is not None and not end.spec.grpc and not end.config_file:
                    hit("PRT102", v, end, value=str(hp.port))
        return out


def _port(node: cst.BaseExpression) -> int | None:
    if isinstance(node, cst.Integer):
        value = node.evaluated_value
        return value if isinstance(value, int) else None
    return None


_ANALYSES: weakref.WeakKeyDictionary[Any, _Listening] = weakref.WeakKeyDictionary()


class _ListeningVisitor(Visitor):
    """Base of the three listening-call rules. The first of them the analyzer creates for a
    module feeds one shared `_Listening` from the walk; each reports its own findings when the
    walk leaves the module."""

    RULE = ""
    TRIGGERS = ()
    TRIGGER_REGEX = _LISTEN_REGEX
    # its findings lie in statements that hold its triggers, or in module-level assignments
    # (which the analyzer always keeps), or in the parameters of a function that holds one
    LOCAL = True

    def __init__(self, rule: Rule, context: Context) -> None:
        super().__init__(rule, context)
        self.feeds = False
        self.analysis: _Listening | None = None

    def visit_Module(self, node: cst.Module) -> None:
        self.analysis = _ANALYSES.get(self.context)
        if self.analysis is None:
            self.analysis = _ANALYSES[self.context] = _Listening(self, node)
            self.feeds = True

    def leave_Module(self, original_node: cst.Module) -> None:
        analysis = self.analysis or _ANALYSES.get(self.context)
        if analysis is None:
            return
        for h in analysis.hits():
            if h.rule == self.RULE:
                self.report(h.node, at=h.at, **dict(h.fmt))

    # ---- the walk (only the feeding visitor records)
    def _fed(self) -> _Listening | None:
        return self.analysis if self.feeds else None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if a := self._fed():
            a.bind(node.name.value, None)
            a.push("function", node, node.params)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        if a := self._fed():
            a.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        if a := self._fed():
            a.push("function", node, node.params)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        if a := self._fed():
            a.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if a := self._fed():
            a.bind(node.name.value, None)
            a.server_class(node)
            a.push("class", node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        if a := self._fed():
            a.pop()

    def visit_Global(self, node: cst.Global) -> None:
        if a := self._fed():
            a.scope.globals.update(n.name.value for n in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        if a := self._fed():
            a.scope.nonlocals.update(n.name.value for n in node.names)

    def visit_Assign(self, node: cst.Assign) -> None:
        a = self._fed()
        if a is None:
            return
        for target in node.targets:
            t = target.target
            a.bind_target(t, node.value)
            if isinstance(t, cst.Name) and t.value == "bind" and a.scope.kind == "module":
                a.setting("bind", node.value, config_file=True)  # a gunicorn configuration file
            elif isinstance(t, cst.Attribute) and t.attr.value == "bind":
                qual = self.resolve(t) or ""
                if qual.startswith("hypercorn.") and qual.endswith("Config().bind"):
                    a.setting(self.context.code(t), node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if (a := self._fed()) and node.value is not None:
            a.bind_target(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if a := self._fed():
            a.bind_target(node.target, None)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        if a := self._fed():
            a.bind_target(node.target, node.value)

    def visit_For(self, node: cst.For) -> None:
        if a := self._fed():
            a.bind_target(node.target, None)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        if a := self._fed():  # a comprehension's own scope, counted in the enclosing one (never a false finding)
            a.bind_target(node.target, None)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if (a := self._fed()) and node.asname is not None:
            a.bind_target(node.asname.name, None)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if (a := self._fed()) and node.name is not None:
            a.bind_target(node.name.name, None)

    def visit_Del(self, node: cst.Del) -> None:
        if a := self._fed():
            a.bind_target(node.target, None)

    def visit_Import(self, node: cst.Import) -> None:
        if a := self._fed():
            for alias in node.names:
                name: cst.BaseExpression = alias.asname.name if alias.asname is not None else alias.name  # type: ignore[assignment]
                while isinstance(name, cst.Attribute):
                    name = name.value
                if isinstance(name, cst.Name):
                    a.bind(name.value, None)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if (a := self._fed()) and not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                name = alias.asname.name if alias.asname is not None else alias.name
                if isinstance(name, cst.Name):
                    a.bind(name.value, None)

    def visit_MatchAs(self, node: cst.MatchAs) -> None:
        if (a := self._fed()) and node.name is not None:
            a.bind(node.name.value, None)

    def visit_MatchStar(self, node: cst.MatchStar) -> None:
        if (a := self._fed()) and node.name is not None:
            a.bind(node.name.value, None)

    def visit_DictElement(self, node: cst.DictElement) -> None:
        if (a := self._fed()) and isinstance(node.key, cst.SimpleString) and node.key.evaluated_value == "bind":
            a.setting("bind", node.value)  # gunicorn or hypercorn options

    def visit_Call(self, node: cst.Call) -> None:
        if a := self._fed():
            a.call(node)


class BindAllInterfaces(_ListeningVisitor):
    """PRT101: the all-interfaces address written in a listening call (`app.run(host="0.0.0.0")`,
    `s.bind(("", 8080))`, `server.add_insecure_port("[::]:50051")`)."""

    RULE = "PRT101"


class HardcodedPort(_ListeningVisitor):
    """PRT102: a literal port that reaches a listening call, written in it or through a name."""

    RULE = "PRT102"


class AllInterfacesAddress(_ListeningVisitor):
    """PRT105: the all-interfaces address held by a name (a constant, a variable, a parameter
    default) that reaches a listening call; reported where the literal is written."""

    RULE = "PRT105"
