"""Timeout checks the declarative vocabulary cannot say (TMO1xx visitors and hooks)."""

from __future__ import annotations

import re
from typing import Any

import libcst as cst

from ..python import Context, Visitor, _Batch, find_arg

# --------------------------------------------------------------------------- requests sessions

_PLAIN_ADAPTERS = frozenset({"requests.adapters.HTTPAdapter", "requests.HTTPAdapter"})


def _receiver_key(node: cst.BaseExpression, ctx: Context) -> str | None:
    if isinstance(node, (cst.Name, cst.Attribute)):
        return ctx.code(node)
    return None


class _MountScan(cst.BatchableCSTVisitor):
    """Receivers given a custom adapter (``s.mount(prefix, Adapter(...))``) or a new ``request``/``send``."""

    def __init__(self, ctx: Context) -> None:
        super().__init__()
        self.ctx = ctx
        self.found: set[str] = set()

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "mount") or len(node.args) < 2:
            return
        adapter = node.args[1].value
        if isinstance(adapter, cst.Call) and isinstance(adapter.func, (cst.Name, cst.Attribute)):
            resolver = self.ctx.resolver
            if resolver.resolve(adapter.func, resolver.module_scope) in _PLAIN_ADAPTERS:
                return  # a plain HTTPAdapter adds retries or pool sizes, never a timeout
        key = _receiver_key(func.value, self.ctx)
        if key:
            self.found.add(key)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            t = target.target
            if isinstance(t, cst.Attribute) and t.attr.value in ("request", "send"):
                key = _receiver_key(t.value, self.ctx)
                if key:
                    self.found.add(key)


def _sessions_with_default_timeout(ctx: Context) -> frozenset[str]:
    """Receivers (as written) whose requests are given a timeout somewhere else in the module:
    a custom adapter mounted on them (``s.mount("https://", TimeoutHTTPAdapter(timeout=5))``) or
    ``s.request``/``s.send`` replaced (``s.request = functools.partial(s.request, timeout=5)``)."""
    cached = getattr(ctx, "_tmo_sessions", None)
    if cached is not None:
        return cached
    scan = _MountScan(ctx)
    _Batch([scan]).walk(ctx.module)  # read-only walk: libcst's visit rebuilds every node
    result = frozenset(scan.found)
    ctx._tmo_sessions = result  # type: ignore[attr-defined]
    return result


def session_has_default_timeout(call: cst.Call, ctx: Context) -> bool:
    """The session's requests get a timeout from a mounted adapter (or a replaced ``request``)."""
    func = call.func
    if not isinstance(func, cst.Attribute):
        return False
    key = _receiver_key(func.value, ctx)
    return key is not None and key in _sessions_with_default_timeout(ctx)


