"""Addresses, environment writes and name globs for the declarative Python matcher.

Three parts of the rule vocabulary (``docs/writing-rules.md``, "Python: declarative first"):

- the ``host`` condition: the argument is an address (``"host:port"`` text or a gRPC target,
  a literal or a template) whose host is of one of the listed kinds (:data:`HOST_KINDS`); a
  condition that holds fills the ``{host}``, ``{address}`` and ``{source}`` placeholders;
- the ``env-write`` alternative: a write to a process environment variable
  (``os.environ[...] =``, ``os.environ.setdefault``/``update``, ``os.putenv``), its value read by
  ``value: true`` conditions;
- globs in call patterns: ``*`` is one or more characters of a name
  (``*_pb2_grpc.*Stub().*``), a leading ``**.`` any dotted prefix (``orders.v1.``).

This module imports nothing of the analyzer at run time (the analyzer imports it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import libcst as cst

from linter.python.addresses import HOLE, HostPort, arg_value, is_all_interfaces, is_loopback, split_host_port, template

# --------------------------------------------------------------------------- addresses

#: what the host of an address argument may be (each host is exactly one of them)
HOST_KINDS = ("run-time", "loopback", "empty", "all-interfaces", "other")

# target schemes `split_host_port` reads itself; any other `scheme://authority/name`
# (`xds:///orders:50051`) names its host after the authority
_KNOWN_SCHEMES = frozenset({"dns", "unix", "unix-abstract", "vsock", "ipv4", "ipv6"})
_URI_TARGET = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://[^/]*/(.*)$", re.S)


def _target_text(text: str) -> str:
    m = _URI_TARGET.match(text.strip())
    if m and m.group(1).lower() not in _KNOWN_SCHEMES:
        return m.group(2)
    return text


def address(node: cst.BaseExpression | None) -> tuple[str, HostPort] | None:
    """The text (with :data:`HOLE` for run-time parts) and host/port an argument writes; None
    when it is no string or no address."""
    text = template(node)
    if text is None:
        return None
    hp = split_host_port(_target_text(text))
    return None if hp is None else (text, hp)


def host_kind(host: str) -> str:
    """The kind (:data:`HOST_KINDS`) of the host part of an address."""
    if HOLE in host:
        return "run-time"
    if is_loopback(host):
        return "loopback"
    if not host.strip():
        return "empty"
    if is_all_interfaces(host.strip()):
        return "all-interfaces"
    return "other"


def host_is(node: cst.BaseExpression | None, kinds: frozenset[str]) -> bool:
    """The ``host`` condition: the argument is an address whose host is of one of ``kinds``."""
    found = address(node)
    return found is not None and host_kind(found[1].host) in kinds


def one_line(code: str, limit: int = 60) -> str:
    """Source text for a message: one line, shortened, without backquotes."""
    flat = " ".join(code.split()).replace("`", "'")
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def address_fields(node: cst.BaseExpression, code: Callable[[cst.CSTNode], str]) -> dict[str, str]:
    """The placeholders a ``host`` condition fills: ``host`` (as written), ``address`` (the text,
    ``{...}`` for run-time parts), ``source`` (the argument's source on one line); the finding is
    identified by the address (``qualname``)."""
    found = address(node)
    if found is None:
        return {}
    text, hp = found
    shown = text.replace(HOLE, "{...}")
    return {"host": hp.host.strip(), "address": shown, "source": one_line(code(node)), "qualname": shown}


# --------------------------------------------------------------------------- environment writes

_ENVIRON = frozenset({"os.environ", "os.environb"})


def _string(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _is_environ(node: cst.BaseExpression, resolve: Callable[[cst.BaseExpression], str | None]) -> bool:
    return isinstance(node, (cst.Name, cst.Attribute)) and resolve(node) in _ENVIRON


Write = tuple[str, cst.CSTNode, cst.BaseExpression]  # (variable, the key as written, the value)


def assigned_environment(node: cst.Assign, resolve: Callable[[cst.BaseExpression], str | None]) -> Iterator[Write]:
    """``os.environ["KEY"] = value`` (once per such target of the statement)."""
    for target in node.targets:
        t = target.target
        if isinstance(t, cst.Subscript) and _is_environ(t.value, resolve) and len(t.slice) == 1:
            index = t.slice[0].slice
            if isinstance(index, cst.Index):
                key = _string(index.value)
                if key is not None:
                    yield key, index.value, node.value


def called_environment(node: cst.Call, resolve: Callable[[cst.BaseExpression], str | None]) -> Iterator[Write]:
    """``os.putenv(KEY, value)``, ``os.environ.setdefault(KEY, value)`` (and ``__setitem__``),
    ``os.environ.update({KEY: value}, KEY=value)``: the writes whose key is written literally."""
    func = node.func
    pair = False
    if isinstance(func, cst.Name):
        pair = resolve(func) == "os.putenv"
    elif isinstance(func, cst.Attribute):
        name = func.attr.value
        if name in ("setdefault", "__setitem__"):
            pair = _is_environ(func.value, resolve)
        elif name == "putenv":
            pair = resolve(func) == "os.putenv"
        elif name == "update" and _is_environ(func.value, resolve):
            for a in node.args:
                if a.keyword is not None:
                    yield a.keyword.value, a.keyword, a.value
                elif not a.star and isinstance(a.value, cst.Dict):
                    for el in a.value.elements:
                        if isinstance(el, cst.DictElement):
                            key = _string(el.key)
                            if key is not None:
                                yield key, el.key, el.value
    if pair:
        key_node, value = arg_value(node, None, 0), arg_value(node, None, 1)
        key = _string(key_node)
        if key is not None and key_node is not None and value is not None:
            yield key, key_node, value


def as_assignment(value: cst.BaseExpression) -> cst.Assign:
    """An environment write seen as the assignment of its value (what ``value: true`` reads)."""
    return cst.Assign(targets=(cst.AssignTarget(target=cst.Name("environ")),), value=value)


# --------------------------------------------------------------------------- globs


def is_glob(pattern: str) -> bool:
    """A pattern with ``*`` anywhere but as the whole receiver of ``*.attr``."""
    if pattern.startswith("*.") and "*" not in pattern[2:]:
        return False
    return "*" in pattern


def glob_regex(pattern: str) -> re.Pattern[str]:
    """``**.`` at the start: any dotted prefix (or none); ``*``: one or more name characters."""
    prefix = ""
    if pattern.startswith("**."):
        prefix, pattern = r"(?:.*\.)?", pattern[3:]
    body = "".join(r"\w+" if part == "*" else re.escape(part) for part in re.split(r"(\*)", pattern))
    return re.compile(prefix + body + r"\Z", re.S)


def glob_words(pattern: str) -> str:
    """The longest name part a glob spells out: a file that can match it contains it."""
    parts = [p for p in re.split(r"[*.()]+", pattern) if p]
    return max(parts, key=len) if parts else ""
