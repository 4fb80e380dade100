"""Hooks of the timeouts pack's client-library rules (botocore TMO115, websockets TMO116, confluent-kafka TMO117)."""

from __future__ import annotations

import re

import libcst as cst

from linter.python.hooks.addresses import is_loopback, template, url_host_port
from linter.python.hooks.timeouts import _enclosing_function, _module_text, _string_key
from linter.python.analyzer import Context, find_arg

# --------------------------------------------------------------------------- websockets (TMO116)

# What a module does when it watches the connection itself: application-level pings or a
# heartbeat task, or a receive bounded by a timeout (`asyncio.wait_for(ws.recv(), 30)`,
# `async with asyncio.timeout(...)`, the threading client's `recv(timeout=...)`).
_OWN_LIVENESS = re.compile(
    r"\.ping\s*\(|\w*heartbeat\w*\s*\(|\bwait_for\s*\(|\btimeout\s*\(|\btimeout_at\s*\(|\.recv\s*\(\s*(?:timeout\s*=|\d)"
)


def _is_loopback_url(node: cst.BaseExpression | None) -> bool:
    text = template(node)
    hp = url_host_port(text) if text is not None else None
    return hp is not None and is_loopback(hp.host)


def _loopback_uri(call: cst.Call, ctx: Context) -> bool:
    """The URI (first argument) names this host: a literal or f-string, or a name that the module
    binds to one (``DAEMON = "ws://127.0.0.1:8377"``). A peer on the same host cannot vanish
    without the kernel closing the socket."""
    _, uri = find_arg(call, "uri", 0)
    if uri is None:
        return False
    if _is_loopback_url(uri):
        return True
    if not isinstance(uri, cst.Name):
        return False
    stack: list[cst.CSTNode] = [ctx.module]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if isinstance(node, (cst.Assign, cst.AnnAssign)) and node.value is not None:
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            if any(isinstance(t, cst.Name) and t.value == uri.value for t in targets) and _is_loopback_url(node.value):
                return True
    return False


def websocket_liveness_handled(call: cst.Call, ctx: Context) -> bool:
    """``unless`` hook of TMO116's ``ping_interval=None`` alternative: the module watches the
    connection some other way -- it sends its own pings or runs a heartbeat, or it bounds its
    receives with a timeout -- so turning the library's keepalive off is a choice, not a hole. A
    client of a ``ws://localhost``/``127.0.0.1`` URI is not reported either: a connection to this
    host does not drop silently."""
    return _OWN_LIVENESS.search(_module_text(ctx)) is not None or _loopback_uri(call, ctx)


# --------------------------------------------------------------------------- confluent-kafka (TMO117)

_MESSAGE_TIMEOUT_KEYS = frozenset({"message.timeout.ms", "delivery.timeout.ms"})
_TRANSACTIONAL = "transactional.id"


def _is_zero(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Integer):
        return node.evaluated_value == 0
    return _string_key(node) in ("0",)


def _entries(value: cst.BaseExpression) -> list[tuple[str | None, cst.BaseExpression]]:
    """The (key, value) pairs of a dict display (``None`` for a key that is not a literal string)."""
    if not isinstance(value, cst.Dict):
        return []
    return [(_string_key(el.key), el.value) for el in value.elements if isinstance(el, cst.DictElement)]


def _scope_pairs(scope: cst.CSTNode, name: str) -> list[tuple[str | None, cst.BaseExpression]]:
    """Every key written to the dict ``name`` in ``scope`` that we can see: ``name = {...}``,
    ``name["key"] = value`` and ``name.update({...})``. Nested functions and classes are not
    searched (they bind their own names)."""
    pairs: list[tuple[str | None, cst.BaseExpression]] = []
    stack: list[cst.CSTNode] = list(scope.children)
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        stack.extend(node.children)
        if isinstance(node, (cst.Assign, cst.AnnAssign)):
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            for target in targets:
                if isinstance(target, cst.Name) and target.value == name and node.value is not None:
                    pairs.extend(_entries(node.value))
                elif (
                    isinstance(target, cst.Subscript)
                    and isinstance(target.value, cst.Name)
                    and target.value.value == name
                    and len(target.slice) == 1
                    and isinstance(target.slice[0].slice, cst.Index)
                    and node.value is not None
                ):
                    pairs.append((_string_key(target.slice[0].slice.value), node.value))
        elif (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and node.func.attr.value == "update"
            and isinstance(node.func.value, cst.Name)
            and node.func.value.value == name
        ):
            for a in node.args:
                if a.keyword is None and not a.star:
                    pairs.extend(_entries(a.value))
    return pairs


def kafka_message_timeout_bounded(call: cst.Call, ctx: Context) -> bool:
    """``unless`` hook of TMO117: True (no finding) unless the producer's configuration dict --
    written inline, or a name bound to a dict display in the same function (or at module level
    for a module-level call) -- sets ``message.timeout.ms`` or its alias ``delivery.timeout.ms``
    to ``0``, librdkafka's "infinite". A configuration with ``transactional.id`` is left alone
    (librdkafka then adjusts the message timeout to ``transaction.timeout.ms``), and so is a
    configuration we cannot see (a parameter, a call result, settings)."""
    state, config = find_arg(call, "config", 0)
    if state != "present" or config is None:
        return True
    if isinstance(config, cst.Dict):
        pairs = _entries(config)
    elif isinstance(config, cst.Name):
        function = _enclosing_function(call, ctx)
        if isinstance(function, cst.Lambda):
            return True
        pairs = _scope_pairs(function.body if function is not None else ctx.module, config.value)
    else:
        return True
    if any(key == _TRANSACTIONAL for key, _ in pairs):
        return True
    return not any(key in _MESSAGE_TIMEOUT_KEYS and _is_zero(value) for key, value in pairs)


# --------------------------------------------------------------------------- botocore (TMO115)

_NEPTUNE_DATA = re.compile(r"""["']neptunedata["']""")


def botocore_read_timeout_documented(call: cst.Call, ctx: Context) -> bool:
    """``unless`` hook of TMO115: AWS's Neptune documentation builds its ``neptunedata`` clients
    with ``Config(read_timeout=None, retries={"total_max_attempts": 1})`` on purpose, so that
    Neptune's server-side query timeout, not the client, bounds a query. A module that creates a
    ``neptunedata`` client follows that advice and is not reported."""
    return _NEPTUNE_DATA.search(_module_text(ctx)) is not None
