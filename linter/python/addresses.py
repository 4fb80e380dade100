"""Addresses written in Python code: ``"host:port"`` targets, URLs, loopback hosts.

Shared by the matcher's vetoes (``evidence.py``), its ``host`` condition (``targets.py``) and
the port (PRT1xx) visitors. A string argument is read as a *template*: literal text is kept, every interpolated part (f-string field, ``+`` operand,
``%``/``.format`` argument) becomes :data:`HOLE`, so ``f"http://{host}:8080/"`` still shows a
literal port and ``f"{host}:{port}"`` shows none.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

import libcst as cst

HOLE = "\x00"  # stands for a part of the string only known at run time


def template(node: cst.BaseExpression | None, depth: int = 0) -> str | None:
    """The string an expression builds, with :data:`HOLE` for the unknown parts; None if not a string."""
    if node is None or depth > 20:
        return None
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left, right = template(node.left, depth + 1), template(node.right, depth + 1)
        return None if left is None or right is None else left + right
    if isinstance(node, cst.FormattedString):
        out = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                out.append(part.value.replace("{{", "{").replace("}}", "}"))
            else:
                out.append(HOLE)
        return "".join(out)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        left, right = template(node.left, depth + 1), template(node.right, depth + 1)
        if left is None and right is None:
            return None
        return (left if left is not None else HOLE) + (right if right is not None else HOLE)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo):
        left = template(node.left, depth + 1)
        return re.sub(r"%[-#0 +]*\d*(?:\.\d+)?[sdirfx]", HOLE, left) if left is not None else None
    if (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "format"
    ):
        base = template(node.func.value, depth + 1)
        return re.sub(r"\{[^{}]*\}", HOLE, base) if base is not None else None
    return None


_PORT = re.compile(r"^[0-9]{1,5}$")


@dataclass(frozen=True, slots=True)
class HostPort:
    host: str  # may contain HOLE
    port: int | None  # a literal port, or None when absent or not literal


def split_host_port(text: str) -> HostPort | None:
    """``"host:port"``, ``"[::1]:50051"``, ``"dns:///host:443"``, ``"unix:..."`` (no port)."""
    t = text.strip()
    for scheme in ("dns:///", "dns://", "ipv4:", "ipv6:"):
        if t.startswith(scheme):
            t = t[len(scheme) :]
            if "/" in t and scheme == "dns://":
                t = t.split("/", 1)[1]
            break
    if t.startswith(("unix:", "unix-abstract:", "vsock:")):
        return HostPort(t, None)
    if t.startswith("["):
        end = t.find("]")
        if end < 0:
            return None
        host, rest = t[1:end], t[end + 1 :]
        if not rest:
            return HostPort(host, None)
        if not rest.startswith(":"):
            return None
        port = rest[1:]
    else:
        if t.count(":") > 1:  # a bare IPv6 address without brackets
            return HostPort(t, None)
        host, sep, port = t.rpartition(":")
        if not sep:
            return HostPort(t, None)
    if not _PORT.match(port):
        return HostPort(host, None)
    return HostPort(host, int(port))


_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://(?P<netloc>[^/?#]*)")


def url_host_port(text: str) -> HostPort | None:
    """Host and literal port of a URL template; None when the text is not a URL."""
    m = _URL.match(text)
    if not m:
        return None
    netloc = m.group("netloc")
    if "@" in netloc:
        netloc = netloc.rsplit("@", 1)[1]
    if "," in netloc:  # multi-host DSN (postgresql://a:1,b:2/db)
        netloc = netloc.split(",", 1)[0]
    return split_host_port(netloc)


_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def is_loopback(host: str) -> bool:
    h = host.strip().strip("[]").lower()
    if HOLE in h or not h:
        return False
    if h in _LOOPBACK_NAMES or h.endswith(".localhost") or h.startswith(("unix:", "unix-abstract:")):
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def is_all_interfaces(host: str) -> bool:
    h = host.strip().strip("[]")
    return h in ("0.0.0.0", "::", "*", "")


def arg_value(call: cst.Call, keyword: str | None, position: int | None) -> cst.BaseExpression | None:
    """The argument passed as ``keyword=`` or at ``position`` (None if absent or hidden in ``*args``)."""
    positional = 0
    star = False
    for a in call.args:
        if a.star:
            star = star or a.star == "*"
            continue
        if a.keyword is not None:
            if keyword is not None and a.keyword.value == keyword:
                return a.value
            continue
        if position is not None and positional == position and not star:
            return a.value
        positional += 1
    return None
