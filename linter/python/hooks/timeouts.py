"""Timeout checks the declarative vocabulary cannot say (TMO1xx visitors and hooks)."""

from __future__ import annotations

import re
from typing import Any

import libcst as cst

import linter.python
from linter.python.analyzer import Context, Visitor, find_arg, walk

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


# text every module with a mounted adapter or a replaced ``request``/``send`` holds (a superset)
_MAY_MOUNT = re.compile(r"\.\s*mount\b|\.\s*(?:request|send)\b[\s\\]*=(?!=)")


def _sessions_with_default_timeout(ctx: Context) -> frozenset[str]:
    """Receivers (as written) whose requests are given a timeout somewhere else in the module:
    a custom adapter mounted on them (``s.mount("https://", TimeoutHTTPAdapter(timeout=5))``) or
    ``s.request``/``s.send`` replaced (``s.request = functools.partial(s.request, timeout=5)``).
    One read-only walk of the module, only when its text can hold either (a fast path:
    always under ``PITFALL_NO_FAST_PATHS``)."""
    cached: frozenset[str] | None = getattr(ctx, "_tmo_sessions", None)
    if cached is None:
        mounts = _MountScan(ctx)
        if _MAY_MOUNT.search(ctx.source) or not linter.python.FAST_PATHS:
            walk(ctx.module, [mounts])
        cached = ctx._tmo_sessions = frozenset(mounts.found)  # type: ignore[attr-defined]
    return cached


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
    """id(call) -> every call in the same function, for the calls of the module-level statement
    the walk is in (walked once per statement; the calls of a function are all inside the
    statement that defines it). Calls outside any function are not in it."""
    top = ctx.where[0]
    cache: dict[int, dict[int, list[cst.Call]]] = ctx.__dict__.setdefault("_tmo_siblings", {})
    if top not in cache:
        calls = _CallsByFunction()
        statements = [ctx.module.body[top]] if 0 <= top < len(ctx.module.body) else list(ctx.module.body)
        for stmt in statements:
            walk(stmt, [calls])
        cache[top] = calls.groups  # the module-level group (calls.stack[0]) is never closed
    return cache[top]


def _positional(call: cst.Call) -> list[cst.BaseExpression]:
    return [a.value for a in call.args if a.keyword is None and not a.star]


def timeout_given_elsewhere(call: cst.Call, ctx: Context) -> bool:
    """The same function calls the same callee with a timeout *variable* too: the code chooses on
    purpose (``if timeout is not None: create_connection(a, timeout)`` then
    ``create_connection(a)``). Module-level code and literal timeouts do not count."""
    group = _calls_by_function(ctx).get(id(call))
    if group is None:  # module-level code, or not in sight
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


# --------------------------------------------------------------------------- `**kwargs` built in sight

_READ_ONLY = frozenset({"get", "pop", "popitem", "copy", "items", "keys", "values", "clear", "__getitem__", "__contains__"})


