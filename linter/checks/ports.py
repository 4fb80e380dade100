"""Port and bind-address checks the declarative vocabulary cannot say (PRT1xx visitors)."""

from __future__ import annotations

import re
from typing import Any

import libcst as cst

from ..python import Visitor
from .addresses import DEFAULT_TEST_PATHS, HOLE, arg_value, in_test_path, is_loopback, split_host_port, template, url_host_port

# --------------------------------------------------------------------------- helpers


def _test_paths(visitor: Visitor) -> tuple[str, ...]:
    value = visitor.rule.option("test-paths", DEFAULT_TEST_PATHS)
    return tuple(value) if isinstance(value, (list, tuple)) else DEFAULT_TEST_PATHS


def _skip_loopback_in_tests(visitor: Visitor, host: str) -> bool:
    """Loopback addresses in test files are not findings (rule option ``test-paths``)."""
    return is_loopback(host) and in_test_path(visitor.context.path, _test_paths(visitor))


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

    TRIGGERS = ("grpc", "add_insecure_port", "add_secure_port")
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
        if _skip_loopback_in_tests(self, hp.host):
            return
        self.report(value, callee=self.context.code(func), value=str(hp.port), address=_shown(text), qualname=_shown(text))


# --------------------------------------------------------------------------- PRT104

_VERBS = "get,options,head,post,put,patch,delete"


def _expand(pattern: str) -> list[str]:
    from ..python import expand_braces

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
            if _skip_loopback_in_tests(self, hp.host):
                continue
            self.report(value, callee=self.context.code(func), value=str(hp.port), url=_shown(text), qualname=_shown(text))


# --------------------------------------------------------------------------- PRT105

ALL = "0.0.0.0"
# a call that only looks at or converts the string (a comparison in disguise)
_INSPECTING_METHODS = frozenset(
    {"replace", "startswith", "endswith", "split", "rsplit", "partition", "count", "find", "rfind", "index", "strip", "remove", "discard", "__contains__"}
)
_LOOKUP_METHODS = frozenset({"get", "pop", "setdefault", "getenv"})  # the key is a lookup, a default is a value
_CONVERTERS = re.compile(r"^(?:ipaddress\.|socket\.inet_|netaddr\.)")
# address parsers and constructors, by name (the module that defines them cannot import itself)
_PARSER_NAMES = frozenset(
    {"ip_address", "ip_network", "ip_interface", "IPv4Address", "IPv6Address", "IPv4Network", "IPv6Network", "IPv4Interface", "IPv6Interface", "IPAddress", "IPNetwork", "inet_aton", "inet_pton", "inet_ntoa", "inet_ntop"}
)
# server entry points whose host PRT101 reports (so this rule does not report it twice)
_BIND_TUPLE_CALLS = frozenset(
    {"bind", "create_server", "HTTPServer", "ThreadingHTTPServer", "TCPServer", "UDPServer", "ThreadingTCPServer", "ThreadingUDPServer", "ForkingTCPServer", "ForkingUDPServer", "WSGIServer"}
)
_HOST_KEYWORD_CALLS = frozenset({"run", "Config", "run_app", "make_server", "create_server", "start_server", "TCPSite"})
_HOST_POSITION = {"make_server": 0, "create_server": 1, "start_server": 1, "TCPSite": 1}


def _strings(node: cst.BaseExpression) -> list[cst.CSTNode]:
    if isinstance(node, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)):
        return [node]
    if isinstance(node, (cst.Set, cst.List, cst.Tuple)):
        return [e.value for e in node.elements if isinstance(e.value, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString))]
    return []


class AllInterfacesAddress(Visitor):
    """PRT105: the literal ``"0.0.0.0"`` (the all-interfaces address) used as a value anywhere:
    assigned, passed, returned, a default. Comparisons, lookups and string tests are skipped, and
    so are the server calls PRT101 reports."""

    TRIGGERS = (ALL,)
    LOCAL = True  # its findings lie in statements that hold its triggers

    def __init__(self, rule: Any, context: Any) -> None:
        super().__init__(rule, context)
        self.skip: set[int] = set()

    def _skip_all(self, node: cst.BaseExpression | None) -> None:
        if node is None:
            return
        for s in _strings(node):
            self.skip.add(id(s))
            if isinstance(s, cst.ConcatenatedString):
                for part in (s.left, s.right):
                    self.skip.add(id(part))

    def visit_Comparison(self, node: cst.Comparison) -> None:
        self._skip_all(node.left)
        for target in node.comparisons:
            self._skip_all(target.comparator)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        for element in node.slice:
            if isinstance(element.slice, cst.Index):
                self._skip_all(element.slice.value)

    def visit_DictElement(self, node: cst.DictElement) -> None:
        self._skip_all(node.key)

    def visit_MatchValue(self, node: cst.MatchValue) -> None:
        self._skip_all(node.value)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        if name in _INSPECTING_METHODS:
            for a in node.args:
                self._skip_all(a.value)
            return
        if name in _LOOKUP_METHODS:
            self._skip_all(arg_value(node, None, 0))
            return
        qual = self.resolve(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if name in _PARSER_NAMES or (qual and _CONVERTERS.match(qual)):
            for a in node.args:
                self._skip_all(a.value)
            return
        if name in _BIND_TUPLE_CALLS:
            first = arg_value(node, None, 0)
            if isinstance(first, (cst.Tuple, cst.List)) and first.elements:
                self._skip_all(first.elements[0].value)
        if name in _HOST_KEYWORD_CALLS:
            self._skip_all(arg_value(node, "host", _HOST_POSITION.get(name)))

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if id(node) not in self.skip and node.evaluated_value == ALL:
            self.report(node)

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        if id(node) in self.skip:
            return
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText) and part.value == ALL:
                self.report(part)