class _CallsByFunction(cst.BatchableCSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[list[cst.Call]] = [[]]
        self.groups: dict[int, list[cst.Call]] = {}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.stack.append([])

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.close(self.stack.pop())

    def visit_Call(self, node: cst.Call) -> None:
        self.stack[-1].append(node)

    def close(self, calls: list[cst.Call]) -> None:
        for c in calls:
            self.groups[id(c)] = calls


def _calls_by_function(ctx: Context) -> dict[int, list[cst.Call]]:
    """id(call) -> every call in the same function (or at module level), computed once per file."""
    cached = getattr(ctx, "_tmo_siblings", None)
    if cached is not None:
        return cached
    scan = _CallsByFunction()
    _Batch([scan]).walk(ctx.module)
    scan.close(scan.stack[0])
    ctx._tmo_module_calls = scan.stack[0]  # type: ignore[attr-defined]
    ctx._tmo_siblings = scan.groups  # type: ignore[attr-defined]
    return scan.groups


def _positional(call: cst.Call) -> list[cst.BaseExpression]:
    return [a.value for a in call.args if a.keyword is None and not a.star]


def timeout_given_elsewhere(call: cst.Call, ctx: Context) -> bool:
    """The same function calls the same callee with a timeout *variable* too: the code chooses on
    purpose (``if timeout is not None: create_connection(a, timeout)`` then
    ``create_connection(a)``). Module-level code and literal timeouts do not count."""
    group = _calls_by_function(ctx).get(id(call))
    if group is None or getattr(ctx, "_tmo_module_calls", None) is group:
        return False
    callee = ctx.code(call.func)
    mine = len(_positional(call))
    for other in group:
        if other is call or ctx.code(other.func) != callee:
            continue
        given = [a.value for a in other.args if a.keyword is not None and a.keyword.value == "timeout"]
        given += _positional(other)[mine:]
        if any(isinstance(v, cst.Name) and v.value not in ("None", "True", "False") for v in given):
            return True
    return False


def timeout_set_elsewhere(call: cst.Call, ctx: Context) -> bool:
    """``unless`` hook of TMO101/TMO104: the timeout comes from somewhere else in the file."""
    return session_has_default_timeout(call, ctx) or timeout_given_elsewhere(call, ctx)


# --------------------------------------------------------------------------- gRPC stubs

# what `foo_pb2_grpc.FooStub(channel)` resolves to, then a method (and .future/.with_call)
_STUB_CALL = re.compile(r"(?:^|\.)\w+_pb2_grpc\.\w+Stub\(\)\.([A-Za-z]\w*)(?:\.(future|with_call))?$")


class GrpcCallWithoutTimeout(Visitor):
    """TMO107: a generated stub's method called without ``timeout`` (the call waits forever:
    gRPC Python sets no deadline by default), and ``channel_ready_future(...).result()``
    without one.

    Stubs are what ``<module>_pb2_grpc.<Name>Stub(channel)`` returns, tracked through local,
    ``self.`` and module-level names by the analyzer's resolver.
    """

    TRIGGERS = ("_pb2_grpc", "channel_ready_future")

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        qual = self.resolve(func)
        if not qual:
            return
        if qual in ("grpc.channel_ready_future().result", "grpc.aio.channel_ready_future().result"):
            status, _ = find_arg(node, "timeout", 0)
            if status == "missing":
                self.report(node, callee=self.context.code(func), qualname=qual, message="`grpc.channel_ready_future(...).result()` without `timeout` waits forever for a channel that never becomes ready")
            return
        m = _STUB_CALL.search(qual)
        if not m:
            return
        status, _ = find_arg(node, "timeout", 1)
        if status == "missing":
            self.report(node, callee=self.context.code(func), qualname=qual)


# --------------------------------------------------------------------------- raw sockets


class _Frame:
    __slots__ = ("connects", "timed", "unix")

    def __init__(self) -> None:
        self.connects: list[tuple[str, cst.Call, tuple[int, int]]] = []
        self.timed: set[str] = set()
        self.unix: set[str] = set()


_TIMED = frozenset({"settimeout", "setblocking"})


class SocketConnectWithoutTimeout(Visitor):
    """TMO108: ``s = socket.socket(...)`` then ``s.connect(...)`` in the same function (or at module
    level) with no ``s.settimeout(...)``/``s.setblocking(...)`` there and no
    ``socket.setdefaulttimeout(<number>)`` in the module: the connect and every later
    ``recv`` block for as long as the peer keeps quiet."""

    TRIGGERS = ()
    TRIGGER_REGEX = r"\A(?=(?s:.*?)\.connect(?:_ex)?\()(?=(?s:.*?)\bsocket\b)"
    LOCAL = True
    # a finding is a `.connect(` in a function that creates its socket; the module-wide evidence
    # against it is a `setdefaulttimeout(...)` call
    CHUNK_REGEX = r"\.connect(?:_ex)?\(|\bsetdefaulttimeout\b"

    def __init__(self, rule: Any, context: Context) -> None:
        super().__init__(rule, context)
        self.frames: list[_Frame] = [_Frame()]
        self.done: list[_Frame] = []
        self.default_timeout = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.frames.append(_Frame())

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.done.append(self.frames.pop())

    def leave_Module(self, original_node: cst.Module) -> None:
        # a `socket.setdefaulttimeout(...)` anywhere in the module covers every function
        if not self.default_timeout:
            for frame in [*self.done, self.frames[0]]:
                self._flush(frame)

    def visit_Assign(self, node: cst.Assign) -> None:
        if self._is_unix_socket(node.value):
            for t in node.targets:
                if isinstance(t.target, cst.Name):
                    self.frames[-1].unix.add(t.target.value)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None and isinstance(node.asname.name, cst.Name) and self._is_unix_socket(node.item):
            self.frames[-1].unix.add(node.asname.name.value)

    def _is_unix_socket(self, value: cst.BaseExpression) -> bool:
        if not isinstance(value, cst.Call) or self.resolve(value.func) != "socket.socket":
            return False
        status, family = find_arg(value, "family", 0)
        return status == "present" and family is not None and self.resolve(family) == "socket.AF_UNIX"

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        attr = func.attr.value
        if attr == "setdefaulttimeout" and self.resolve(func) == "socket.setdefaulttimeout":
            status, value = find_arg(node, "timeout", 0)
            if status != "missing" and not (isinstance(value, cst.Name) and value.value == "None"):
                self.default_timeout = True
            return
        if not isinstance(func.value, cst.Name):
            return
        name = func.value.value
        if attr in _TIMED:
            self.frames[-1].timed.add(name)
        elif attr in ("connect", "connect_ex") and self.resolve(func.value) == "socket.socket()":
            self.frames[-1].connects.append((name, node, self.context.where))

    def _flush(self, frame: _Frame) -> None:
        for name, call, where in frame.connects:
            if name not in frame.timed and name not in frame.unix:
                self.report(call, at=where, callee=self.context.code(call.func), name=name, qualname="socket.socket().connect")
