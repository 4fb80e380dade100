"""TLS checks the declarative vocabulary cannot say (TLS1xx visitors)."""

from __future__ import annotations

import re

import libcst as cst

from linter.python.analyzer import Visitor, literal
from linter.python.addresses import HOLE, arg_value, is_all_interfaces, is_loopback, split_host_port, template

# --------------------------------------------------------------------------- TLS110

_CHANNELS = frozenset({"grpc.insecure_channel", "grpc.aio.insecure_channel"})
# target schemes `split_host_port` reads itself; any other `scheme://authority/name` (`xds:///orders:50051`)
# names its host after the authority
_KNOWN_SCHEMES = frozenset({"dns", "unix", "unix-abstract", "vsock", "ipv4", "ipv6"})
_URI_TARGET = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://[^/]*/(.*)$", re.S)


def _target_text(text: str) -> str:
    m = _URI_TARGET.match(text.strip())
    if m and m.group(1).lower() not in _KNOWN_SCHEMES:
        return m.group(2)
    return text


class GrpcPlaintext(Visitor):
    """TLS110: ``grpc.insecure_channel`` / ``server.add_insecure_port`` with a literal target that is
    not a loopback address or a unix socket. Targets only known at run time are left alone; a
    target whose text gives no host (``f":{port}"``) is named by its source text."""

    TRIGGERS = ("insecure_channel", "add_insecure_port")
    LOCAL = True  # its findings lie in statements that hold its triggers

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "add_insecure_port":
            value = arg_value(node, "address", 0)
            server = True
        elif isinstance(func, (cst.Name, cst.Attribute)) and self.resolve(func) in _CHANNELS:
            value = arg_value(node, "target", 0)
            server = False
        else:
            return
        text = template(value)
        if value is None or text is None:
            return
        hp = split_host_port(_target_text(text))
        if hp is None or HOLE in hp.host or is_loopback(hp.host):
            return
        callee = self.context.code(func)
        host = hp.host.strip()
        if server:
            where = "every interface" if is_all_interfaces(host) else f"`{host}`"
            message = f"`{callee}` serves plaintext gRPC on {where}: use `add_secure_port` with server credentials"
        else:
            # no host in the text: name the target by its source, never as an empty ``
            where = f"`{host}`" if host else f"the target `{_one_line(self.context.code(value))}`"
            message = f"`{callee}` sends plaintext gRPC to {where}: use `grpc.secure_channel` with channel credentials"
        self.report(node, message=message, callee=callee, qualname=text.replace(HOLE, "{...}"))


def _one_line(code: str, limit: int = 60) -> str:
    """Source text for a message: one line, shortened, without backquotes."""
    flat = " ".join(code.split()).replace("`", "'")
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


# --------------------------------------------------------------------------- TLS114

# environment variable -> the values that turn verification off, and why
_ENV = {
    "PYTHONHTTPSVERIFY": ({"0"}, "`PYTHONHTTPSVERIFY=0` turns HTTPS certificate verification off in interpreters that honour it (PEP 493)"),
    "CURL_CA_BUNDLE": ({""}, "an empty `CURL_CA_BUNDLE` turns certificate verification off in requests before 2.28 (and is a known way to do so)"),
    "REQUESTS_CA_BUNDLE": ({""}, "an empty `REQUESTS_CA_BUNDLE` is set to defeat the CA bundle requests verifies against"),
}


def _string(node: cst.BaseExpression | None) -> str | None:
    if node is None:
        return None
    ok, value = literal(node)
    return value if ok and isinstance(value, str) else None


class VerificationDisabledByEnvironment(Visitor):
    """TLS114: environment writes that turn certificate verification off:
    ``os.environ["PYTHONHTTPSVERIFY"] = "0"``, an empty ``CURL_CA_BUNDLE``/``REQUESTS_CA_BUNDLE``,
    through ``os.environ[...] =``, ``os.environ.setdefault``, ``os.environ.update`` or ``os.putenv``."""

    TRIGGERS = ("PYTHONHTTPSVERIFY", "CA_BUNDLE")
    LOCAL = True  # its findings lie in statements that hold its triggers

    def _check(self, report: cst.CSTNode, key: str | None, value: cst.BaseExpression | None) -> None:
        if key is None:
            return
        spec = _ENV.get(key)
        text = _string(value)
        if spec is not None and text is not None and text.strip() in spec[0]:
            self.report(report, message=spec[1], name=key, qualname=key)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            t = target.target
            if isinstance(t, cst.Subscript) and self._is_environ(t.value) and len(t.slice) == 1:
                index = t.slice[0].slice
                if isinstance(index, cst.Index):
                    self._check(node, _string(index.value), node.value)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Name):
            if self.resolve(func) == "os.putenv":
                self._check(node, _string(arg_value(node, None, 0)), arg_value(node, None, 1))
            return
        if not isinstance(func, cst.Attribute):
            return
        name = func.attr.value
        if name in ("setdefault", "__setitem__") and self._is_environ(func.value):
            self._check(node, _string(arg_value(node, None, 0)), arg_value(node, None, 1))
        elif name == "putenv" and self.resolve(func) == "os.putenv":
            self._check(node, _string(arg_value(node, None, 0)), arg_value(node, None, 1))
        elif name == "update" and self._is_environ(func.value):
            for a in node.args:
                if a.keyword is not None:
                    self._check(node, a.keyword.value, a.value)
                elif not a.star and isinstance(a.value, cst.Dict):
                    for el in a.value.elements:
                        if isinstance(el, cst.DictElement):
                            self._check(node, _string(el.key), el.value)

    def _is_environ(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, (cst.Name, cst.Attribute)) and self.resolve(node) in ("os.environ", "os.environb")