class _EnclosingFunction(cst.BatchableCSTVisitor):
    """id(call) -> the innermost function (``def`` or ``lambda``) around it, None at module level."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[cst.FunctionDef | cst.Lambda | None] = [None]
        self.found: dict[int, cst.FunctionDef | cst.Lambda | None] = {}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.stack.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.stack.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.stack.append(node)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.stack.pop()

    def visit_Call(self, node: cst.Call) -> None:
        self.found[id(node)] = self.stack[-1]


def _enclosing_function(call: cst.Call, ctx: Context) -> cst.FunctionDef | cst.Lambda | None:
    cached = getattr(ctx, "_tmo_functions", None)
    if cached is None:
        scan = _EnclosingFunction()
        walk(ctx.module, [scan])
        cached = ctx._tmo_functions = scan.found  # type: ignore[attr-defined]
    return cached.get(id(call))


def _string_key(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _dict_without(value: cst.BaseExpression, key: str, ctx: Context) -> bool:
    """``value`` is a dict display or a ``dict(...)`` call whose keys are all visible, ``key`` not
    among them."""
    if isinstance(value, cst.Dict):
        for el in value.elements:
            if not isinstance(el, cst.DictElement):
                return False  # `{**other}`
            name = _string_key(el.key)
            if name is None or name == key:
                return False
        return True
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and ctx.resolver.resolve(value.func) == "dict":
        for a in value.args:
            if a.star or (a.keyword is None and not (len(value.args) == 1 and _dict_without(a.value, key, ctx))):
                return False
            if a.keyword is not None and a.keyword.value == key:
                return False
        return True
    return False


def _references(root: cst.CSTNode, name: str) -> list[cst.Name]:
    """Every ``Name`` node spelling ``name`` under ``root`` except attribute and keyword names."""
    found: list[cst.Name] = []
    stack: list[cst.CSTNode] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name):
            if node.value == name:
                found.append(node)
            continue
        children = list(node.children)
        if isinstance(node, cst.Attribute):
            children = [c for c in children if c is not node.attr]
        elif isinstance(node, cst.Arg) and node.keyword is not None:
            children = [c for c in children if c is not node.keyword]
        stack.extend(children)
    return found


def _store_targets(root: cst.CSTNode) -> list[cst.BaseExpression]:
    """The expressions written to under ``root``: assignment, ``for``, ``with ... as``, walrus and ``del`` targets."""
    out: list[cst.BaseExpression] = []
    stack: list[cst.CSTNode] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Assign):
            out.extend(t.target for t in node.targets)
        elif isinstance(node, (cst.AugAssign, cst.AnnAssign, cst.For, cst.CompFor, cst.NamedExpr, cst.Del)):
            out.append(node.target)
        elif isinstance(node, cst.AsName):
            out.append(node.name)  # type: ignore[arg-type]
        stack.extend(node.children)
    return out


def _local_dict_without(function: cst.FunctionDef | cst.Lambda, name: str, key: str, ctx: Context, passed: cst.Name | None = None) -> bool:
    """``name`` is bound once in ``function`` (not a parameter) to a dict display or ``dict(...)``
    without ``key``, and every other use of it is one we can see through: a read, a ``**name``,
    a store under another literal key, an ``update``/``setdefault`` without ``key``. Anything
    else (another binding, passing the dict on, a computed key) may add the key. ``passed``: the
    reference that hands the dict to the call being checked, a read too."""
    if not isinstance(function, cst.FunctionDef):
        return False  # a lambda binds nothing but its parameters
    params = function.params
    for p in (*params.posonly_params, *params.params, *params.kwonly_params, params.star_arg, params.star_kwarg):
        if isinstance(p, cst.Param) and p.name.value == name:
            return False
    body = function.body
    refs = _references(body, name)
    if not refs:
        return False
    seen: set[int] = {id(passed)} if passed is not None else set()
    definitions = 0
    stores: set[int] = set()
    for target in _store_targets(body):
        for sub in [target, *(el.value for el in getattr(target, "elements", ()))]:
            if isinstance(sub, cst.Subscript) and isinstance(sub.value, cst.Name) and sub.value.value == name:
                stores.add(id(sub))
    stack: list[cst.CSTNode] = [body]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if isinstance(node, (cst.Assign, cst.AnnAssign)):
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            if any(isinstance(t, cst.Name) and t.value == name for t in targets):
                if len(targets) != 1 or node.value is None or not _dict_without(node.value, key, ctx):
                    return False
                definitions += 1
                seen.add(id(targets[0]))
        elif isinstance(node, cst.Subscript) and isinstance(node.value, cst.Name) and node.value.value == name:
            index = node.slice[0].slice if len(node.slice) == 1 else None
            literal_key = _string_key(index.value) if isinstance(index, cst.Index) else None
            if literal_key == key or (id(node) in stores and literal_key is None):
                return False
            seen.add(id(node.value))
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Name) and node.func.value.value == name:
            method = node.func.attr.value
            if method == "update":
                for a in node.args:
                    if a.star or (a.keyword is None and not _dict_without(a.value, key, ctx)):
                        return False
                    if a.keyword is not None and a.keyword.value == key:
                        return False
            elif method == "setdefault":
                first = node.args[0] if node.args else None
                literal_key = _string_key(first.value) if first is not None and first.keyword is None else None
                if literal_key is None or literal_key == key:
                    return False
            elif method not in _READ_ONLY:
                return False
            seen.add(id(node.func.value))
        elif isinstance(node, cst.Arg) and node.star == "**" and isinstance(node.value, cst.Name) and node.value.value == name:
            seen.add(id(node.value))
        elif isinstance(node, cst.StarredDictElement) and isinstance(node.value, cst.Name) and node.value.value == name:
            seen.add(id(node.value))
    return definitions == 1 and all(id(r) in seen for r in refs)


def kwargs_may_hold_timeout(call: cst.Call, ctx: Context) -> bool:
    """``unless`` hook of TMO101's ``**kwargs`` alternative: True (no finding) unless the call
    forwards ``**`` dicts only, each a dict display or ``dict(...)`` written inline or bound in the
    same function, that never get a ``timeout`` key (``kwargs = {"headers": h};
    requests.get(url, **kwargs)``). A parameter, an attribute, a call result or a dict handed to
    other code may carry a timeout: vetoed. So is a timeout set elsewhere (see
    ``timeout_set_elsewhere``)."""
    forwarded = [a.value for a in call.args if a.star == "**"]
    if not forwarded or any(a.keyword is not None and a.keyword.value == "timeout" for a in call.args):
        return True  # nothing forwarded (the plain alternative's case) or an explicit timeout
    function = _enclosing_function(call, ctx)
    for value in forwarded:
        if isinstance(value, cst.Name):
            if function is None or not _local_dict_without(function, value.value, "timeout", ctx):
                return True
        elif not _dict_without(value, "timeout", ctx):
            return True
    return timeout_set_elsewhere(call, ctx)


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


# --------------------------------------------------------------------------- database and broker clients


def _module_text(ctx: Context) -> str:
    """The module's source as the analyzer parsed it. In a large file, definitions that mention
    no rule's names may have been blanked: a veto that reads this text can miss evidence there
    (``params.blocked_connection_timeout = 300`` in an unrelated helper), and the call is then
    reported."""
    return ctx.source


_MONGO_OPTION = re.compile(r"(?i)\b(?:socket)?timeoutms\b")
_MONGO_URI_OPTION = re.compile(r"(?i)[?&;](?:socket)?timeoutms=")


def mongo_timeout_given(call: cst.Call, ctx: Context) -> bool:
    """``unless`` hook of TMO112's MongoDB alternative: ``socketTimeoutMS`` or ``timeoutMS`` is
    given as a keyword in any spelling (PyMongo's options are case-insensitive), written into the
    host URI (``...?socketTimeoutMS=5000``, an f-string or a concatenation that names it), or a
    URI in the same module carries it. ``**options`` may hold it too."""
    for a in call.args:
        if a.star:
            return True
        if a.keyword is not None and a.keyword.value.lower() in ("sockettimeoutms", "timeoutms"):
            return True
    _, host = find_arg(call, "host", 0)
    if host is not None and _MONGO_OPTION.search(ctx.code(host)):
        return True
    return _MONGO_URI_OPTION.search(_module_text(ctx)) is not None


def _engine_passes(call: cst.Call, ctx: Context, key: str) -> bool:
    """A SQLAlchemy engine whose DBAPI connections may get ``key``: through ``connect_args``
    unless that is a dict (inline, or bound once in the same function) seen to lack the key,
    through ``**kwargs``, or because a ``creator``/``async_creator`` makes the connections."""
    for a in call.args:
        if a.star:
            return True
        if a.keyword is not None and a.keyword.value in ("creator", "async_creator"):
            return True
    _, args = find_arg(call, "connect_args", None)
    if args is None:
        return False
    if isinstance(args, cst.Name):
        function = _enclosing_function(call, ctx)
        return function is None or not _local_dict_without(function, args.value, key, ctx, passed=args)
    return not _dict_without(args, key, ctx)


def engine_connect_timeout_given(call: cst.Call, ctx: Context) -> bool:
    """``unless`` hook of TMO113 (libpq drivers): ``connect_timeout`` may reach the driver."""
    return _engine_passes(call, ctx, "connect_timeout")


def engine_command_timeout_given(call: cst.Call, ctx: Context) -> bool:
    """``unless`` hook of TMO113 (asyncpg): ``command_timeout`` may reach the driver."""
    return _engine_passes(call, ctx, "command_timeout")


def engine_read_timeout_given(call: cst.Call, ctx: Context) -> bool:
    """``unless`` hook of TMO113 (PyMySQL): ``read_timeout`` may reach the driver."""
    return _engine_passes(call, ctx, "read_timeout")


_PUBLISHES = re.compile(r"\.basic_publish\s*\(")


def rabbitmq_not_blocked(call: cst.Call, ctx: Context) -> bool:
    """``unless`` hook of TMO114: RabbitMQ blocks only connections that publish, so a module that
    never calls ``basic_publish`` (a consumer) is not reported; nor is one that sets
    ``blocked_connection_timeout`` anywhere (``params.blocked_connection_timeout = 300`` after
    building the parameters, or in a URL)."""
    text = _module_text(ctx)
    return _PUBLISHES.search(text) is None or "blocked_connection_timeout" in text
